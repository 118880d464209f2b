/**
 * Builders for L0 tests: validators with name-derived keys, registrations,
 * upgrades and resumes signed by chosen validators, and a channel that makes
 * its next snapshot with a real commit certificate (precommits over
 * precommitString, as the channel's snapshot consensus makes them).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyPairFromName, signBytes, utf8, type KeyPair, sha256Hex } from "../../../runtime/core/index.js";
import { precommitString, type CommitCertificate } from "../../../runtime/consensus/index.js";
import {
  ENCODING_V1,
  GENESIS_HASH,
  SNAPSHOT_CELL,
  recordHash,
  signRecord,
  type Registration,
  type Resume,
  type SignedRecord,
  type Snapshot,
  type SnapshotSubmission,
  type Upgrade,
} from "../../../runtime/l0/index.js";

/** A definition hash for tests: sha256 of a word. */
export const defHash = (word: string): string => sha256Hex(utf8(`definition:${word}`));

export interface TestGroup {
  names: string[];
  keys: KeyPair[];
  threshold: number;
}

/** `n` validators `${prefix}-1..n` with a threshold (default the smallest safe one). */
export function group(prefix: string, n: number, threshold = Math.floor((2 * n) / 3) + 1): TestGroup {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  return { names, keys: names.map((x) => keyPairFromName(x)), threshold };
}

/** A registration record of `channel` with its snapshot group `snap` (and a cell group). */
export function registration(channel: string, snap: TestGroup, opts: { version?: number; prev?: string | null; definitionHash?: string; token?: Registration["token"] } = {}): Registration {
  return {
    type: "registration",
    encoding: ENCODING_V1,
    channel,
    version: opts.version ?? 1,
    definitionHash: opts.definitionHash ?? defHash("v1"),
    groups: {
      city: { validators: snap.names.map((name, i) => ({ name, key: snap.keys[i].publicKey })), threshold: snap.threshold },
    },
    snapshotGroup: "city",
    token: opts.token ?? null,
    prev: opts.prev === undefined ? null : opts.prev,
  };
}

/** A record signed by the first `count` keys of `by` (default its threshold). */
export function signed<R extends Registration | Upgrade | Resume>(record: R, by: TestGroup, count = by.threshold, from = 0): SignedRecord<R> {
  return { record, signatures: by.keys.slice(from, from + count).map((k) => signRecord(record.type, record, k)) };
}

/** A commit certificate of (channel, "snapshots", height, round, hash) by `keys`. */
export function certificate(channel: string, height: number, hash: string, keys: readonly KeyPair[], round = 0): CommitCertificate {
  const text = precommitString(channel, SNAPSHOT_CELL, height, round, hash);
  return { channel, cell: SNAPSHOT_CELL, height, round, valueId: hash, signatures: keys.map((k) => ({ validator: k.publicKey, signature: signBytes(k, utf8(text)) })) };
}

/** A snapshot of `channel` at `height` after `prevHash`; `salt` makes a different one for the same height. */
export function snapshot(channel: string, height: number, prevHash: string, opts: { definitionHash?: string; salt?: string; cells?: number; token?: Snapshot["token"] } = {}): Snapshot {
  const cells: Snapshot["cells"] = {};
  for (let i = 0; i < (opts.cells ?? 2); i++) {
    const name = i === 0 ? "readings" : `cell${i}`;
    cells[name] = { height: height * 10 + i, hash: sha256Hex(utf8(`${channel}:${height}:${i}:${opts.salt ?? ""}:hash`)), stateRoot: sha256Hex(utf8(`${channel}:${height}:${i}:${opts.salt ?? ""}:root`)) };
  }
  return { type: "snapshot", encoding: ENCODING_V1, channel, definitionHash: opts.definitionHash ?? defHash("v1"), height, prevHash, cells, token: opts.token ?? null };
}

/** A submission of `s` certified by `keys`. */
export function submission(s: Snapshot, keys: readonly KeyPair[], round = 0): SnapshotSubmission {
  const hash = recordHash("snapshot", s);
  return { snapshot: s, hash, certificate: certificate(s.channel, s.height, hash, keys, round) };
}

/** A channel's side in a test: makes the next snapshot on top of the last one it made. */
export class TestChannel {
  head = { height: 0, hash: GENESIS_HASH };
  definitionHash = defHash("v1");
  constructor(
    readonly name: string,
    readonly snap: TestGroup,
  ) {}

  registration(opts: Parameters<typeof registration>[2] = {}): SignedRecord<Registration> {
    return signed(registration(this.name, this.snap, { definitionHash: this.definitionHash, ...opts }), this.snap);
  }

  /** The next snapshot, certified by a threshold (or `keys`); call `advance` once L0 accepted it. */
  next(opts: { salt?: string; keys?: readonly KeyPair[]; definitionHash?: string; cells?: number; round?: number; token?: Snapshot["token"] } = {}): SnapshotSubmission {
    const s = snapshot(this.name, this.head.height + 1, this.head.hash, { definitionHash: opts.definitionHash ?? this.definitionHash, salt: opts.salt, cells: opts.cells, token: opts.token });
    return submission(s, opts.keys ?? this.snap.keys.slice(0, this.snap.threshold), opts.round);
  }

  advance(sub: SnapshotSubmission): SnapshotSubmission {
    this.head = { height: sub.snapshot.height, hash: sub.hash };
    return sub;
  }
}

/** A temporary folder, removed by `cleanup`. */
export function tempDir(prefix = "l0-"): { dir: string; file: (name?: string) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, file: (name = "l0.db") => join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The L0 key used by tests. */
export const L0_KEY = keyPairFromName("l0-test");
