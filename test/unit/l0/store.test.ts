/**
 * The store: everything L0 decided is there after it is closed and opened
 * again (registrations and versions, heads, acknowledgements, forks and
 * freezes, upgrade approvals, pending entries and global snapshots); one
 * process per store; migrations; the identity the store was created with.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { keyPairFromName } from "../../../runtime/core/index.js";
import { ENCODING_V1, L0Store, L0_MIGRATIONS, openL0, verifyGlobal, embeddedValidators } from "../../../runtime/l0/index.js";
import { defHash, group, L0_KEY, signed, TestChannel, tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

const snap = group("snap", 4);

describe("reopening the store", () => {
  it("keeps registrations, heads, acknowledgements, forks, upgrades, pending entries and global snapshots", () => {
    let l0 = openL0({ store: t.file(), key: L0_KEY });
    const a = new TestChannel("air-quality", snap);
    const b = new TestChannel("water", snap);
    l0.register(a.registration());
    l0.register(b.registration());
    const ack1 = l0.submitSnapshot(a.advance(a.next()));
    const g1 = l0.cut()!;
    const ack2 = l0.submitSnapshot(a.advance(a.next()));
    l0.submitSnapshot(b.advance(b.next()));
    const fork = new TestChannel("water", snap).next({ salt: "other" });
    expect(l0.submitSnapshot(fork)).toMatchObject({ ok: false, refusal: { code: "L0_FORK" } });
    const u = { type: "upgrade" as const, encoding: ENCODING_V1, channel: "air-quality", registration: 1, fromDefinitionHash: defHash("v1"), toDefinitionHash: defHash("v2"), atHeight: 9 };
    l0.upgrade(signed(u, snap, 2));
    const before = { a: l0.channel("air-quality"), b: l0.channel("water"), upgrades: l0.upgrades("air-quality"), pending: l0.pending, pendingOrdinal: l0.pendingOrdinal };
    l0.close();

    l0 = openL0({ store: t.file(), key: L0_KEY });
    try {
      expect({ a: l0.channel("air-quality"), b: l0.channel("water"), upgrades: l0.upgrades("air-quality"), pending: l0.pending, pendingOrdinal: l0.pendingOrdinal }).toEqual(before);
      expect(l0.latestGlobal()).toEqual(g1);
      expect(l0.submitSnapshot(a.next())).toMatchObject({ ok: true, status: "accepted", ack: { ack: { height: 3, ordinal: 2 } } });
      // Acknowledgements given before the restart are answered again unchanged.
      const again = l0.submitSnapshots([new TestChannel("air-quality", snap).next(), a.advance(a.next())]);
      expect(again[0]).toEqual({ ...ack1, status: "known" });
      expect(l0.channel("water")!.status).toBe("frozen");
      // The third approval completes the upgrade that had two before the restart.
      expect(l0.upgrade(signed(u, snap, 1, 2))).toMatchObject({ ok: true, status: "scheduled" });
      const g2 = l0.cut()!;
      expect(verifyGlobal(g2, embeddedValidators(L0_KEY.publicKey), { ordinal: 1, hash: g1.hash })).toEqual({ ok: true });
      expect(g2.global.snapshots.map((e) => `${e.channel}@${e.height}`)).toEqual(["air-quality@2", "air-quality@3", "water@1"]);
      expect(ack2.ok && ack2.ack.ack.ordinal).toBe(2);
    } finally {
      l0.close();
    }
  });

  it("refuses a second process on the same store, and another identity key", () => {
    const l0 = openL0({ store: t.file(), key: L0_KEY });
    try {
      expect(() => openL0({ store: t.file(), key: L0_KEY })).toThrow(expect.objectContaining({ code: "L0_STORE_LOCKED" }));
    } finally {
      l0.close();
    }
    expect(() => openL0({ store: t.file(), key: keyPairFromName("someone-else") })).toThrow(expect.objectContaining({ code: "L0_IDENTITY_MISMATCH" }));
  });

  it("refuses a store written by a newer statecell, and a folder that does not exist", () => {
    L0Store.open(t.file()).close();
    const db = new Database(t.file());
    db.prepare("INSERT INTO l0_schema (version, name, applied) VALUES (?, ?, ?)").run(L0_MIGRATIONS.length + 1, "future", 0);
    db.close();
    expect(() => L0Store.open(t.file())).toThrow(expect.objectContaining({ code: "L0_STORE_TOO_NEW" }));
    expect(() => L0Store.open(`${t.dir}/missing/l0.db`)).toThrow(expect.objectContaining({ code: "L0_STORE_OPEN_FAILED" }));
  });

  it("bad options are refused with L0_CONFIG", () => {
    expect(() => openL0({ store: ":memory:", key: L0_KEY, maxPerGlobal: 0 })).toThrow(expect.objectContaining({ code: "L0_CONFIG" }));
  });
});
