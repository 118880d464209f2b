/**
 * A node's writes, until it is killed: restores the cell from the ledger,
 * then loops adding inputs to the mempool (one durable transaction each),
 * committing blocks built from the pending inputs (some of 600 inputs, so a
 * kill often lands inside a commit), and saving signer records. After each
 * write RETURNS it prints what was acknowledged on stdout (writes to a pipe
 * are synchronous on Linux, Node's process.stdout documentation: the parent
 * has the line even if the next instant is a SIGKILL):
 *   ready <height> <stateRoot>
 *   ack <input id>
 *   commit <height> <valueId>
 *   signed <height> <round> <step>
 *
 * Run: node --import tsx crash-child.ts <ledger file> <run number>
 */
import type { Json } from "../../../runtime/core/canonical.js";
import type { SignedRecord } from "../../../runtime/consensus/index.js";
import { openLedger } from "../../../runtime/ledger/index.js";
import { certify, ChainBuilder } from "../../unit/ledger/helpers.js";

const [file, runArg] = process.argv.slice(2);
const run = Number(runArg);
const say = (line: string) => process.stdout.write(`${line}\n`);

const ledger = openLedger(file, { snapshotMaxBytes: 256, snapshotEvery: 3 });
const cell = ledger.cell("t", "c");
const builder = new ChainBuilder();
const { chain, start } = cell.restart(builder.app);
let state = chain;
let prevHash = start.prevHash;
say(`ready ${state.height} ${state.stateRoot}`);

let signer = cell.signer.load();
let n = 0;
const input = (pad: number): Json => ({ id: `r${run}-${n++}`, n: n % 60, pad: "p".repeat(pad) });

function commitPending(max: number): void {
  const pending = cell.mempool.pending(max).map((p) => p.submission);
  const height = state.height + 1;
  const value = builder.app.buildValue({ height, round: 0, prevHash, time: Math.max(Date.now(), state.time + 1), state, pending });
  const valueId = builder.app.valueId(value);
  const next = builder.app.applyValue(state, value);
  cell.commit({ block: { height, value, certificate: certify("t", "c", height, valueId) }, state: next, verdicts: builder.app.verdictsOf(value) });
  say(`commit ${height} ${valueId}`);
  state = next;
  prevHash = valueId;
}

function sign(): void {
  const height = state.height + 1;
  const after = signer === null || signer.height < height ? { round: 0, step: 0 } : signer.step < 2 ? { round: signer.round, step: signer.step + 1 } : { round: signer.round + 1, step: 0 };
  const record: SignedRecord = {
    height,
    round: after.round,
    step: after.step as 0 | 1 | 2,
    valueId: null,
    message: { type: "prevote", channel: "t", cell: "c", height, round: after.round, valueId: null, validator: "a".repeat(64), signature: "b".repeat(128) },
  };
  cell.signer.save(record);
  say(`signed ${record.height} ${record.round} ${record.step}`);
  signer = record;
}

for (let i = 0; ; i++) {
  for (let k = 0; k < 5; k++) {
    const r = cell.mempool.add(input(40), Date.now());
    if (r.status !== "refused") say(`ack ${r.id}`);
  }
  sign();
  if (i % 4 === 3) {
    // A large block: a batch of 600 inputs added in one transaction, then committed in one.
    const answers = cell.mempool.addMany(Array.from({ length: 600 }, () => ({ submission: input(120), time: Date.now() })));
    for (const r of answers) if (r.status !== "refused") say(`ack ${r.id}`);
    commitPending(1000);
  } else if (i % 2 === 1) {
    commitPending(20);
  }
}
