/**
 * Runs one cell's whole validator group inside one process: every node is a
 * group driver (driver.ts) with the cell as its application, in-memory
 * stores, and in-process ports: messages delivered to every other node 1 ms
 * later, timers on a virtual clock. No sockets, no real clock, no
 * randomness: the same inputs always give the same blocks.
 *
 * It is what `statecell demo` shows before nodes peer over WebSockets, and
 * what tests use to drive consensus on real channels. Faults belong to the
 * seeded simulator (test/simulation), not here.
 */
import type { Json } from "../core/canonical.js";
import { keyPairFromName, type KeyPair } from "../core/keys.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { ExecuteModules, Verdict } from "../cells/index.js";
import { cellApplication, genesisCellChain, type CellChainState } from "./cell-application.js";
import { createGroupDriver, type GroupDriver } from "./driver.js";
import type { ConsensusState } from "./state.js";
import { MemoryBlockStore, MemorySignerStore, MemoryWal } from "./storage.js";
import { validatorSet } from "./validator-set.js";
import { cachingVerifier } from "./verifier.js";
import type { CertifiedBlock, TimeoutConfig } from "./types.js";

export interface LocalNode {
  name: string;
  state: ConsensusState<CellChainState>;
  decided: CertifiedBlock[];
  /**
   * Full verdicts (messages, paths) of each decided block, in the order of
   * `decided`, as this node's application executed it (`verdictsOf`): what a
   * node shows clients. Never part of the block.
   */
  verdicts: Array<readonly Verdict[]>;
  /** The node's group driver (its counters: drops, catch-up, gossip). */
  driver: GroupDriver<CellChainState>;
}

export interface LocalGroupOptions {
  plan: ChannelPlan;
  cell: string;
  /** Submissions offered to every node, as clients send them. */
  pending: readonly Json[];
  /** Stop once every node decided this many blocks. */
  heights: number;
  /** Virtual time of the start (unix ms): the first proposal's block time. */
  startTime: number;
  /** Key of each validator name (default: the name-derived test keys). */
  keyOf?: (validator: string) => KeyPair;
  modules?: ExecuteModules;
  /** Safety stop for a run that cannot finish (default 100,000 events). */
  maxEvents?: number;
}

const TIMEOUTS: TimeoutConfig = { propose: { base: 300, delta: 100 }, prevote: { base: 100, delta: 50 }, precommit: { base: 100, delta: 50 }, commit: 10 };

/** Runs the group until every node decided `heights` blocks; returns the nodes. */
export function runLocalGroup(opts: LocalGroupOptions): LocalNode[] {
  const { plan, cell } = opts;
  const group = plan.groups[plan.cells[cell].group];
  const keyOf = opts.keyOf ?? keyPairFromName;
  const keyPairs = group.validators.map((v) => keyOf(v));
  const set = validatorSet(group, Object.fromEntries(group.validators.map((v, i) => [v, keyPairs[i].publicKey])));
  const app = cellApplication(plan, cell, opts.modules);
  // Work queue ordered by (time, sequence): deterministic delivery.
  const queue: Array<{ at: number; seq: number; run: () => void }> = [];
  let seq = 0;
  let now = opts.startTime;
  const push = (at: number, run: () => void) => {
    let i = queue.length;
    while (i > 0 && (queue[i - 1].at > at || (queue[i - 1].at === at && queue[i - 1].seq > seq))) i--;
    queue.splice(i, 0, { at, seq: seq++, run });
  };
  const byKey = new Map<string, number>(keyPairs.map((k, i) => [k.publicKey, i]));
  const nodes: LocalNode[] = group.validators.map((name, i) => {
    const me = keyPairs[i].publicKey;
    const decided: CertifiedBlock[] = [];
    const verdicts: Array<readonly Verdict[]> = [];
    const driver = createGroupDriver(
      {
        consensus: { channel: plan.channel, cell, validators: set, self: keyPairs[i], app, timeouts: TIMEOUTS, verifier: cachingVerifier() },
        genesis: genesisCellChain(),
      },
      {
        transport: {
          broadcast: (message) => {
            const at = now + 1;
            nodes.forEach((n, j) => j !== i && push(at, () => n.driver.receive(me, message)));
          },
          send: (peer, message) => {
            const j = byKey.get(peer);
            if (j !== undefined) push(now + 1, () => nodes[j].driver.receive(me, message));
          },
        },
        timers: { schedule: (ms, fire) => push(now + ms, fire) },
        clock: { now: () => now },
        signer: new MemorySignerStore(),
        wal: new MemoryWal(),
        blocks: new MemoryBlockStore(),
        events: {
          decided: (block) => {
            decided.push(block);
            verdicts.push(app.verdictsOf(block.value) ?? []);
          },
        },
      },
    );
    return {
      name,
      decided,
      verdicts,
      driver,
      get state() {
        return driver.state!;
      },
    };
  });
  for (const n of nodes) {
    n.driver.offer(opts.pending);
    n.driver.start();
  }
  const maxEvents = opts.maxEvents ?? 100_000;
  for (let k = 0; k < maxEvents && queue.length > 0 && nodes.some((x) => x.decided.length < opts.heights); k++) {
    const item = queue.shift()!;
    now = item.at;
    item.run();
  }
  return nodes;
}
