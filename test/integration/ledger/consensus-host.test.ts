/**
 * The ledger as the storage of consensus nodes: four validators in one
 * process, each with its own ledger file, each running the consensus step
 * with the cell as its application. The host below executes the effects as a
 * node would: `persist` into the ledger's signer store before anything after
 * it, `wal` into its WAL, `decide` as a block commit, `request-catchup`
 * answered from a peer's ledger (`blocks`). One node is stopped mid-run and
 * started again from its ledger (`restart` + consensus `restore`): it catches
 * up, signs nothing that conflicts with what it signed before, and ends with
 * the same chain as the others.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import {
  cachingVerifier,
  cellApplication,
  restore,
  step,
  validatorSet,
  type CellApplication,
  type CellChainState,
  type ConsensusConfig,
  type ConsensusEffect,
  type ConsensusEvent,
  type ConsensusState,
  type SignedRecord,
} from "../../../runtime/consensus/index.js";
import { inputId, openLedger, type CellLedger, type Ledger } from "../../../runtime/ledger/index.js";
import { inputs, keyedPlan, T0, tempDir } from "../../unit/ledger/helpers.js";

const TIMEOUTS = { propose: { base: 300, delta: 100 }, prevote: { base: 100, delta: 50 }, precommit: { base: 100, delta: 50 }, commit: 10 };

interface Node {
  name: string;
  file: string;
  ledger: Ledger | null;
  cell: CellLedger | null;
  state: ConsensusState<CellChainState> | null;
  config: ConsensusConfig<CellChainState> | null;
  app: CellApplication | null;
  /** Every signer record this node's store accepted, in order (across restarts). */
  signed: SignedRecord[];
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir("ledger-consensus-");
});
afterEach(() => dir.cleanup());

describe("four consensus nodes on ledgers, one restarted from its ledger", () => {
  it("decide the same blocks; the restarted node catches up from a peer's ledger and never signs against its record", () => {
    const plan = keyedPlan();
    const group = plan.groups[plan.cells.c.group];
    const keys = group.validators.map((v) => keyPairFromName(v));
    const set = validatorSet(group, Object.fromEntries(group.validators.map((v, i) => [v, keys[i].publicKey])));
    const byKey = new Map(keys.map((k, i) => [k.publicKey, i]));
    const submissions: Json[] = inputs(0, 40);
    const nodes: Node[] = group.validators.map((name) => ({ name, file: dir.file(`${name}.db`), ledger: null, cell: null, state: null, config: null, app: null, signed: [] }));

    const queue: Array<{ at: number; seq: number; node: number; event: ConsensusEvent }> = [];
    let seq = 0;
    let served = 0;
    const push = (at: number, node: number, event: ConsensusEvent) => {
      let i = queue.length;
      while (i > 0 && (queue[i - 1].at > at || (queue[i - 1].at === at && queue[i - 1].seq > seq))) i--;
      queue.splice(i, 0, { at, seq: seq++, node, event });
    };

    function execute(i: number, effects: readonly ConsensusEffect[], at: number): void {
      const n = nodes[i];
      for (const f of effects) {
        if (f.kind === "persist") {
          n.cell!.signer.save(f.record);
          n.signed.push(f.record);
        } else if (f.kind === "wal") n.cell!.wal.append(f.entry);
        else if (f.kind === "broadcast") nodes.forEach((_, j) => j !== i && push(at + 1, j, { kind: "message", frame: f.message, now: at + 1, from: keys[i].publicKey }));
        else if (f.kind === "schedule-timeout") push(at + f.duration, i, { kind: "timeout", timeout: f.timeout, now: at + f.duration });
        else if (f.kind === "decide") {
          const chain = n.state!.app;
          expect(chain.height).toBe(f.block.height);
          n.cell!.commit({ block: f.block, state: chain, verdicts: n.app!.verdictsOf(f.block.value) });
        } else if (f.kind === "request-catchup") {
          const peer = nodes[byKey.get(f.peer) ?? -1];
          for (const block of peer?.cell?.blocks(f.fromHeight, 10) ?? []) {
            served++;
            push(at + 2, i, { kind: "certified-block", block, now: at + 2, from: f.peer });
          }
        } else if (f.kind === "evidence") n.cell!.evidence.add(f.evidence);
      }
    }

    /** Starts (or restarts) node i from its ledger, as a node process does. */
    function boot(i: number, at: number): void {
      const n = nodes[i];
      n.ledger = openLedger(n.file);
      n.cell = n.ledger.cell(plan.channel, "c");
      if (n.cell.mempool.size().count === 0 && n.cell.head().height === 0) n.cell.mempool.addMany(submissions.map((submission) => ({ submission, time: at })));
      const app = cellApplication(plan, "c");
      n.app = app;
      n.config = { channel: plan.channel, cell: "c", validators: set, self: keys[i], app, timeouts: TIMEOUTS, verifier: cachingVerifier() };
      const r = n.cell.restart(app);
      const res = restore(n.config, r.start, r.wal, at);
      n.state = res.state;
      const pending = step(n.state, { kind: "inputs", inputs: n.cell.mempool.pending().map((p) => p.submission), now: at });
      n.state = pending.state;
      execute(i, res.effects, at);
      execute(i, pending.effects, at);
    }

    function stop(i: number): void {
      const n = nodes[i];
      n.ledger!.close();
      Object.assign(n, { ledger: null, cell: null, state: null, config: null, app: null });
    }

    nodes.forEach((_, i) => boot(i, T0));
    const STOP_AT = 3; // node d stops once it has committed this height...
    const TARGET = 8; // ...and every node must reach this one
    let stoppedAt = -1;
    let restarted = false;
    for (let events = 0; events < 200_000 && queue.length > 0; events++) {
      const { at, node, event } = queue.shift()!;
      const n = nodes[node];
      if (n.state === null) continue; // a stopped node receives nothing
      const r = step(n.state, event);
      n.state = r.state;
      execute(node, r.effects, at);
      if (!restarted && stoppedAt < 0 && node === 3 && n.cell!.head().height >= STOP_AT) {
        stop(3);
        stoppedAt = at;
      }
      if (!restarted && stoppedAt >= 0 && at > stoppedAt + 2_000) {
        boot(3, at);
        restarted = true;
      }
      if (restarted && nodes.every((x) => x.cell !== null && x.cell.head().height >= TARGET)) break;
    }

    expect(restarted).toBe(true);
    const heads = nodes.map((x) => x.cell!.head());
    const h = Math.min(...heads.map((x) => x.height));
    expect(h).toBeGreaterThanOrEqual(TARGET);
    // One chain: every node holds the same block at every height up to the lowest head.
    for (let height = 1; height <= h; height++) {
      const ids = nodes.map((x) => x.cell!.block(height)!.block.certificate.valueId);
      expect(new Set(ids).size, `height ${height}`).toBe(1);
    }
    // The others went on while d was down, so d caught up by certified blocks served from their ledgers.
    expect(heads[3].height).toBeGreaterThan(STOP_AT);
    expect(served).toBeGreaterThan(0);
    // d's signer records only ever moved forward, across the restart, and nobody saw it equivocate.
    for (let k = 1; k < nodes[3].signed.length; k++) {
      const [a, b] = [nodes[3].signed[k - 1], nodes[3].signed[k]];
      expect(b.height - a.height || b.round - a.round || b.step - a.step).toBeGreaterThan(0);
    }
    for (const x of nodes) expect(x.cell!.evidence.list()).toEqual([]);
    // Every submission was committed once, with the same status on every node.
    const statuses = nodes.map((x) => submissions.map((s) => x.cell!.mempool.status(inputId(s))?.status));
    for (const s of statuses) expect(s).toEqual(statuses[0]);
    expect(statuses[0].every((s) => s === "committed" || s === "rejected")).toBe(true);
    // The restarted node's state is the others' (same root at its head).
    expect(heads[3].stateRoot).toBe((nodes[0].cell!.block(heads[3].height)!.block.value as { stateRoot: string }).stateRoot);
    nodes.forEach((x) => x.ledger!.close());
  }, 120_000);
});
