/**
 * Hostile submissions to L0: oversized bodies and certificates, signatures by
 * outsiders mixed with a valid quorum, prototype keys, names that look like
 * SQL, values canonical JSON cannot carry, a Byzantine quorum flooding one
 * height with conflicting snapshots, and floods of the HTTP API. Each answers
 * a refusal with a code (nothing throws) and costs what its size allows.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/index.js";
import { MAX_EVIDENCE_PER_FREEZE, openL0, startL0Http, l0Client, type L0Service, type SnapshotAnswer } from "../../../runtime/l0/index.js";
import { certificate, group, L0_KEY, registration, signed, TestChannel, tempDir } from "./helpers.js";

let l0: L0Service;
let ch: TestChannel;
const snap = group("snap", 4);

beforeEach(() => {
  l0 = openL0({ store: ":memory:", key: L0_KEY });
  ch = new TestChannel("air-quality", snap);
  l0.register(ch.registration());
});
afterEach(() => l0.close());

const code = (a: SnapshotAnswer) => (a.ok ? a.status : a.refusal.code);
const ms = (f: () => unknown) => {
  const t = performance.now();
  f();
  return performance.now() - t;
};

describe("sizes", () => {
  it("a 50 MiB submission is refused with L0_TOO_LARGE in under 2 s, before it is hashed or a signature checked", () => {
    const sub = ch.next();
    const huge = { ...sub, snapshot: { ...sub.snapshot, cells: { ...sub.snapshot.cells, pad: { height: 1, hash: "x".repeat(50 * 1024 * 1024), stateRoot: "" } } } };
    let a: SnapshotAnswer | undefined;
    expect(ms(() => (a = l0.submitSnapshot(huge)))).toBeLessThan(2_000);
    expect(a!.ok ? null : a!.refusal).toMatchObject({ code: "L0_TOO_LARGE", required: 1_048_576 });
  });

  it("a certificate of 20,000 signatures for a group of 4 is refused with L0_DUPLICATE_SIGNER in under 1 s, without checking one (20,000 checks take seconds)", () => {
    const big = openL0({ store: ":memory:", key: L0_KEY, maxSnapshotBytes: 64 * 1024 * 1024 });
    try {
      big.register(ch.registration());
      const sub = ch.next({ keys: snap.keys });
      const flood = { ...sub, certificate: { ...sub.certificate, signatures: Array.from({ length: 20_000 }, (_, i) => sub.certificate.signatures[i % 4]) } };
      let a: SnapshotAnswer | undefined;
      expect(ms(() => (a = big.submitSnapshot(flood)))).toBeLessThan(1_000);
      expect(a!.ok ? null : a!.refusal).toMatchObject({ code: "L0_DUPLICATE_SIGNER", actual: 20_000, required: 4 });
    } finally {
      big.close();
    }
  });

  it("a 3,000-character channel name is refused with a message cut to a readable length", () => {
    const sub = ch.next();
    const a = l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, channel: "a".repeat(3_000) } });
    expect(a.ok ? null : a.refusal.code).toBe("L0_BAD_SNAPSHOT");
    expect(a.ok ? 0 : a.refusal.message.length + JSON.stringify(a.refusal.actual).length).toBeLessThan(400);
  });
});

describe("signers", () => {
  it("a valid quorum with one outsider's signature added is refused: every signer must be in the group", () => {
    const sub = ch.next({ keys: snap.keys.slice(0, 3) });
    const outsider = certificate("air-quality", 1, sub.hash, [keyPairFromName("mallory")]).signatures[0];
    expect(code(l0.submitSnapshot({ ...sub, certificate: { ...sub.certificate, signatures: [...sub.certificate.signatures, outsider] } }))).toBe("L0_SIGNER_OUTSIDE_GROUP");
  });

  it("the same member's signature three times does not make a quorum", () => {
    const sub = ch.next({ keys: snap.keys.slice(0, 1) });
    const s = sub.certificate.signatures[0];
    expect(code(l0.submitSnapshot({ ...sub, certificate: { ...sub.certificate, signatures: [s, s, s] } }))).toBe("L0_DUPLICATE_SIGNER");
  });

  it("uppercase hex, a height beyond 2^53 and a negative round are refused by shape", () => {
    const sub = ch.next();
    const upper = { ...sub, certificate: { ...sub.certificate, signatures: sub.certificate.signatures.map((x) => ({ ...x, signature: x.signature.toUpperCase() })) } };
    expect(code(l0.submitSnapshot(upper))).toBe("L0_CERTIFICATE");
    expect(code(l0.submitSnapshot({ ...sub, snapshot: { ...sub.snapshot, height: 2 ** 53 } }))).toBe("L0_BAD_SNAPSHOT");
    expect(code(l0.submitSnapshot({ ...sub, certificate: { ...sub.certificate, round: -1 } }))).toBe("L0_CERTIFICATE");
  });

  it("a signature of a snapshot's precommit cannot be used for a registration, and a registration signature not for a snapshot", () => {
    const sub = ch.next();
    const asRecord = signed(registration("water", snap), snap);
    const stolen = { ...asRecord, signatures: sub.certificate.signatures.map((s) => ({ key: s.validator, signature: s.signature })) };
    expect(l0.register(stolen)).toMatchObject({ ok: false, refusal: { code: "L0_BAD_SIGNATURE" } });
    const asCert = { ...sub, certificate: { ...sub.certificate, signatures: asRecord.signatures.map((s) => ({ validator: s.key, signature: s.signature })) } };
    expect(code(l0.submitSnapshot(asCert))).toBe("L0_BAD_SIGNATURE");
  });
});

describe("keys and values", () => {
  it("__proto__ as a cell or group name is refused and pollutes nothing", () => {
    const sub = ch.next();
    const text = JSON.stringify(sub).replace('"readings":', '"__proto__":');
    expect(code(l0.submitSnapshot(JSON.parse(text)))).toBe("L0_BAD_SNAPSHOT");
    const reg = registration("water", snap);
    const evil = JSON.parse(JSON.stringify(signed(reg, snap)).replace('"city":', '"__proto__":').replace('"snapshotGroup":"city"', '"snapshotGroup":"__proto__"')) as unknown;
    expect(l0.register(evil)).toMatchObject({ ok: false, refusal: { code: "L0_BAD_RECORD" } });
    expect(({} as Record<string, unknown>).validators).toBeUndefined();
  });

  it("a token genesis holding SQL-like text is stored as it is, and read back the same after reopening", () => {
    const t = tempDir();
    try {
      let s = openL0({ store: t.file(), key: L0_KEY });
      const token = { name: "x'); DROP TABLE snapshots; --", symbol: "PTS", decimals: 0, genesis: { "'; DELETE FROM globals; --": 1 }, supply: 1 };
      const points = new TestChannel("points", snap);
      expect(s.register(points.registration({ token }))).toMatchObject({ ok: true });
      expect(code(s.submitSnapshot(points.next({ token: { stateRoot: "ee".repeat(32) } })))).toBe("accepted");
      s.close();
      s = openL0({ store: t.file(), key: L0_KEY });
      expect(s.channel("points")!.registration.record.token).toEqual(token);
      expect(s.channel("points")!.head.height).toBe(1);
      s.close();
    } finally {
      t.cleanup();
    }
  });

  it("a token nested 300 levels deep or holding a lone surrogate is refused with L0_BAD_RECORD, never thrown", () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 300; i++) deep = deep.n = {} as Record<string, unknown>;
    // Nobody can sign such a record (it has no canonical bytes), so the signatures are made up.
    const unsigned = (token: unknown) => ({ record: { ...registration("water", snap), token }, signatures: [{ key: snap.keys[0].publicKey, signature: "0".repeat(128) }] });
    expect(l0.register(unsigned(root))).toMatchObject({ ok: false, refusal: { code: "L0_BAD_RECORD" } });
    expect(l0.register(unsigned({ name: "\ud800" }))).toMatchObject({ ok: false, refusal: { code: "L0_BAD_RECORD" } });
  });

  it("values that are not plain JSON objects are refused by shape", () => {
    class Fake {
      snapshot = ch.next().snapshot;
      hash = ch.next().hash;
      certificate = ch.next().certificate;
    }
    expect(code(l0.submitSnapshot(new Fake()))).toBe("L0_BAD_SNAPSHOT");
    expect(code(l0.submitSnapshot([ch.next()]))).toBe("L0_BAD_SNAPSHOT");
    expect(code(l0.submitSnapshot("snapshot"))).toBe("L0_BAD_SNAPSHOT");
  });
});

describe("a Byzantine quorum", () => {
  it(`flooding one height with 30 conflicting certified snapshots gets ${MAX_EVIDENCE_PER_FREEZE} kept as evidence, then L0_FROZEN, and one freeze`, () => {
    l0.submitSnapshot(ch.advance(ch.next()));
    const codes: string[] = [];
    for (let i = 0; i < 30; i++) {
      const other = new TestChannel("air-quality", snap);
      codes.push(code(l0.submitSnapshot(other.next({ salt: `flood-${i}` }))));
    }
    expect(codes.filter((c) => c === "L0_FORK")).toHaveLength(MAX_EVIDENCE_PER_FREEZE);
    expect(codes.slice(MAX_EVIDENCE_PER_FREEZE).every((c) => c === "L0_FROZEN")).toBe(true);
    expect(l0.channel("air-quality")!.forks).toHaveLength(MAX_EVIDENCE_PER_FREEZE);
    expect(l0.channel("air-quality")!.freezes).toBe(1);
    expect(l0.snapshots("air-quality", 1, 100)!.length).toBe(1 + MAX_EVIDENCE_PER_FREEZE);
  });
});

describe("the HTTP API under floods", () => {
  it("500 submissions at once (one channel each of 20, in order) are batched and all answered in order", async () => {
    const http = await startL0Http(l0, { port: 0 });
    try {
      const client = l0Client(http.url, { l0Keys: [L0_KEY.publicKey], timeoutMs: 60_000 });
      const chans = Array.from({ length: 20 }, (_, i) => new TestChannel(`c${i}`, snap));
      for (const c of chans) l0.register(c.registration());
      const subs = chans.flatMap((c) => Array.from({ length: 25 }, () => c.advance(c.next())));
      // Per channel in order; channels concurrently: every request of a channel waits for the one before it.
      const results = await Promise.all(
        chans.map(async (_c, i) => {
          const mine = subs.slice(i * 25, i * 25 + 25);
          const out: string[] = [];
          for (const s of mine) {
            const r = await client.submitSnapshot(s);
            out.push(r.ok ? r.status : r.code);
          }
          return out;
        }),
      );
      expect(results.flat().every((s) => s === "accepted")).toBe(true);
      expect(l0.channel("c7")!.head.height).toBe(25);
    } finally {
      await http.close();
    }
  });

  it("a chunked body without a length that grows past the limit is cut off with 413", async () => {
    const http = await startL0Http(l0, { port: 0, maxBodyBytes: 10_000 });
    try {
      const stream = new ReadableStream<Uint8Array>({
        start(ctl) {
          for (let i = 0; i < 100; i++) ctl.enqueue(new TextEncoder().encode(`"${"z".repeat(1_000)}",`));
          ctl.close();
        },
      });
      const res = await fetch(`${http.url}/v1/snapshots`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
      expect(res.status).toBe(413);
      expect(((await res.json()) as { code: string }).code).toBe("L0_TOO_LARGE");
    } finally {
      await http.close();
    }
  });
});
