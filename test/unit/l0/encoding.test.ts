/**
 * Pinned encodings: the bytes and hashes of "statecell/1" must never change,
 * so that no past record is ever re-hashed. If one of these fails, the change
 * belongs in a new encoding, not in this one.
 */
import { describe, expect, it } from "vitest";
import { precommitString } from "../../../runtime/consensus/index.js";
import { utf8 } from "../../../runtime/core/index.js";
import { encodingSuite, ENCODING_V1, KNOWN_ENCODINGS, recordHash, requireSuite, type Snapshot } from "../../../runtime/l0/index.js";

const fixed: Snapshot = {
  type: "snapshot",
  encoding: "statecell/1",
  channel: "air-quality",
  definitionHash: "11".repeat(32),
  height: 7,
  prevHash: "22".repeat(32),
  cells: { readings: { height: 70, hash: "33".repeat(32), stateRoot: "44".repeat(32) }, city: { height: 9, hash: "55".repeat(32), stateRoot: "66".repeat(32) } },
  token: null,
};

describe("encoding statecell/1", () => {
  it("hashes a snapshot as sha256(\"statecell:l0:snapshot:\" || RFC 8785 bytes)", () => {
    const s = requireSuite(ENCODING_V1);
    const bytes = new TextDecoder().decode(s.recordBytes("snapshot", fixed));
    expect(bytes).toBe(
      `statecell:l0:snapshot:{"cells":{"city":{"hash":"${"55".repeat(32)}","height":9,"stateRoot":"${"66".repeat(32)}"},"readings":{"hash":"${"33".repeat(32)}","height":70,"stateRoot":"${"44".repeat(32)}"}},"channel":"air-quality","definitionHash":"${"11".repeat(32)}","encoding":"statecell/1","height":7,"prevHash":"${"22".repeat(32)}","token":null,"type":"snapshot"}`,
    );
  });

  it("pins the snapshot hash (computed independently: Python's hashlib.sha256 over the bytes above)", () => {
    expect(recordHash("snapshot", fixed)).toBe("8f49bc56087f074e156894b24bc53dfe8aa0e69b5bb51bd7e1b9481e2338051c");
  });

  it("signs certificates with the precommit text of consensus/1, the same as the consensus core today", () => {
    const s = requireSuite(ENCODING_V1);
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    expect(text(s.precommitBytes("air-quality", "snapshots", 7, 2, "ab".repeat(32)))).toBe(precommitString("air-quality", "snapshots", 7, 2, "ab".repeat(32)));
    expect(text(s.precommitBytes("c", "snapshots", 1, 0, "00".repeat(32)))).toBe(`["statecell/consensus/1","c","snapshots","precommit",1,0,"${"00".repeat(32)}"]`);
  });

  it("tags each kind of record differently, so a signature of one kind is never one of another", () => {
    const s = requireSuite(ENCODING_V1);
    const r = { a: 1 };
    const kinds = ["registration", "upgrade", "resume", "snapshot", "ack", "global"] as const;
    expect(new Set(kinds.map((k) => s.hashBytes(s.recordBytes(k, r)))).size).toBe(kinds.length);
    expect(new TextDecoder().decode(s.recordBytes("ack", r))).toBe('statecell:l0:ack:{"a":1}');
    expect(s.verify("00".repeat(32), utf8("x"), "zz")).toBe(false);
  });

  it("knows only statecell/1, and refuses to guess any other", () => {
    expect(KNOWN_ENCODINGS).toEqual(["statecell/1"]);
    expect(encodingSuite("statecell/2")).toBeUndefined();
    expect(encodingSuite(1)).toBeUndefined();
    expect(() => requireSuite("statecell/2")).toThrow(expect.objectContaining({ code: "L0_ENCODING" }));
  });
});

describe("the direct encoder of checked snapshots", () => {
  it("gives exactly the general RFC 8785 bytes for any snapshot that passes the shape check", async () => {
    const fc = (await import("fast-check")).default;
    const { checkSubmissionShape } = await import("../../../runtime/l0/shapes.js");
    const s = requireSuite(ENCODING_V1);
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,62}$/);
    const snapshotArb = fc.record({
      type: fc.constant("snapshot" as const),
      encoding: fc.constant(ENCODING_V1),
      channel: fc.stringMatching(/^[a-z][a-z0-9-]{0,62}$/),
      definitionHash: hex,
      height: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      prevHash: hex,
      cells: fc.dictionary(name, fc.record({ height: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), hash: hex, stateRoot: hex }), { maxKeys: 12 }),
      token: fc.option(fc.record({ stateRoot: hex }), { nil: null }),
    });
    fc.assert(
      fc.property(snapshotArb, (snap) => {
        const checked = checkSubmissionShape({ snapshot: snap, hash: "00".repeat(32), certificate: null });
        if (!checked.ok) return true; // e.g. a generated cell name "__proto__" is refused by the shape check
        expect(Buffer.from(s.checkedSnapshotBytes(snap)).toString("utf8")).toBe(Buffer.from(s.recordBytes("snapshot", snap)).toString("utf8"));
        return true;
      }),
      { numRuns: 500, seed: 8785 },
    );
    expect(Buffer.from(s.checkedSnapshotBytes(fixed)).equals(Buffer.from(s.recordBytes("snapshot", fixed)))).toBe(true);
  });
});
