/**
 * Runs one cell's whole validator group inside one process: every node's
 * consensus `step` with the cell as its application, messages delivered to
 * every other node 1 ms later, timeouts on a virtual clock. No sockets, no
 * real clock, no randomness: the same inputs always give the same blocks.
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
import { createState, GENESIS_HASH, type ConsensusState } from "./state.js";
import { step } from "./step.js";
import { validatorSet } from "./validator-set.js";
import { cachingVerifier } from "./verifier.js";
import type { CertifiedBlock, ConsensusEvent, TimeoutConfig } from "./types.js";

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
  const nodes: LocalNode[] = group.validators.map((name, i) => ({
    name,
    decided: [],
    verdicts: [],
    state: createState(
      { channel: plan.channel, cell, validators: set, self: keyPairs[i], app, timeouts: TIMEOUTS, verifier: cachingVerifier() },
      { height: 1, prevHash: GENESIS_HASH, app: genesisCellChain(), signer: null },
    ),
  }));
  // Event queue ordered by (time, sequence): deterministic delivery.
  const queue: Array<{ at: number; seq: number; node: number; event: ConsensusEvent }> = [];
  let seq = 0;
  const push = (at: number, node: number, event: ConsensusEvent) => {
    let i = queue.length;
    while (i > 0 && (queue[i - 1].at > at || (queue[i - 1].at === at && queue[i - 1].seq > seq))) i--;
    queue.splice(i, 0, { at, seq: seq++, node, event });
  };
  nodes.forEach((_, i) => {
    push(opts.startTime, i, { kind: "inputs", inputs: opts.pending, now: opts.startTime });
    push(opts.startTime, i, { kind: "start", now: opts.startTime });
  });
  const maxEvents = opts.maxEvents ?? 100_000;
  for (let n = 0; n < maxEvents && queue.length > 0 && nodes.some((x) => x.decided.length < opts.heights); n++) {
    const { at, node, event } = queue.shift()!;
    const r = step(nodes[node].state, event);
    nodes[node].state = r.state;
    for (const f of r.effects) {
      if (f.kind === "broadcast") nodes.forEach((_, j) => j !== node && push(at + 1, j, { kind: "message", frame: f.message, now: at + 1 }));
      else if (f.kind === "schedule-timeout") push(at + f.duration, node, { kind: "timeout", timeout: f.timeout, now: at + f.duration });
      else if (f.kind === "decide") {
        nodes[node].decided.push(f.block);
        nodes[node].verdicts.push(app.verdictsOf(f.block.value) ?? []);
      }
    }
  }
  return nodes;
}
