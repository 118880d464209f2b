import { describe, expect, it } from "vitest";
import { isStatecellError } from "../../../runtime/core/errors.js";
import { assertCertificate, buildCertificate, validatorSet, verifyCertificate, type CommitCertificate } from "../../../runtime/consensus/index.js";
import { drops, feed, GROUP, id, KEYMAP, KEYS, msg, proposal, PUB, SET, started, value, vote } from "./harness.js";
import { signMessage, type Vote } from "../../../runtime/consensus/index.js";

const V = value("v");
const target = { channel: "ch", cell: "cell", height: 1, valueId: id(V) };
const good = (): CommitCertificate => buildCertificate(SET, [1, 2, 3].map((i) => vote(i, "precommit", 0, id(V))));

describe("verifyCertificate", () => {
  it("accepts distinct members at the quorum, in any order", () => {
    const c = good();
    expect(verifyCertificate(GROUP, KEYMAP, target, c)).toEqual({ ok: true, signers: [PUB[1], PUB[2], PUB[3]] });
    expect(verifyCertificate(GROUP, KEYMAP, target, { ...c, signatures: [...c.signatures].reverse() }).ok).toBe(true);
  });

  const failures: Array<[string, () => unknown, string]> = [
    ["not an object", () => "cert", "CONSENSUS_CERT_MALFORMED"],
    ["no signatures array", () => ({ ...good(), signatures: null }), "CONSENSUS_CERT_MALFORMED"],
    ["a signature without hex", () => ({ ...good(), signatures: [{ validator: PUB[1], signature: "zz" }] }), "CONSENSUS_CERT_MALFORMED"],
    ["another height", () => ({ ...good(), height: 2 }), "CONSENSUS_CERT_WRONG_BLOCK"],
    ["another value", () => ({ ...good(), valueId: id(value("w")) }), "CONSENSUS_CERT_WRONG_BLOCK"],
    ["another cell", () => ({ ...good(), cell: "other" }), "CONSENSUS_CERT_WRONG_BLOCK"],
    ["a stranger's signature", () => ({ ...good(), signatures: [...good().signatures.slice(0, 2), { validator: "ab".repeat(32), signature: "00".repeat(64) }] }), "CONSENSUS_CERT_NON_MEMBER"],
    ["one member twice", () => ({ ...good(), signatures: [good().signatures[0], good().signatures[0], good().signatures[1]] }), "CONSENSUS_CERT_DUPLICATE_SIGNER"],
    ["a forged signature", () => ({ ...good(), signatures: [...good().signatures.slice(0, 2), { validator: PUB[3], signature: "00".repeat(64) }] }), "CONSENSUS_CERT_BAD_SIGNATURE"],
    ["signatures of another round", () => ({ ...good(), round: 1 }), "CONSENSUS_CERT_BAD_SIGNATURE"],
    [
      "prevotes instead of precommits",
      () => buildCertificate(SET, [1, 2, 3].map((i) => signMessage<Vote>({ type: "prevote", channel: "ch", cell: "cell", height: 1, round: 0, valueId: id(V), validator: PUB[i] }, KEYS[i]))),
      "CONSENSUS_CERT_BAD_SIGNATURE",
    ],
    ["below the threshold", () => ({ ...good(), signatures: good().signatures.slice(0, 2) }), "CONSENSUS_CERT_BELOW_THRESHOLD"],
  ];
  for (const [name, make, code] of failures) {
    it(`refuses ${name}: ${code}`, () => {
      const r = verifyCertificate(GROUP, KEYMAP, target, make());
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe(code);
    });
  }

  it("assertCertificate throws the code with a remedy", () => {
    try {
      assertCertificate(GROUP, KEYMAP, target, { ...good(), signatures: [] });
      expect.unreachable();
    } catch (e) {
      expect(isStatecellError(e) && e.code).toBe("CONSENSUS_CERT_BELOW_THRESHOLD");
      expect(isStatecellError(e) && e.remedy).toMatch(/another validator/);
    }
  });
});

describe("validatorSet", () => {
  it("takes the quorum from the plan and f + 1 for round skips", () => {
    expect([SET.quorum, SET.size, SET.skip]).toEqual([3, 4, 2]);
  });
  const bad: Array<[string, () => unknown, string]> = [
    ["2 of 4", () => validatorSet({ ...GROUP, threshold: { ...GROUP.threshold, quorum: 2 } }, KEYMAP), "CONSENSUS_UNSAFE_THRESHOLD"],
    ["a validator without key", () => validatorSet(GROUP, { ...KEYMAP, d: "nope" }), "CONSENSUS_MISSING_KEY"],
    ["two validators, one key", () => validatorSet(GROUP, { ...KEYMAP, d: KEYMAP.a }), "CONSENSUS_DUPLICATE_KEY"],
  ];
  for (const [name, f, code] of bad) {
    it(`refuses ${name}: ${code}`, () => {
      expect(f).toThrow(expect.objectContaining({ code }));
    });
  }
});

describe("catch-up", () => {
  const block = () => ({ height: 1, value: V, certificate: good() });

  it("applies a certified block after its certificate verifies", () => {
    const r = feed(started(0), [{ kind: "certified-block", block: block(), now: 1, from: "peer-1" }]);
    const d = r.effects.find((e) => e.kind === "decide");
    expect(d?.kind === "decide" && d.source).toBe("catch-up");
    expect(r.state.height).toBe(2);
    expect(r.state.prevHash).toBe(id(V));
  });

  it("rejects a bad certificate and names the peer to disconnect", () => {
    const r = feed(started(0), [{ kind: "certified-block", block: { ...block(), certificate: { ...good(), signatures: good().signatures.slice(0, 2) } }, now: 1, from: "peer-9" }]);
    expect(r.state.height).toBe(1);
    expect(drops(r.effects)).toEqual(["bad-certificate"]);
    const bp = r.effects.find((e) => e.kind === "bad-peer");
    expect(bp).toMatchObject({ kind: "bad-peer", peer: "peer-9", reason: "bad-certificate" });
    expect(bp?.kind === "bad-peer" && bp.detail).toMatch(/^CONSENSUS_CERT_BELOW_THRESHOLD/);
  });

  it("rejects a certificate for another value than the block carries", () => {
    const r = feed(started(0), [{ kind: "certified-block", block: { ...block(), value: value("w") }, now: 1, from: "p" }]);
    expect(drops(r.effects)).toEqual(["bad-certificate"]);
  });

  it("applies blocks only in order", () => {
    const r = feed(started(0), [{ kind: "certified-block", block: { ...block(), height: 2 }, now: 1, from: "p" }]);
    expect(drops(r.effects)).toEqual(["future-height"]);
    expect(r.effects.some((e) => e.kind === "bad-peer")).toBe(false);
  });

  it("a node that decided itself ignores the same block later as stale", () => {
    const s = feed(started(0), [msg(proposal(1, 0, V)), ...[1, 2, 3].map((i) => msg(vote(i, "precommit", 0, id(V))))]).state;
    expect(drops(feed(s, [{ kind: "certified-block", block: block(), now: 1, from: "p" }]).effects)).toEqual(["stale-height"]);
  });
});
