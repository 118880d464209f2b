/**
 * Catch-up of a downstream cell: a node that was down gets certified blocks
 * of cell `sink` whose inputs are outputs of cell `source` that this node has
 * not been delivered yet (its upstream catch-up runs on its own). The block's
 * certificate is a quorum's word that each output was delivered certified, so
 * the node applies it after re-executing it; it neither refuses it nor calls
 * the serving peer bad. A proposal carrying an undelivered output is still not
 * valid at that node (it has only the proposer's word).
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import {
  buildCertificate,
  cachingVerifier,
  createState,
  GENESIS_HASH,
  proposerOf,
  signMessage,
  step,
  validatorSet,
  type ConsensusConfig,
  type ConsensusEffect,
  type Proposal,
  type Vote,
} from "../../../runtime/consensus/index.js";
import { cellApplication, genesisCellChain, type CellBlockValue, type CellChainState, type DeliveredOutput } from "../../../runtime/consensus/cell-application.js";

const plan = requireChannel(`
channel: t
version: 1
groups:
  g:
    validators: [a, b, c, d]
    threshold: 3
cells:
  source:
    group: g
    accepts: { type: object, required: [n], properties: { n: { type: integer } } }
    emit:
      - to: sink
        data: { n: { var: data.n } }
  sink:
    group: g
    accepts: { type: object, required: [n], properties: { n: { type: integer } } }
    state:
      - add: total
        value: { var: data.n }
`, { file: "pipeline.yaml" });

const names = ["a", "b", "c", "d"];
const keys = names.map((n) => keyPairFromName(n));
const set = validatorSet(plan.groups.g, Object.fromEntries(names.map((n, i) => [n, keys[i].publicKey])));
const outputs: DeliveredOutput[] = [
  { from: "source", seq: 0, data: { n: 3 }, signer: null },
  { from: "source", seq: 1, data: { n: 4 }, signer: null },
];
const held = (from: string, seq: number) => outputs.find((o) => o.from === from && o.seq === seq);

/** Block 1 of `sink` with both outputs, built and certified by a, b and c, who hold them. */
function certifiedSinkBlock() {
  const app = cellApplication(plan, "sink", {}, { deliveries: held });
  const value = app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: 1_700_000_000_000, state: genesisCellChain(), pending: outputs.map((o) => ({ output: o }) as unknown as Json) });
  const valueId = app.valueId(value);
  const votes = [0, 1, 2].map((i) => signMessage<Vote>({ type: "precommit", channel: "t", cell: "sink", height: 1, round: 0, valueId, validator: keys[i].publicKey }, keys[i]));
  return { value, valueId, certificate: buildCertificate(set, votes) };
}

/** Node d, back from a restart: it holds none of the outputs yet. */
function behind(): { cfg: ConsensusConfig<CellChainState>; state: ReturnType<typeof createState<CellChainState>> } {
  const cfg: ConsensusConfig<CellChainState> = {
    channel: "t",
    cell: "sink",
    validators: set,
    self: keys[3],
    app: cellApplication(plan, "sink", {}, { deliveries: () => undefined }),
    timeouts: { propose: { base: 100, delta: 10 }, prevote: { base: 50, delta: 5 }, precommit: { base: 60, delta: 6 }, commit: 0 },
    verifier: cachingVerifier(),
  };
  const state = step(createState(cfg, { height: 1, prevHash: GENESIS_HASH, app: genesisCellChain(), signer: null }), { kind: "start", now: 1 }).state;
  return { cfg, state };
}

const kinds = (effects: ConsensusEffect[]) => effects.map((e) => e.kind);

describe("catch-up of a cell fed by another cell", () => {
  it("a certified block of outputs this node was not delivered yet is applied, and its server stays a good peer", () => {
    const b = certifiedSinkBlock();
    expect((b.value as unknown as CellBlockValue).inputs).toHaveLength(2);
    const { state } = behind();
    const r = step(state, { kind: "certified-block", block: { height: 1, value: b.value, certificate: b.certificate }, now: 2, from: keys[0].publicKey });
    expect(kinds(r.effects)).not.toContain("bad-peer");
    const decided = r.effects.find((e) => e.kind === "decide");
    expect(decided && decided.kind === "decide" && decided.valueId).toBe(b.valueId);
    expect(r.state.height).toBe(2);
    // The outputs were consumed in order: the next block expects output 2 of source.
    expect(r.state.app.received).toEqual({ source: 2 });
    expect(r.state.app.stateRoot).toBe((b.value as unknown as CellBlockValue).stateRoot);
  });

  it("the same block after this node judged its proposal invalid (no delivery then) is still applied when it comes certified", () => {
    const b = certifiedSinkBlock();
    const { state } = behind();
    const proposer = set.index.get(proposerOf(set, 1, 0))!;
    const p = signMessage<Proposal>({ type: "proposal", channel: "t", cell: "sink", height: 1, round: 0, validRound: -1, valueId: b.valueId, value: b.value, validator: keys[proposer].publicKey }, keys[proposer]);
    const seen = step(state, { kind: "message", frame: p, now: 2 });
    expect(seen.state.validity[b.valueId]).toBe(false);
    const r = step(seen.state, { kind: "certified-block", block: { height: 1, value: b.value, certificate: b.certificate }, now: 3, from: keys[1].publicKey });
    expect(kinds(r.effects)).not.toContain("bad-peer");
    expect(r.state.height).toBe(2);
  });

  it("a certified block that does not re-execute is still refused, and its server is a bad peer", () => {
    const b = certifiedSinkBlock();
    const forged = { ...(b.value as unknown as CellBlockValue), stateRoot: "0".repeat(64) } as unknown as Json;
    const app = cellApplication(plan, "sink");
    const valueId = app.valueId(forged);
    const votes = [0, 1, 2].map((i) => signMessage<Vote>({ type: "precommit", channel: "t", cell: "sink", height: 1, round: 0, valueId, validator: keys[i].publicKey }, keys[i]));
    const { state } = behind();
    const r = step(state, { kind: "certified-block", block: { height: 1, value: forged, certificate: buildCertificate(set, votes) }, now: 2, from: keys[0].publicKey });
    const bad = r.effects.find((e) => e.kind === "bad-peer");
    expect(bad && bad.kind === "bad-peer" && bad.reason).toBe("invalid-certified-value");
    expect(r.state.height).toBe(1);
  });
});
