/**
 * What a hostile peer can do with catch-up, and with anything else it sends
 * to a group driver: every case is dropped or reported as a bad peer, none
 * throws, and none costs more than its bounds.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cachingVerifier,
  catchupRequest,
  DEFAULT_CATCHUP_LIMITS,
  exceedsJsonSize,
  packCatchupResponse,
  parseCatchupRequest,
  parseCatchupResponse,
  type CertifiedBlock,
} from "../../../runtime/consensus/index.js";
import { id, proposal, PUB, value, vote } from "./harness.js";
import { certified, rig } from "./driver-harness.js";

const response = (fromHeight: number, blocks: unknown[]) => ({ type: "catchup-response", channel: "ch", cell: "cell", fromHeight, blocks });
const request = (fields: Record<string, unknown> = {}) => ({ type: "catchup-request", channel: "ch", cell: "cell", fromHeight: 1, max: 16, maxBytes: 1 << 22, ...fields });

/** A started node a (height 1) that asked c for blocks from height 1. */
function asking(opts: Parameters<typeof rig>[0] = {}) {
  const r = rig(opts);
  r.driver.start();
  r.driver.receive(PUB[2], vote(2, "prevote", 0, null, 5));
  return r;
}

describe("hostile catch-up responses", () => {
  it("a block whose certificate does not verify makes its server a bad peer, and the blocks after it are not applied", () => {
    const r = asking();
    const forged: CertifiedBlock = { ...certified(1), value: value("other", 1) };
    r.driver.receive(PUB[2], response(1, [forged, certified(2)]));
    expect(r.events.badPeers).toEqual([{ peer: PUB[2], reason: "bad-certificate" }]);
    expect(r.driver.state?.height).toBe(1);
    expect(r.events.decided).toEqual([]);
    expect(r.driver.running).toBe(true);
  });

  it("valid blocks nobody asked that peer for are dropped as unsolicited: never applied, never a bad peer", () => {
    const r = asking();
    r.driver.receive(PUB[3], response(1, [certified(1)]));
    expect(r.events.drops).toContain("unsolicited");
    expect(r.events.badPeers).toEqual([]);
    expect(r.driver.state?.height).toBe(1);
  });

  it("an answer is taken once: the same response replayed is unsolicited", () => {
    const r = asking();
    r.driver.receive(PUB[2], response(1, [certified(1)]));
    r.driver.receive(PUB[2], response(1, [certified(1)]));
    expect(r.events.drops.filter((d) => d === "unsolicited")).toHaveLength(1);
    expect(r.events.decided).toHaveLength(1);
  });

  it("an answer that comes after the window (10 s) is unsolicited", () => {
    const r = asking();
    r.clock.t += 10_001;
    r.driver.receive(PUB[2], response(1, [certified(1)]));
    expect(r.events.drops).toContain("unsolicited");
    expect(r.driver.state?.height).toBe(1);
  });

  it("heights that are not contiguous from fromHeight make the asked peer a bad peer before any certificate is checked", () => {
    const verifier = cachingVerifier();
    const r = asking({ consensus: { verifier } });
    const before = verifier.checks;
    r.driver.receive(PUB[2], response(1, [certified(1), certified(3)]));
    expect(r.events.badPeers).toEqual([{ peer: PUB[2], reason: "malformed" }]);
    expect(verifier.checks).toBe(before);
    expect(r.driver.state?.height).toBe(1);
  });

  it("17 blocks when 16 were asked for are malformed, refused before any certificate is checked", () => {
    const verifier = cachingVerifier();
    const r = asking({ consensus: { verifier } });
    const before = verifier.checks;
    r.driver.receive(PUB[2], response(1, Array.from({ length: 17 }, (_, i) => certified(i + 1))));
    expect(r.events.badPeers).toEqual([{ peer: PUB[2], reason: "malformed" }]);
    expect(verifier.checks).toBe(before);
  });

  it("a 20 MiB response is too-large from the size walk alone, in well under a second, before any certificate is checked", () => {
    const verifier = cachingVerifier();
    const r = asking({ consensus: { verifier } });
    const before = verifier.checks;
    const huge = { ...certified(1), value: { height: 1, tag: "x".repeat(20 * 1_048_576) } };
    const t0 = performance.now();
    r.driver.receive(PUB[2], response(1, [huge]));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(r.events.badPeers).toEqual([{ peer: PUB[2], reason: "too-large" }]);
    expect(verifier.checks).toBe(before);
  });

  it("a response for another group is dropped, not held against the peer (it may be meant for a group this node also runs)", () => {
    const r = asking();
    r.driver.receive(PUB[2], { ...response(1, [certified(1)]), cell: "other" });
    expect(r.events.drops).toContain("wrong-cell");
    expect(r.events.badPeers).toEqual([]);
  });

  it("sixteen blocks with bad certificates cost one certificate check: the driver stops at the first", () => {
    const verifier = cachingVerifier();
    const r = asking({ consensus: { verifier } });
    const before = verifier.checks;
    const bad = Array.from({ length: 16 }, (_, i) => {
      const b = certified(i + 1);
      return { ...b, certificate: { ...b.certificate, signatures: b.certificate.signatures.map((s) => ({ ...s, signature: "ab".repeat(64) })) } };
    });
    r.driver.receive(PUB[2], response(1, bad));
    expect(verifier.checks - before).toBe(1);
    expect(r.events.badPeers).toHaveLength(1);
  });
});

describe("hostile catch-up requests", () => {
  it("1,000 requests from one peer at one instant read the block store 4 times (the burst); the rest are rate-limited", () => {
    const r = rig();
    for (let h = 1; h <= 3; h++) r.blocks.append(certified(h), id(value("v", h)), h);
    r.driver.start();
    for (let i = 0; i < 1000; i++) r.driver.receive(PUB[3], request());
    expect(r.log.filter((l) => l.startsWith("read:"))).toHaveLength(4);
    expect(r.events.drops.filter((d) => d === "rate-limited")).toHaveLength(996);
    // One more token per 50 ms.
    r.clock.t += 50;
    r.driver.receive(PUB[3], request());
    expect(r.log.filter((l) => l.startsWith("read:"))).toHaveLength(5);
  });

  it("requests for another group, a height below 1, max 10^9, a huge maxBytes string or an extra field are dropped without reading the store", () => {
    const r = rig();
    r.driver.start();
    const bad = [
      request({ channel: "other" }),
      request({ cell: "other" }),
      request({ fromHeight: 0 }),
      request({ fromHeight: 1.5 }),
      request({ max: 1e9 }),
      request({ max: 0 }),
      request({ maxBytes: "x".repeat(10_000) }),
      request({ extra: true }),
      { type: "catchup-request" },
    ];
    for (const f of bad) r.driver.receive(PUB[3], f);
    expect(r.log.filter((l) => l.startsWith("read:"))).toEqual([]);
    expect(r.events.drops).toEqual(["wrong-channel", "wrong-cell", "malformed", "malformed", "malformed", "malformed", "too-large", "malformed", "malformed"]);
  });
});

describe("whatever a peer sends, the driver never throws", () => {
  const typed = fc.oneof(
    fc.jsonValue(),
    fc.record({ type: fc.constantFrom("catchup-request", "catchup-response", "proposal", "prevote", "precommit"), channel: fc.constantFrom("ch", "x"), cell: fc.constantFrom("cell", "y"), fromHeight: fc.jsonValue(), max: fc.jsonValue(), maxBytes: fc.jsonValue(), blocks: fc.jsonValue() }, { requiredKeys: ["type"] }),
    fc.record({ type: fc.constant("catchup-response"), channel: fc.constant("ch"), cell: fc.constant("cell"), fromHeight: fc.integer({ min: -2, max: 3 }), blocks: fc.array(fc.oneof(fc.jsonValue(), fc.record({ height: fc.integer({ min: 0, max: 3 }), value: fc.jsonValue(), certificate: fc.jsonValue() })), { maxLength: 4 }) }),
  );

  it("300 random frames (JSON values, catch-up shapes with random fields) to a node that asked: dropped or a bad peer, the node still running", () => {
    const r = asking();
    fc.assert(
      fc.property(fc.array(typed, { maxLength: 5 }), (frames) => {
        for (const f of frames) r.driver.receive(PUB[2], f);
        return r.driver.running;
      }),
      { numRuns: 300 },
    );
    // Still a working node: the honest answer to a fresh request is applied.
    r.clock.t += 1000;
    r.driver.receive(PUB[1], vote(1, "prevote", 0, null, 5));
    r.driver.receive(PUB[1], response(1, [certified(1)]));
    expect(r.driver.state?.height).toBe(2);
  });

  it("a proposal and votes from a stranger key, and frames of every consensus type with junk fields, are drops", () => {
    const r = rig();
    r.driver.start();
    r.driver.receive("not-a-key", proposal(1, 0, value("v")));
    r.driver.receive(PUB[1], { ...vote(1, "prevote", 0, null), height: -1 });
    r.driver.receive(PUB[1], null);
    r.driver.receive(PUB[1], [1, 2]);
    expect(r.driver.running).toBe(true);
    expect(r.events.drops).toContain("malformed");
  });
});

describe("catch-up messages", () => {
  // Signed once: packing reads sizes, never certificates.
  const CHAIN = Array.from({ length: 12 }, (_, i) => certified(i + 1));

  it("a request asks for what the node's limits take", () => {
    expect(catchupRequest("ch", "cell", 7)).toEqual({ type: "catchup-request", channel: "ch", cell: "cell", fromHeight: 7, max: 16, maxBytes: 4_194_304 });
    expect(parseCatchupRequest(catchupRequest("ch", "cell", 7), "ch", "cell").ok).toBe(true);
  });

  it("a packed response always passes the asker's size check after a JSON round trip, and holds as many blocks as fit", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 400, unit: "binary" }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 300, max: 6000 }), (tags, maxBytes) => {
        const blocks = tags.map((t, i) => ({ ...CHAIN[i], value: { height: i + 1, tag: t } }));
        const req = { ...catchupRequest("ch", "cell", 1), maxBytes };
        const resp = packCatchupResponse(req, blocks, DEFAULT_CATCHUP_LIMITS);
        if (resp === null) return exceedsJsonSize(response(1, [blocks[0]]), maxBytes); // not even one block fits
        const wire = JSON.parse(JSON.stringify(resp));
        const parsed = parseCatchupResponse(wire, "ch", "cell", { maxBlocks: 16, maxBytes });
        if (!parsed.ok) return false;
        if (resp.blocks.length === blocks.length) return true;
        // One more block would not have fit.
        return exceedsJsonSize({ ...resp, blocks: blocks.slice(0, resp.blocks.length + 1) }, maxBytes);
      }),
      { numRuns: 100 },
    );
  });

  it("a response packs only a contiguous run from fromHeight", () => {
    const resp = packCatchupResponse(catchupRequest("ch", "cell", 2), [certified(2), certified(4)], DEFAULT_CATCHUP_LIMITS);
    expect(resp?.blocks.map((b) => b.height)).toEqual([2]);
    expect(packCatchupResponse(catchupRequest("ch", "cell", 2), [certified(3)], DEFAULT_CATCHUP_LIMITS)).toBeNull();
  });

  it("an empty response, a block with extra fields or a certificate that is not an object is malformed", () => {
    const parse = (f: unknown) => parseCatchupResponse(f, "ch", "cell");
    expect(parse(response(1, []))).toMatchObject({ ok: false, reason: "malformed" });
    expect(parse(response(1, [{ ...certified(1), extra: 1 }]))).toMatchObject({ ok: false, reason: "malformed" });
    expect(parse(response(1, [{ ...certified(1), certificate: [] }]))).toMatchObject({ ok: false, reason: "malformed" });
    expect(parse({ ...response(1, [certified(1)]), signature: "x" })).toMatchObject({ ok: false, reason: "malformed" });
    expect(parse(response(1, [certified(1)]))).toMatchObject({ ok: true });
  });
});
