/**
 * The SQLite ledger on this machine's disk (synchronous=FULL, WAL journal):
 * - block commits of 1,000 inputs each (block, certificate, verdicts, ~860
 *   records, 1,000 input statuses, head, snapshot when due, WAL truncation:
 *   one transaction), as commits/s and rows/s; once with the inputs pending in
 *   the node's mempool (a proposer's block, ids known), once with inputs first
 *   seen in the block (a validator's, ids computed from canonical bytes);
 * - mempool adds/s, one durable transaction each, and in batches of 100;
 * - signer saves/s (one durable transaction each).
 * Blocks are built and executed before the clock starts. Figures only, no target.
 *
 * Run: npm run bench -- ledger   (BENCH_BLOCKS=n for more blocks)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Json } from "../runtime/core/canonical.js";
import { requireChannel } from "../runtime/definition/index.js";
import { cellApplication, genesisCellChain, GENESIS_HASH, type CellChainState, type SignedRecord } from "../runtime/consensus/index.js";
import { openLedger, type BlockCommit } from "../runtime/ledger/index.js";

const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 20);
const PER_BLOCK = 1_000;
const ADDS = 1_000;
const SAVES = 1_000;

const plan = requireChannel(
  `
channel: bench
version: 1
groups:
  g: { validators: [a, b, c, d], threshold: 3 }
cells:
  c:
    group: g
    accepts:
      type: object
      required: [id, n, pad]
      properties: { id: { type: string }, n: { type: integer }, pad: { type: string } }
    key: { var: data.id }
    rules:
      - name: small
        require: { "<=": [ { var: data.n }, 50 ] }
    state:
      - add: count
        value: 1
`,
  { file: "bench/ledger.yaml" },
);

/** A submission as a client sends it (`{ data }`): the form the mempool stores and a block carries. */
const input = (k: number): Json => ({ data: { id: `sensor-${k}`, n: k % 7 === 3 ? 99 : k % 50, pad: "x".repeat(200) } });

/** Builds `n` blocks of PER_BLOCK inputs each, as a node would commit them after deciding. */
function buildBlocks(n: number, offset: number): { commits: BlockCommit[]; inputs: Json[][] } {
  const app = cellApplication(plan, "c");
  let chain: CellChainState = genesisCellChain();
  let prevHash = GENESIS_HASH;
  const commits: BlockCommit[] = [];
  const inputs: Json[][] = [];
  for (let h = 1; h <= n; h++) {
    const pending = Array.from({ length: PER_BLOCK }, (_, i) => input(offset + h * PER_BLOCK + i));
    const value = app.buildValue({ height: h, round: 0, prevHash, time: 1_700_000_000_000 + h, state: chain, pending });
    const valueId = app.valueId(value);
    chain = app.applyValue(chain, value);
    commits.push({
      block: { height: h, value, certificate: { channel: "bench", cell: "c", height: h, round: 0, valueId, signatures: [{ validator: "a".repeat(64), signature: "b".repeat(128) }] } },
      state: chain,
      verdicts: app.verdictsOf(value),
    });
    // A bench of empty blocks measures nothing: every input must be in the block (1 in 7 refused by the rule).
    if ((value as { inputs: Json[] }).inputs.length !== PER_BLOCK) throw new Error(`block ${h} carries ${(value as { inputs: Json[] }).inputs.length} of ${PER_BLOCK} inputs`);
    inputs.push(pending);
    prevHash = valueId;
  }
  return { commits, inputs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const dir = mkdtempSync(join(tmpdir(), "bench-ledger-"));
try {
  console.log(`ledger on ${dir} (synchronous=FULL, WAL journal), ${BLOCKS} blocks of ${PER_BLOCK} inputs`);

  for (const mode of ["validator", "proposer"] as const) {
    const { commits, inputs } = buildBlocks(BLOCKS, mode === "proposer" ? 10_000_000 : 0);
    const ledger = openLedger(join(dir, `${mode}.db`), { mempoolMaxInputs: PER_BLOCK * 2 });
    const cell = ledger.cell("bench", "c");
    const ms: number[] = [];
    let rows = 0;
    for (let i = 0; i < commits.length; i++) {
      let c = commits[i];
      if (mode === "proposer") {
        // The block carries the very objects the mempool handed out (their ids are known).
        cell.mempool.addMany(inputs[i].map((submission) => ({ submission, time: 1 })));
        const pending = cell.mempool.pending(PER_BLOCK).map((p) => p.submission);
        const value = c.block.value as { inputs: Json[] };
        c = { ...c, block: { ...c.block, value: { ...value, inputs: pending } as unknown as Json } };
      }
      const t = performance.now();
      const r = cell.commit(c);
      ms.push(performance.now() - t);
      // block + records + input statuses + head (+ snapshot)
      rows += 1 + r.records + PER_BLOCK + 1 + (r.snapshot ? 1 : 0);
    }
    const total = ms.reduce((a, b) => a + b, 0);
    console.log(
      `  commit of a 1,000-input block (${mode}: ${mode === "proposer" ? "inputs pending in the mempool" : "inputs first seen in the block"}): ` +
        `median ${median(ms).toFixed(1)} ms, ${Math.round((commits.length / total) * 1000)} commits/s, ${Math.round((rows / total) * 1000).toLocaleString("en-US")} rows/s`,
    );
    ledger.close();
  }

  {
    const ledger = openLedger(join(dir, "mempool.db"), { mempoolMaxInputs: ADDS * 200 });
    const cell = ledger.cell("bench", "c");
    let t = performance.now();
    for (let i = 0; i < ADDS; i++) cell.mempool.add(input(i), i);
    const single = performance.now() - t;
    t = performance.now();
    for (let b = 0; b < ADDS; b += 1) {
      const batch = Array.from({ length: 100 }, (_, i) => ({ submission: input(1_000_000 + b * 100 + i), time: b }));
      cell.mempool.addMany(batch);
      if (b >= 99) break;
    }
    const batched = performance.now() - t;
    console.log(`  mempool add, one durable transaction each: ${Math.round((ADDS / single) * 1000).toLocaleString("en-US")} adds/s (${((single / ADDS) * 1000).toFixed(0)} us each)`);
    console.log(`  mempool addMany, batches of 100: ${Math.round((10_000 / batched) * 1000).toLocaleString("en-US")} adds/s`);
    ledger.close();
  }

  {
    const ledger = openLedger(join(dir, "signer.db"));
    const cell = ledger.cell("bench", "c");
    const message = { type: "prevote" as const, channel: "bench", cell: "c", height: 0, round: 0, valueId: null, validator: "a".repeat(64), signature: "b".repeat(128) };
    const t = performance.now();
    for (let i = 0; i < SAVES; i++) {
      const record: SignedRecord = { height: 1 + Math.floor(i / 3), round: 0, step: (i % 3) as 0 | 1 | 2, valueId: null, message: { ...message, height: 1 + Math.floor(i / 3) } };
      cell.signer.save(record);
    }
    const ms = performance.now() - t;
    console.log(`  signer save (synchronous=FULL): ${Math.round((SAVES / ms) * 1000).toLocaleString("en-US")} saves/s (${((ms / SAVES) * 1000).toFixed(0)} us each)`);
    ledger.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
