/**
 * Cluster mode's pure part: four L0 validators run the consensus core with
 * global snapshots as the application; each decided global snapshot, with
 * the decision's commit certificate, verifies with the same verifyGlobal an
 * embedded L0's does, against the four keys and a threshold of 3. A
 * validator prevotes nil on a global snapshot naming a channel snapshot it
 * did not accept.
 */
import { describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/index.js";
import { cachingVerifier, createState, GENESIS_HASH, step, validatorSet, type ConsensusEvent, type ConsensusState } from "../../../runtime/consensus/index.js";
import { globalApplication, type GlobalChain } from "../../../runtime/l0/cluster.js";
import { L0_CONSENSUS_CELL, L0_CONSENSUS_CHANNEL, verifyGlobal, type CertifiedGlobal, type GlobalEntry, type GlobalSnapshot } from "../../../runtime/l0/index.js";

const names = ["l0-a", "l0-b", "l0-c", "l0-d"];
const keys = names.map((n) => keyPairFromName(n));
const set = validatorSet({ name: "l0", validators: names, threshold: { written: "2/3", quorum: 3, size: 4, safetyFaults: 1, livenessFaults: 1 } }, Object.fromEntries(names.map((n, i) => [n, keys[i].publicKey])));
const l0Group = { validators: names.map((name, i) => ({ name, key: keys[i].publicKey })), threshold: 3 };
const entry = (channel: string, height: number): GlobalEntry => ({ channel, height, hash: String(height % 10).repeat(64) });

function run(heights: number, accepted: (node: number) => GlobalEntry[]): { decided: CertifiedGlobal[][] } {
  const decided: CertifiedGlobal[][] = keys.map(() => []);
  const states: Array<ConsensusState<GlobalChain>> = keys.map((k, i) => {
    const held = () => accepted(i).filter((e) => !decided[i].some((g) => g.global.snapshots.some((x) => x.hash === e.hash && x.channel === e.channel && x.height === e.height)));
    const app = globalApplication({
      pending: () => ({ snapshots: held(), events: [] }),
      holdsSnapshot: (e) => accepted(i).some((x) => x.channel === e.channel && x.height === e.height && x.hash === e.hash),
      holdsEvent: () => false,
    });
    const timeouts = { propose: { base: 300, delta: 100 }, prevote: { base: 100, delta: 50 }, precommit: { base: 100, delta: 50 }, commit: 10 };
    return createState({ channel: L0_CONSENSUS_CHANNEL, cell: L0_CONSENSUS_CELL, validators: set, self: k, app, timeouts, verifier: cachingVerifier() }, { height: 1, prevHash: GENESIS_HASH, app: { tip: null }, signer: null });
  });
  // Events in (time, sequence) order, as runLocalGroup delivers them: messages 1 ms later, timeouts when due.
  const queue: Array<{ at: number; seq: number; to: number; ev: ConsensusEvent }> = [];
  let seq = 0;
  const push = (at: number, to: number, ev: ConsensusEvent) => {
    let i = queue.length;
    while (i > 0 && (queue[i - 1].at > at || (queue[i - 1].at === at && queue[i - 1].seq > seq))) i--;
    queue.splice(i, 0, { at, seq: seq++, to, ev });
  };
  const start = 1_700_000_000_000;
  keys.forEach((_, i) => push(start, i, { kind: "start", now: start }));
  for (let n = 0; n < 20_000 && queue.length > 0 && decided.some((d) => d.length < heights); n++) {
    const { at, to, ev } = queue.shift()!;
    const r = step(states[to], ev);
    states[to] = r.state;
    for (const e of r.effects) {
      if (e.kind === "broadcast") for (let j = 0; j < keys.length; j++) j !== to && push(at + 1, j, { kind: "message", frame: e.message, now: at + 1 });
      else if (e.kind === "schedule-timeout") push(at + e.duration, to, { kind: "timeout", timeout: e.timeout, now: at + e.duration });
      else if (e.kind === "decide") decided[to].push({ global: e.block.value as unknown as GlobalSnapshot, hash: e.valueId, certificate: e.block.certificate });
    }
  }
  return { decided };
}

describe("a cluster of four L0 validators", () => {
  it("decides global snapshots whose commit certificates verify like an embedded L0's, chained from ordinal 1", () => {
    const all = [entry("air-quality", 1), entry("water", 1), entry("air-quality", 2)];
    const { decided } = run(3, () => all);
    expect(decided[0].length).toBeGreaterThanOrEqual(3);
    const chain = decided[0];
    expect(chain[0].global.snapshots).toEqual([entry("air-quality", 1), entry("air-quality", 2), entry("water", 1)]);
    chain.forEach((g, i) => {
      expect(g.global.ordinal).toBe(i + 1);
      expect(verifyGlobal(g, l0Group, i === 0 ? undefined : { ordinal: i, hash: chain[i - 1].hash, time: chain[i - 1].global.time })).toEqual({ ok: true });
      expect(g.certificate.signatures.length).toBeGreaterThanOrEqual(3);
    });
    for (const other of decided.slice(1)) expect(other.slice(0, 3).map((g) => g.hash)).toEqual(chain.slice(0, 3).map((g) => g.hash));
  });

  it("a global snapshot naming a channel snapshot that the other validators did not accept is not decided", () => {
    // Node 0 alone holds a snapshot; when it proposes, the others prevote nil, and what is decided never names it.
    const { decided } = run(4, (node) => (node === 0 ? [entry("air-quality", 1), entry("ghost", 9)] : [entry("air-quality", 1)]));
    for (const d of decided) {
      expect(d.length).toBe(4);
      expect(d.flatMap((g) => g.global.snapshots.map((e) => e.channel))).not.toContain("ghost");
      expect(d.map((g) => g.hash)).toEqual(decided[1].map((g) => g.hash));
    }
    // Node 0 proposes at heights 3 (and 7, ...) with the round rotation (height + round) % 4: its proposal was refused there.
    expect(decided[1].some((g) => g.certificate.round > 0)).toBe(true);
  });
});
