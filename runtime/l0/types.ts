/**
 * The L0 contract: the records a channel sends to the global L0 ledger, what
 * L0 answers, and what it appends to its global chain. Everything here is
 * plain JSON, hashed and signed through the record's `encoding`
 * (runtime/l0/encoding.ts), and documented byte for byte in docs/l0.md. The
 * channel side (its snapshot consensus and outbox) and an auditor's offline
 * verify are written against these types, so a change here is a change of
 * the contract.
 */
import type { Json } from "../core/canonical.js";
import type { CommitCertificate } from "../consensus/types.js";

/** The first (and today the only) encoding: RFC 8785 canonical JSON, sha256 with a domain tag, ed25519. */
export const ENCODING_V1 = "statecell/1";

/**
 * `prevHash` of a channel's snapshot at height 1, and of the global snapshot at
 * ordinal 1: 64 zeros, the value consensus uses before a group's first block.
 */
export const GENESIS_HASH = "0".repeat(64);

/** The consensus cell name a channel's snapshot group certifies snapshots under. */
export const SNAPSHOT_CELL = "snapshots";

/**
 * The consensus (channel, cell) of global snapshots: the commit certificate of
 * global snapshot `ordinal` is the precommits of L0's validators for
 * (L0_CONSENSUS_CHANNEL, L0_CONSENSUS_CELL, ordinal, round, its hash). Channel
 * names are lowercase (schemas/channel.schema.json), so no channel can be
 * named "L0" and have its validators' precommits pass for L0's.
 */
export const L0_CONSENSUS_CHANNEL = "L0";
export const L0_CONSENSUS_CELL = "global";

/** A validator of a registered group: its name in the channel file and its ed25519 public key (64 hex). */
export interface RegisteredValidator {
  name: string;
  key: string;
}

/** A group as registered: validators in the channel file's order and the quorum `q` (a count, 3q > 2n). */
export interface RegisteredGroup {
  validators: RegisteredValidator[];
  threshold: number;
}

/**
 * A channel's registration, version 1 or a later version. Version 1 has
 * `prev: null` and is signed by a threshold of its own snapshot group; version
 * n + 1 has `prev` = the hash of version n and is signed by a threshold of
 * version n's snapshot group. A ledger record, never configuration.
 */
export interface Registration {
  type: "registration";
  encoding: string;
  channel: string;
  version: number;
  /** The channel plan's hash (`plan.hash`) in force; changed only by upgrades. */
  definitionHash: string;
  groups: Record<string, RegisteredGroup>;
  /** The group whose commit certificates certify snapshots. */
  snapshotGroup: string;
  /** The token's genesis (name, symbol, decimals, balances...), or null for a channel without one. */
  token: { [key: string]: Json } | null;
  prev: string | null;
}

/**
 * A governed change of the channel's definition: from `atHeight` on, snapshots
 * carry `toDefinitionHash`. Approved by a threshold of the snapshot group of
 * registration version `registration` (the current one); approvals may arrive
 * one at a time. `toDefinitionHash` equal to `fromDefinitionHash` cancels a
 * scheduled upgrade that has not taken effect.
 */
export interface Upgrade {
  type: "upgrade";
  encoding: string;
  channel: string;
  registration: number;
  fromDefinitionHash: string;
  toDefinitionHash: string;
  atHeight: number;
}

/**
 * What unfreezes a channel after a fork: names the snapshot to continue from
 * (`height`, `hash`: one L0 holds, accepted or kept as evidence) for freeze
 * number `freeze` (so an old record cannot be replayed after a later fork).
 * Signed by a threshold of the current registration's snapshot group.
 */
export interface Resume {
  type: "resume";
  encoding: string;
  channel: string;
  registration: number;
  freeze: number;
  height: number;
  hash: string;
}

/** A governance record. */
export type GovernanceRecord = Registration | Upgrade | Resume;

/** One ed25519 signature by `key` over the record's signing bytes (encoding.ts `recordBytes`). */
export interface RecordSignature {
  key: string;
  signature: string;
}

/** A record with the signatures that approve it. */
export interface SignedRecord<R> {
  record: R;
  signatures: RecordSignature[];
}

/** The head of one cell as a snapshot records it. */
export interface SnapshotCell {
  height: number;
  hash: string;
  stateRoot: string;
}

/** A channel snapshot: the head of every cell (and the token state) at one snapshot height. */
export interface Snapshot {
  type: "snapshot";
  encoding: string;
  channel: string;
  definitionHash: string;
  /** 1, 2, ... */
  height: number;
  /** The hash of the snapshot at height - 1, or GENESIS_HASH at height 1. */
  prevHash: string;
  cells: Record<string, SnapshotCell>;
  token: { stateRoot: string } | null;
}

/**
 * What the channel side POSTs: the snapshot, the hash it claims for it, and
 * the snapshot group's commit certificate for (channel, SNAPSHOT_CELL, height,
 * round, hash).
 */
export interface SnapshotSubmission {
  snapshot: Snapshot;
  hash: string;
  certificate: CommitCertificate;
}

/** L0's acknowledgement of an accepted snapshot. */
export interface Ack {
  type: "ack";
  encoding: string;
  channel: string;
  height: number;
  hash: string;
  /** The global snapshot that includes (or will include) the snapshot. */
  ordinal: number;
  /** The public key of the L0 validator that signs this acknowledgement. */
  l0: string;
}

/** An acknowledgement and L0's signature over its signing bytes. */
export interface SignedAck {
  ack: Ack;
  signature: string;
}

/** A channel snapshot a global snapshot includes. */
export interface GlobalEntry {
  channel: string;
  height: number;
  hash: string;
}

/** A governance fact a global snapshot records, in the order L0 appended them. */
export type GlobalEvent =
  | { kind: "registration"; channel: string; version: number; hash: string }
  | { kind: "upgrade"; channel: string; atHeight: number; hash: string }
  | { kind: "fork"; channel: string; height: number; hash: string; kept: string }
  | { kind: "resume"; channel: string; height: number; hash: string; record: string };

/** One link of the global chain. */
export interface GlobalSnapshot {
  type: "global";
  encoding: string;
  ordinal: number;
  /** The previous global snapshot's hash, GENESIS_HASH at ordinal 1. */
  prevHash: string;
  /** L0's clock when it was cut (unix ms), never less than the previous one's. */
  time: number;
  /** Channel snapshots accepted since the previous one, by channel then height. */
  snapshots: GlobalEntry[];
  events: GlobalEvent[];
}

/** A global snapshot, its hash and the commit certificate of L0's validators (one key in embedded mode). */
export interface CertifiedGlobal {
  global: GlobalSnapshot;
  hash: string;
  certificate: CommitCertificate;
}

/** A refusal: a code, what happened, the actual and the required values, and what to do instead. */
export interface Refusal {
  code: string;
  message: string;
  remedy: string;
  actual: Json;
  required: Json;
}
