/**
 * What L0 knows of each channel, as the pure decisions read it: the
 * registration versions, the definition in force at each height, and the
 * channel's chain (head, freezes, and what is held at a height, through a
 * read port so that history need not be in memory). The service keeps these
 * in step with its SQLite store (store.ts).
 */
import type { RecordSignature, Registration, SignedAck } from "./types.js";

/** One registration version as L0 appended it. */
export interface RegistrationVersion {
  version: number;
  /** The record's hash (what version + 1 names as `prev`). */
  hash: string;
  record: Registration;
  signatures: RecordSignature[];
  /** The first snapshot height this version's snapshot group certifies: the head + 1 when L0 appended it. */
  fromHeight: number;
}

/** The definition hash snapshots carry from `fromHeight` on (until the next change). */
export interface DefinitionChange {
  fromHeight: number;
  definitionHash: string;
  /** The hash of the record that made the change: the registration, or the upgrade. */
  source: string;
}

/** Every registration fact of one channel. */
export interface ChannelRegistry {
  channel: string;
  /** Ascending; the last one is current. */
  versions: readonly RegistrationVersion[];
  /** Ascending by fromHeight; the first is version 1's definition from height 1. */
  definitions: readonly DefinitionChange[];
}

/** Registrations by channel name. */
export interface L0Registry {
  registration(channel: string): ChannelRegistry | undefined;
}

/** `accepted`: on the channel's chain; `evidence`: kept as fork evidence; `superseded`: left by a resume. */
export type SnapshotStatus = "accepted" | "evidence" | "superseded";

/** A snapshot L0 holds. */
export interface KnownSnapshot {
  height: number;
  hash: string;
  prevHash: string;
  definitionHash: string;
  status: SnapshotStatus;
  /** The registration version whose snapshot group certified it. */
  registration: number;
  /** The acknowledgement L0 gave (null for evidence never accepted). */
  ack: SignedAck | null;
}

/** A channel frozen by a fork: the heights' snapshots L0 holds (the accepted one first). */
export interface Freeze {
  /** 1 for the channel's first freeze, 2 for the next... (named by the resume record). */
  freeze: number;
  height: number;
  hashes: string[];
}

/** The chain of one channel. */
export interface ChannelState {
  channel: string;
  /** Height 0 and GENESIS_HASH before the first snapshot. */
  head: { height: number; hash: string };
  /** Freezes so far (the next freeze is freezes + 1). */
  freezes: number;
  frozen: Freeze | null;
  /** Evidence snapshots kept during the current freeze. */
  evidence: number;
  /** The snapshots L0 holds at `height`, any status. */
  at(height: number): readonly KnownSnapshot[];
}

/** Channel states by channel name. */
export interface ChannelStates {
  state(channel: string): ChannelState | undefined;
}

/** The current (last) registration version. */
export function currentVersion(reg: ChannelRegistry): RegistrationVersion {
  return reg.versions[reg.versions.length - 1];
}

/** The registration version `version`, if L0 holds it. */
export function versionOf(reg: ChannelRegistry, version: number): RegistrationVersion | undefined {
  const v = reg.versions[version - 1];
  return v !== undefined && v.version === version ? v : reg.versions.find((x) => x.version === version);
}

/** The definition change in force at `height`. */
export function definitionAt(reg: ChannelRegistry, height: number): DefinitionChange {
  const d = reg.definitions;
  for (let i = d.length - 1; i > 0; i--) if (d[i].fromHeight <= height) return d[i];
  return d[0];
}
