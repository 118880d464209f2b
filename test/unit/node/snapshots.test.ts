/**
 * The channel side of L0, piece by piece: the snapshot application's checks
 * against hostile proposals, the ledger's snapshot chain (one snapshot per
 * height, its outbox row in the same transaction, surviving a reopen), the
 * sender's backoff, the reserved cell name and the export routes' parameters.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { loadChannel, requireChannel } from "../../../runtime/definition/index.js";
import { cachingVerifier, GENESIS_HASH, precommitString, validatorSet, type CommitCertificate } from "../../../runtime/consensus/index.js";
import { openLedger } from "../../../runtime/ledger/index.js";
import { SnapshotHost, backoffDelay, genesisRegistration, registrationHash, signRegistration, snapshotApplication, snapshotHash, snapshotProblem, type CertifiedHead, type SnapshotChainState, type SnapshotValue } from "../../../runtime/node/l0/index.js";
import { registrationSignatureValid } from "../../../runtime/node/l0/registration.js";
import { matchExport } from "../../../runtime/node/api/export-routes.js";
import { checkRegistrationShape } from "../../../runtime/l0/shapes.js";

const plan = requireChannel(`
channel: snap
version: 1
groups:
  a: { validators: [a1, a2, a3, a4], threshold: 3 }
  b: { validators: [b1, b2, b3], threshold: all }
cells:
  one: { group: a, accepts: { type: object } }
  two: { group: b, accepts: { type: object } }
snapshots: { group: b, every: 2 }
`, { file: "snap.yaml" });
const keyOf = (n: string) => keyPairFromName(`snap-${n}`);
const keysOf = (g: string) => Object.fromEntries(plan.groups[g].validators.map((v) => [v, keyOf(v).publicKey]));
const sets = { one: validatorSet(plan.groups.a, keysOf("a")), two: validatorSet(plan.groups.b, keysOf("b")) };

function certify(cell: string, height: number, valueId: string, signers: string[]): CommitCertificate {
  const text = new TextEncoder().encode(precommitString("snap", cell, height, 0, valueId));
  return { channel: "snap", cell, height, round: 0, valueId, signatures: signers.map((s) => ({ validator: keyOf(s).publicKey, signature: signBytes(keyOf(s), text) })) };
}
const head = (cell: string, height: number, tag: string, signers: string[]): CertifiedHead => {
  const hash = tag.repeat(64).slice(0, 64);
  return { height, hash, stateRoot: "c".repeat(64), certificate: certify(cell, height, hash, signers) };
};

describe("the snapshot application", () => {
  const heads: Record<string, CertifiedHead | undefined> = { one: head("one", 5, "1", ["a1", "a2", "a3"]), two: head("two", 3, "2", ["b1", "b2", "b3"]) };
  const local = new Map<string, { hash: string; stateRoot: string }>();
  const ports = { heads: () => heads, local: (c: string, h: number) => local.get(`${c}/${h}`), definitionHash: () => plan.hash, tokenGenesisRoot: () => null };
  const app = snapshotApplication(plan, sets, cachingVerifier(), ports);
  const genesis: SnapshotChainState = { height: 0, hash: GENESIS_HASH, cells: null };
  const value = app.buildValue({ height: 1, round: 0, prevHash: GENESIS_HASH, time: 1, state: genesis, pending: [] }) as unknown as SnapshotValue;
  const problem = (v: unknown, state = genesis, height = 1, prev = GENESIS_HASH) => snapshotProblem(plan, sets, cachingVerifier(), ports, state, height, prev, v);
  const edit = (f: (v: SnapshotValue) => void): SnapshotValue => {
    const c = structuredClone(value);
    f(c);
    return c;
  };

  it("builds an L0 snapshot of every cell's certified head, with value id = its L0 hash", () => {
    expect(value.snapshot).toMatchObject({ type: "snapshot", encoding: "statecell/1", channel: "snap", definitionHash: plan.hash, height: 1, prevHash: GENESIS_HASH, token: null });
    expect(value.snapshot.cells.one).toEqual({ height: 5, hash: heads.one!.hash, stateRoot: "c".repeat(64) });
    expect(app.valueId(value as never)).toBe(snapshotHash(value.snapshot));
    expect(problem(value)).toBeUndefined();
    expect(app.validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesis }, value as never)).toBe(true);
    const after = app.applyValue(genesis, value as never);
    expect(after).toEqual({ height: 1, hash: snapshotHash(value.snapshot), cells: value.snapshot.cells, token: null });
  });

  it("a cell unchanged since the last snapshot is carried without a certificate, and may not change without one", () => {
    const state = app.applyValue(genesis, value as never);
    const next = app.buildValue({ height: 2, round: 0, prevHash: state.hash, time: 2, state, pending: [] }) as unknown as SnapshotValue;
    expect(next.certificates).toEqual({ one: null, two: null });
    expect(problem(next, state, 2, state.hash)).toBeUndefined();
    const changed = structuredClone(next);
    changed.snapshot.cells.two.stateRoot = "d".repeat(64);
    expect(problem(changed, state, 2, state.hash)).toMatch(/cell two at height 3 differs from the previous snapshot/);
    const back = structuredClone(next);
    back.snapshot.cells.one = { height: 4, hash: "e".repeat(64), stateRoot: "c".repeat(64) };
    expect(problem(back, state, 2, state.hash)).toMatch(/cell one goes back from height 5 to 4/);
  });

  it("a certified snapshot is judged like a proposal: a token head is checked against certificates, never this node's token height", () => {
    // The token root a snapshot carries is that of a certified token head its value names (token-host test), so a
    // snapshot caught up later that names an older token head needs no exception; a channel without a token never
    // carries one (L0 refuses it, L0_TOKEN), certified or not.
    const older = edit((v) => (v.snapshot.token = { stateRoot: "f".repeat(64) }));
    expect(problem(older)).toMatch(/token/);
    expect(snapshotProblem(plan, sets, cachingVerifier(), ports, genesis, 1, GENESIS_HASH, older, true)).toMatch(/token/);
    expect(app.validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesis, certified: true }, older as never)).toBe(false);
    // Everything else is still checked on a certified snapshot.
    expect(snapshotProblem(plan, sets, cachingVerifier(), ports, genesis, 1, GENESIS_HASH, edit((v) => (v.certificates.one = certify("one", 5, heads.one!.hash, ["a1", "a2"]))), true)).toMatch(/2 signatures/);
  });

  it("refuses hostile proposals with the reason, and never throws", () => {
    expect(problem(edit((v) => (v.snapshot.height = 2)))).toMatch(/height 2 is not 1/);
    expect(problem(edit((v) => (v.snapshot.prevHash = "f".repeat(64))))).toMatch(/prevHash/);
    expect(problem(edit((v) => (v.snapshot.definitionHash = "f".repeat(64))))).toMatch(/not the definition in force/);
    expect(problem(edit((v) => (v.snapshot.channel = "other")))).toMatch(/channel other/);
    expect(problem(edit((v) => (v.snapshot.token = { stateRoot: "f".repeat(64) })))).toMatch(/token/);
    expect(problem(edit((v) => delete (v.snapshot.cells as Record<string, unknown>).two))).toMatch(/cells are not the channel's/);
    expect(problem(edit((v) => ((v.snapshot.cells as Record<string, unknown>).three = { height: 0, hash: GENESIS_HASH, stateRoot: "c".repeat(64) })))).toMatch(/cells are not/);
    expect(problem(edit((v) => ((v as unknown as Record<string, unknown>).extra = 1)))).toMatch(/\{ snapshot, certificates \}/);
    // A head certified by too few, by outsiders, or for another hash.
    expect(problem(edit((v) => (v.certificates.one = certify("one", 5, heads.one!.hash, ["a1", "a2"]))))).toMatch(/cell one height 5: 2 signatures/);
    expect(problem(edit((v) => (v.certificates.two = certify("two", 3, heads.two!.hash, ["b1", "b2", "a1"]))))).toMatch(/not a validator/);
    expect(problem(edit((v) => (v.snapshot.cells.one.hash = "9".repeat(64))))).toMatch(/cell one height 5/);
    expect(problem(edit((v) => (v.certificates.one = null)))).toMatch(/cell one height 5: a certificate is an object/);
    // A head this node holds otherwise.
    local.set("one/5", { hash: heads.one!.hash, stateRoot: "0".repeat(64) });
    expect(problem(value)).toMatch(/this node holds hash/);
    local.clear();
    for (const junk of [null, 1, "x", [], { snapshot: null, certificates: {} }, { snapshot: { ...value.snapshot, cells: { one: { height: -1 } } }, certificates: {} }, { snapshot: value.snapshot, certificates: [] }]) {
      expect(typeof problem(junk)).toBe("string");
      expect(app.validateValue({ height: 1, prevHash: GENESIS_HASH, state: genesis }, junk as never)).toBe(false);
    }
  });
});

describe("the registration a snapshot group signs", () => {
  it("is an L0 registration of every group with its keys, signed by each member", () => {
    const r = genesisRegistration(plan, keysOf);
    expect(checkRegistrationShape(r as never).ok).toBe(true);
    expect(r.groups.b).toEqual({ validators: plan.groups.b.validators.map((v) => ({ name: v, key: keyOf(v).publicKey })), threshold: 3 });
    expect(r.snapshotGroup).toBe("b");
    const sig = signRegistration(r, keyOf("b1"));
    expect(registrationSignatureValid(r, sig.key, sig.signature)).toBe(true);
    expect(registrationSignatureValid(r, keyOf("b2").publicKey, sig.signature)).toBe(false);
    expect(registrationSignatureValid({ ...r, version: 2 }, sig.key, sig.signature)).toBe(false);
    expect(registrationSignatureValid(r, "zz", 5)).toBe(false);
    expect(registrationHash(r)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("the ledger's snapshot chain", () => {
  const block = (height: number, tag: string) => ({ height, value: { snapshot: { height, tag } }, certificate: { channel: "snap", cell: "snapshots", height, round: 0, valueId: tag.repeat(64), signatures: [] } }) as never;
  it("one snapshot per height, following the head, queued for L0 in the same transaction, kept across a reopen", () => {
    const dir = mkdtempSync(join(tmpdir(), "statecell-snapchain-"));
    try {
      const file = join(dir, "ledger.sqlite");
      let ledger = openLedger(file);
      const row = (h: number, tag: string) => [{ key: `l0/snapshot/snap/${h}/${tag.repeat(64)}`, target: "l0", kind: "snapshot", payload: { channel: "snap", height: h, hash: tag.repeat(64) } }];
      expect(ledger.snapshots.append("snap", { height: 1, hash: "a".repeat(64), prevHash: GENESIS_HASH, block: block(1, "a"), decided: 1 }, row(1, "a"))).toBe(true);
      expect(ledger.snapshots.append("snap", { height: 1, hash: "a".repeat(64), prevHash: GENESIS_HASH, block: block(1, "a"), decided: 2 }, row(1, "a"))).toBe(false);
      expect(() => ledger.snapshots.append("snap", { height: 1, hash: "b".repeat(64), prevHash: GENESIS_HASH, block: block(1, "b"), decided: 3 }, row(1, "b"))).toThrow(expect.objectContaining({ code: "LEDGER_FORK" }));
      expect(() => ledger.snapshots.append("snap", { height: 3, hash: "c".repeat(64), prevHash: "a".repeat(64), block: block(3, "c"), decided: 3 }, row(3, "c"))).toThrow(expect.objectContaining({ code: "LEDGER_NOT_NEXT" }));
      expect(() => ledger.snapshots.append("snap", { height: 2, hash: "c".repeat(64), prevHash: "f".repeat(64), block: block(2, "c"), decided: 3 }, row(2, "c"))).toThrow(expect.objectContaining({ code: "LEDGER_NOT_NEXT" }));
      // A failed append writes nothing: the outbox holds height 1 once, and nothing else.
      expect(ledger.outbox.undelivered({ target: "l0" }).map((r) => r.key)).toEqual([`l0/snapshot/snap/1/${"a".repeat(64)}`]);
      ledger.snapshots.putAck("snap", 1, "a".repeat(64), { ack: { height: 1 }, signature: "s" }, 5);
      ledger.snapshots.putAck("snap", 1, "a".repeat(64), { ack: { height: 1 }, signature: "other" }, 6);
      ledger.close();
      ledger = openLedger(file);
      expect(ledger.snapshots.head("snap")?.height).toBe(1);
      expect(ledger.snapshots.from("snap", 1, 10).map((s) => s.hash)).toEqual(["a".repeat(64)]);
      expect(ledger.outbox.undelivered({ target: "l0" }).length).toBe(1);
      expect(ledger.snapshots.ack("snap", 1)).toEqual({ hash: "a".repeat(64), ack: { ack: { height: 1 }, signature: "s" }, received: 5 });
      ledger.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("delivery to L0", () => {
  it("backs off exponentially with jitter, capped", () => {
    expect(backoffDelay(0, 200, 10_000, () => 0)).toBe(100);
    expect(backoffDelay(0, 200, 10_000, () => 0.999999)).toBe(199);
    expect(backoffDelay(3, 200, 10_000, () => 0.5)).toBe(1200);
    for (let a = 0; a < 60; a++) {
      const d = backoffDelay(a, 200, 10_000, Math.random);
      expect(d).toBeGreaterThanOrEqual(Math.min(10_000, 200 * 2 ** a) / 2 - 1);
      expect(d).toBeLessThanOrEqual(10_000);
    }
  });
});

describe("the reserved cell name", () => {
  it("a cell called snapshots is refused with DEFINITION_RESERVED_CELL at its key", () => {
    const src = "channel: x\nversion: 1\ngroups:\n  g: { validators: [a], threshold: all }\ncells:\n  snapshots: { group: g, accepts: { type: object } }\n";
    const { plan: p, problems } = loadChannel(src, { file: "x.yaml" }, {});
    expect(p).toBeUndefined();
    expect(problems.find((x) => x.code === "DEFINITION_RESERVED_CELL")).toMatchObject({ location: { line: 6 } });
  });
});

describe("the export routes", () => {
  it("parse their parameters and refuse hostile ones with API_BAD_PARAM", () => {
    expect(matchExport("/v1/inputs")).toBeUndefined();
    expect(matchExport("/v1/export")).toMatchObject({ part: "list" });
    expect(matchExport("/v1/export/alpha/blocks/items?from=5&limit=20")).toMatchObject({ part: "blocks", channel: "alpha", cell: "items", from: 5, limit: 20 });
    expect(matchExport("/v1/export/alpha/snapshots")).toMatchObject({ part: "snapshots", from: 1, limit: 100 });
    for (const bad of ["/v1/export/alpha/acks?limit=0", "/v1/export/alpha/acks?limit=1001", "/v1/export/alpha/acks?from=-1", "/v1/export/alpha/acks?from=1e3", "/v1/export/%2e%2e", "/v1/export/alpha/blocks/__proto__x!"]) {
      expect(matchExport(bad), bad).toMatchObject({ status: 400, code: "API_BAD_PARAM" });
    }
    expect(matchExport("/v1/export/alpha/nope")).toMatchObject({ status: 404 });
  });
});

describe("a snapshot host against what strangers send", () => {
  it("drops junk, heads and signatures it cannot check, never throws or faults, and gathers valid signatures into the outbox", () => {
    const dir = mkdtempSync(join(tmpdir(), "statecell-snaphost-"));
    const ledger = openLedger(join(dir, "ledger.sqlite"));
    const faults: unknown[] = [];
    const sent: Array<{ peer: string; bytes: Uint8Array }> = [];
    const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;
    const host = new SnapshotHost({
      plan,
      identity: keyOf("b1"),
      group: sets.two,
      cellSets: sets,
      peers: ["b2", "b3"].map((n) => keyOf(n).publicKey),
      ledger,
      hosted: new Set(["two"]),
      keysOf,
      send: (peer, _ch, bytes) => void sent.push({ peer, bytes }),
      log: silent,
      fault: (e) => void faults.push(e),
      now: Date.now,
    });
    try {
      host.start();
      const b2 = keyOf("b2").publicKey;
      const a1 = keyOf("a1").publicKey;
      const stranger = keyPairFromName("stranger").publicKey;
      const good = head("one", 5, "1", ["a1", "a2", "a3"]);
      const frame = (h: CertifiedHead, cell = "one") => ({ type: "cell-head", cell, height: h.height, hash: h.hash, stateRoot: h.stateRoot, certificate: h.certificate });
      const junk: unknown[] = [null, 5, "x", [], {}, { type: "cell-head" }, { type: "cell-head", cell: "__proto__", height: 9 }, { type: "cell-head", cell: "one", height: 1e300 }, { type: "registration-signature" }, { type: "proposal", height: "7" }, { type: "catchup-request", fromHeight: -1 }, { type: "catchup-response", blocks: "x" }];
      for (const j of junk) for (const from of [b2, a1, stranger]) host.receive(from, j);
      // A head announced by someone outside the cell's group, with too few signatures, or for another cell.
      host.receive(b2, frame(good));
      host.receive(stranger, frame(good));
      host.receive(a1, frame(head("one", 5, "1", ["a1", "a2"])));
      host.receive(a1, frame(good, "two"));
      host.receive(a1, { ...frame(good), stateRoot: "not hex" });
      expect(host.due()).toBe(false);
      // A consensus message from a stranger does not wake the group.
      host.receive(stranger, { type: "prevote", channel: "snap", cell: "snapshots", height: 1, round: 0, valueId: null, validator: stranger, signature: "0".repeat(128) });
      expect(host.driver.running).toBe(false);
      // The real thing: 5 blocks of cell one certified by its group make a snapshot due (every: 2).
      host.receive(a1, frame(good));
      expect(host.due()).toBe(true);

      // Registration signatures: forged, someone else's, another record's are dropped; the group's are kept.
      const reg = host.registration;
      const sig2 = signRegistration(reg, keyOf("b2"));
      host.receive(b2, { type: "registration-signature", hash: host.registrationHash, key: b2, signature: "0".repeat(128) });
      host.receive(stranger, { type: "registration-signature", hash: host.registrationHash, key: b2, signature: sig2.signature });
      host.receive(b2, { type: "registration-signature", hash: "f".repeat(64), key: b2, signature: sig2.signature });
      host.receive(a1, { type: "registration-signature", hash: host.registrationHash, key: a1, signature: signRegistration(reg, keyOf("a1")).signature });
      expect(ledger.snapshots.registration("snap", 1)!.signatures.length).toBe(1);
      expect(ledger.outbox.undelivered({ target: "l0" })).toEqual([]);
      host.receive(b2, { type: "registration-signature", hash: host.registrationHash, key: b2, signature: sig2.signature });
      host.receive(b2, { type: "registration-signature", hash: host.registrationHash, key: b2, signature: sig2.signature });
      expect(ledger.snapshots.registration("snap", 1)!.signatures.length).toBe(2);
      const b3 = keyOf("b3").publicKey;
      host.receive(b3, { type: "registration-signature", hash: host.registrationHash, key: b3, signature: signRegistration(reg, keyOf("b3")).signature });
      expect(ledger.snapshots.registration("snap", 1)!.signatures.map((x) => x.key)).toEqual(["b1", "b2", "b3"].map((n) => keyOf(n).publicKey));
      expect(ledger.outbox.undelivered({ target: "l0" }).map((r) => r.kind)).toEqual(["registration"]);
      expect(faults).toEqual([]);
    } finally {
      host.stop();
      ledger.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
