/**
 * The embedded L0: the pure decisions (accept.ts, governance.ts) over a
 * SQLite store (store.ts), signed with L0's own ed25519 key. Synchronous and
 * without sockets or timers: the HTTP edge (http.ts) and the process
 * (process.ts) call it. Every answer is durable before it is returned (one
 * transaction per decision, or per batch of snapshots: `submitSnapshots`),
 * and everything is reloaded from the store when the process restarts.
 */
import type { Json } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";
import { acceptSnapshot, DEFAULT_MAX_SNAPSHOT_BYTES, frozenRefusal } from "./accept.js";
import { encodingSuite, KNOWN_ENCODINGS } from "./encoding.js";
import { l0Error, refuse, short } from "./errors.js";
import { buildGlobal, certifyEmbedded, embeddedValidators, signAck } from "./global.js";
import { acceptRegistration, acceptResume, acceptUpgrade, currentDefinition, DEFAULT_MAX_RECORD_BYTES, scheduledDefinition, upgradeReadiness, type UpgradeProposal, type UpgradeReadiness } from "./governance.js";
import { currentVersion, type ChannelRegistry, type ChannelState, type ChannelStates, type DefinitionChange, type Freeze, type KnownSnapshot, type L0Registry, type RegistrationVersion } from "./model.js";
import { L0Store, type StoredSnapshot } from "./store.js";
import { GENESIS_HASH, type CertifiedGlobal, type GlobalEvent, type Refusal, type RegisteredGroup, type SignedAck } from "./types.js";

/** Default number of channel snapshots and events after which a global snapshot is cut at once. */
export const DEFAULT_MAX_PER_GLOBAL = 10_000;

/** Options of openL0. */
export interface L0ServiceOptions {
  /** Path of the SQLite store (":memory:" for tests). */
  store: string;
  /** L0's identity: signs acknowledgements and (embedded mode) global snapshots. */
  key: KeyPair;
  /** Most bytes of a snapshot submission (default 1 MiB). */
  maxSnapshotBytes?: number;
  /** Most bytes of a governance record with its signatures (default 256 KiB). */
  maxRecordBytes?: number;
  /** Cut a global snapshot as soon as this many entries are pending (default 10,000). */
  maxPerGlobal?: number;
  /** The clock global snapshots are stamped with (default Date.now). */
  now?: () => number;
}

/** The answer to a snapshot submission. */
export type SnapshotAnswer = { ok: true; status: "accepted" | "known" | "superseded"; ack: SignedAck } | { ok: false; refusal: Refusal };

/** The answer to a registration. */
export type RegistrationAnswer = { ok: true; status: "registered" | "known"; channel: string; version: number; hash: string; fromHeight: number } | { ok: false; refusal: Refusal };

/** The answer to upgrade approvals: the proposal's readiness after them. */
export type UpgradeAnswer = { ok: true; status: UpgradeReadiness["status"]; upgrade: UpgradeReadiness } | { ok: false; refusal: Refusal; upgrade?: UpgradeReadiness };

/** The answer to a resume record. */
export type ResumeAnswer = { ok: true; status: "resumed" | "known"; channel: string; height: number; hash: string; record: string } | { ok: false; refusal: Refusal };

/** What `GET /v1/channels/{channel}` shows. */
export interface ChannelView {
  channel: string;
  status: "active" | "frozen";
  head: { height: number; hash: string };
  nextHeight: number;
  definitionHash: string;
  /** An upgrade approved and not yet in effect. */
  scheduled: DefinitionChange | null;
  registration: RegistrationVersion;
  versions: Array<{ version: number; hash: string; fromHeight: number }>;
  freezes: number;
  frozen: Freeze | null;
  /** Snapshots kept as fork evidence (every freeze). */
  forks: StoredSnapshot[];
}

/** What `GET /v1/info` shows: enough for a channel or an auditor to check L0's signatures. */
export interface L0Info {
  mode: "embedded";
  key: string;
  validators: RegisteredGroup;
  encodings: readonly string[];
  limits: { maxSnapshotBytes: number; maxRecordBytes: number; maxPerGlobal: number };
  pendingOrdinal: number;
}

class ChannelMem implements ChannelRegistry, ChannelState {
  versions: RegistrationVersion[] = [];
  definitions: DefinitionChange[] = [];
  head = { height: 0, hash: GENESIS_HASH };
  freezes = 0;
  frozen: Freeze | null = null;
  evidence = 0;
  proposals: UpgradeProposal[] = [];

  constructor(
    readonly channel: string,
    private readonly store: L0Store,
  ) {}

  at(height: number): readonly KnownSnapshot[] {
    return this.store.snapshotsAt(this.channel, height);
  }
}

/**
 * Opens the embedded L0 on its store.
 * @throws StatecellError L0_STORE_OPEN_FAILED, L0_STORE_LOCKED, L0_STORE_TOO_NEW, L0_IDENTITY_MISMATCH, L0_CONFIG
 */
export function openL0(options: L0ServiceOptions): L0Service {
  return new L0Service(options);
}

/** The embedded L0 (see openL0). */
export class L0Service implements L0Registry, ChannelStates {
  readonly key: KeyPair;
  private readonly store: L0Store;
  private readonly limits: L0Info["limits"];
  private readonly now: () => number;
  private mem = new Map<string, ChannelMem>();
  private tip: CertifiedGlobal | undefined;
  private pendingCount = 0;

  constructor(o: L0ServiceOptions) {
    this.limits = {
      maxSnapshotBytes: positive("maxSnapshotBytes", o.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES),
      maxRecordBytes: positive("maxRecordBytes", o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES),
      maxPerGlobal: positive("maxPerGlobal", o.maxPerGlobal ?? DEFAULT_MAX_PER_GLOBAL),
    };
    this.key = o.key;
    this.now = o.now ?? Date.now;
    this.store = L0Store.open(o.store);
    try {
      const known = this.store.meta("key");
      if (known === undefined) this.store.transaction(() => this.store.setMeta("key", o.key.publicKey));
      else if (known !== o.key.publicKey) {
        throw l0Error(
          "L0_IDENTITY_MISMATCH",
          `the L0 store ${o.store.slice(0, 200)} was written by the key ${short(known)}; this process has the key ${short(o.key.publicKey)}`,
          "start L0 with the identity key file that created this data folder: channels hold acknowledgements signed by that key",
          { store: o.store, stored: known, given: o.key.publicKey },
        );
      }
      this.reload();
    } catch (e) {
      this.store.close();
      throw e;
    }
  }

  /** Rebuilds the in-memory view from the store (at open, and after a failed transaction). */
  private reload(): void {
    this.mem = new Map();
    for (const c of this.store.loadChannels()) {
      const m = new ChannelMem(c.channel, this.store);
      Object.assign(m, { versions: c.versions, definitions: c.definitions, head: c.head, freezes: c.freezes, frozen: c.frozen, evidence: c.evidence, proposals: c.proposals });
      this.mem.set(c.channel, m);
    }
    this.tip = this.store.lastGlobal();
    this.pendingCount = this.store.pendingCount(this.pendingOrdinal);
  }

  /** The ordinal of the global snapshot being filled: the one an acknowledgement given now names. */
  get pendingOrdinal(): number {
    return (this.tip?.global.ordinal ?? 0) + 1;
  }

  registration(channel: string): ChannelRegistry | undefined {
    return this.mem.get(channel);
  }

  state(channel: string): ChannelState | undefined {
    return this.mem.get(channel);
  }

  info(): L0Info {
    return { mode: "embedded", key: this.key.publicKey, validators: embeddedValidators(this.key.publicKey), encodings: KNOWN_ENCODINGS, limits: { ...this.limits }, pendingOrdinal: this.pendingOrdinal };
  }

  /** Decides one snapshot submission; durable when it returns. */
  submitSnapshot(body: unknown): SnapshotAnswer {
    return this.submitSnapshots([body])[0];
  }

  /**
   * Decides submissions in order (a later one may follow an earlier one of the
   * same batch), in one transaction per global snapshot they fill: the HTTP
   * edge batches requests that arrive together, so one fsync serves them all.
   */
  submitSnapshots(bodies: readonly unknown[]): SnapshotAnswer[] {
    const answers: SnapshotAnswer[] = [];
    let i = 0;
    while (i < bodies.length) {
      if (this.pendingCount >= this.limits.maxPerGlobal) this.cut();
      this.guard(() =>
        this.store.transaction(() => {
          for (; i < bodies.length && this.pendingCount < this.limits.maxPerGlobal; i++) answers.push(this.decideSnapshot(bodies[i]));
        }),
      );
    }
    return answers;
  }

  private decideSnapshot(body: unknown): SnapshotAnswer {
    const d = acceptSnapshot(this, this, body, { maxSnapshotBytes: this.limits.maxSnapshotBytes });
    switch (d.outcome) {
      case "refused":
        return { ok: false, refusal: d.refusal };
      case "known": {
        const k = d.known;
        if (k.status === "evidence" || k.ack === null) return { ok: false, refusal: forkRefusal(this.mem.get((body as { snapshot: { channel: string } }).snapshot.channel)!, k.height, k.hash, true) };
        return { ok: true, status: k.status === "accepted" ? "known" : "superseded", ack: k.ack };
      }
      case "accepted": {
        const s = d.snapshot;
        const m = this.mem.get(s.channel)!;
        const ordinal = this.pendingOrdinal;
        const ack = signAck({ type: "ack", encoding: s.encoding, channel: s.channel, height: s.height, hash: d.hash, ordinal, l0: this.key.publicKey }, this.key);
        // A snapshot superseded by a resume and sent again as the next one is accepted again, with a new acknowledgement.
        const again = m.at(s.height).some((k) => k.hash === d.hash);
        if (again) this.store.setSnapshot(s.channel, s.height, d.hash, "accepted", ack, ordinal);
        else this.store.insertSnapshot({ channel: s.channel, height: s.height, hash: d.hash, status: "accepted", snapshot: s, certificate: d.submission.certificate, registration: d.registration, ack, ordinal });
        this.store.addPendingSnapshot(ordinal, { channel: s.channel, height: s.height, hash: d.hash });
        this.pendingCount++;
        m.head = { height: s.height, hash: d.hash };
        this.store.saveChannel(m.channel, m.head, m.freezes, m.frozen, m.evidence);
        return { ok: true, status: "accepted", ack };
      }
      case "fork": {
        const s = d.snapshot;
        const m = this.mem.get(s.channel)!;
        const ordinal = this.pendingOrdinal;
        this.store.insertSnapshot({ channel: s.channel, height: s.height, hash: d.hash, status: "evidence", snapshot: s, certificate: d.submission.certificate, registration: d.registration, ack: null, ordinal });
        if (m.frozen === null) {
          m.freezes++;
          m.frozen = { freeze: m.freezes, height: s.height, hashes: [d.kept.hash, d.hash] };
          m.evidence = 1;
        } else {
          if (m.frozen.height === s.height) m.frozen = { ...m.frozen, hashes: [...m.frozen.hashes, d.hash] };
          m.evidence++;
        }
        this.event(ordinal, { kind: "fork", channel: s.channel, height: s.height, hash: d.hash, kept: d.kept.hash });
        this.store.saveChannel(m.channel, m.head, m.freezes, m.frozen, m.evidence);
        return { ok: false, refusal: forkRefusal(m, s.height, d.hash, false) };
      }
    }
  }

  /** Decides a registration (version 1 or a later version); durable when it returns. */
  register(body: unknown): RegistrationAnswer {
    const d = acceptRegistration(this, this, body, this.limits.maxRecordBytes);
    if (d.outcome === "refused") return { ok: false, refusal: d.refusal };
    const v = d.version;
    const channel = v.record.channel;
    if (d.outcome === "known") return { ok: true, status: "known", channel, version: v.version, hash: v.hash, fromHeight: v.fromHeight };
    this.guard(() =>
      this.store.transaction(() => {
        let m = this.mem.get(channel);
        if (m === undefined) {
          m = new ChannelMem(channel, this.store);
          this.mem.set(channel, m);
          this.store.saveChannel(channel, m.head, 0, null, 0);
        }
        const ordinal = this.pendingOrdinal;
        this.store.insertRegistration(v, channel, ordinal);
        m.versions = [...m.versions, v];
        if (d.definition !== null) {
          m.definitions = [d.definition];
          this.store.saveDefinitions(channel, m.definitions);
        }
        this.event(ordinal, { kind: "registration", channel, version: v.version, hash: v.hash });
      }),
    );
    return { ok: true, status: "registered", channel, version: v.version, hash: v.hash, fromHeight: v.fromHeight };
  }

  /** Decides approvals of an upgrade; durable when it returns. */
  upgrade(body: unknown): UpgradeAnswer {
    const d = acceptUpgrade(this, this, (c) => this.mem.get(c)?.proposals ?? [], body, this.limits.maxRecordBytes);
    if (d.outcome === "refused" && d.proposal === undefined) return { ok: false, refusal: d.refusal };
    const p = d.proposal!;
    const m = this.mem.get(p.record.channel)!;
    const known = m.proposals.findIndex((x) => x.hash === p.hash);
    const changed = d.outcome === "refused" ? known < 0 || m.proposals[known].status !== "refused" : d.added.length > 0 || d.scheduled;
    if (changed) {
      this.guard(() =>
        this.store.transaction(() => {
          const seq = known >= 0 ? known : m.proposals.length;
          this.store.saveUpgrade(m.channel, p, seq);
          const proposals = [...m.proposals];
          if (known >= 0) proposals[known] = p;
          else proposals.push(p);
          if (d.outcome === "approved" && d.scheduled) {
            for (const h of d.replaced) {
              const r = proposals.findIndex((x) => x.hash === h);
              proposals[r] = { ...proposals[r], status: "replaced" };
              this.store.setUpgradeStatus(m.channel, h, "replaced");
            }
            m.definitions = d.definitions!;
            this.store.saveDefinitions(m.channel, m.definitions);
            this.event(this.pendingOrdinal, { kind: "upgrade", channel: m.channel, atHeight: p.record.atHeight, hash: p.hash });
          }
          m.proposals = proposals;
        }),
      );
    }
    const line = upgradeReadiness(m, m.head.height, m.proposals).upgrades.find((u) => u.hash === p.hash)!;
    if (d.outcome === "refused") return { ok: false, refusal: d.refusal, upgrade: line };
    return { ok: true, status: line.status, upgrade: line };
  }

  /** Decides a resume record; durable when it returns. */
  resume(body: unknown): ResumeAnswer {
    const done = this.appliedResume(body);
    if (done !== undefined) return done;
    const d = acceptResume(this, this, body, this.limits.maxRecordBytes);
    if (d.outcome === "refused") return { ok: false, refusal: d.refusal };
    const m = this.mem.get(d.record.channel)!;
    const t = d.target;
    this.guard(() =>
      this.store.transaction(() => {
        const ordinal = this.pendingOrdinal;
        if (t.status === "accepted") {
          this.store.supersedeAbove(m.channel, t.height);
        } else {
          this.store.supersedeAbove(m.channel, t.height - 1);
          const ack = signAck({ type: "ack", encoding: d.record.encoding, channel: m.channel, height: t.height, hash: t.hash, ordinal, l0: this.key.publicKey }, this.key);
          this.store.setSnapshot(m.channel, t.height, t.hash, "accepted", ack, ordinal);
          this.store.addPendingSnapshot(ordinal, { channel: m.channel, height: t.height, hash: t.hash });
          this.pendingCount++;
        }
        this.store.insertResume(d.hash, d.record, d.signatures, ordinal);
        this.event(ordinal, { kind: "resume", channel: m.channel, height: t.height, hash: t.hash, record: d.hash });
        m.head = { height: t.height, hash: t.hash };
        m.frozen = null;
        m.evidence = 0;
        this.store.saveChannel(m.channel, m.head, m.freezes, m.frozen, m.evidence);
      }),
    );
    return { ok: true, status: "resumed", channel: m.channel, height: t.height, hash: t.hash, record: d.hash };
  }

  /** The same resume record again answers what it did the first time. */
  private appliedResume(body: unknown): ResumeAnswer | undefined {
    const r = (body as { record?: { encoding?: unknown } } | null)?.record;
    const suite = encodingSuite(r?.encoding);
    if (suite === undefined) return undefined;
    let hash: string;
    try {
      hash = suite.hashBytes(suite.recordBytes("resume", r));
    } catch {
      return undefined;
    }
    const held = this.store.resume(hash);
    return held === undefined ? undefined : { ok: true, status: "known", channel: held.channel, height: held.record.height, hash: held.record.hash, record: hash };
  }

  /**
   * Cuts the pending global snapshot: everything accepted since the last one,
   * certified with L0's key, appended in one transaction. Returns null when
   * nothing is pending (unless `empty`).
   */
  cut(empty = false): CertifiedGlobal | null {
    if (this.pendingCount === 0 && !empty) return null;
    const ordinal = this.pendingOrdinal;
    const { snapshots, events } = this.store.pending(ordinal);
    if (snapshots.length === 0 && events.length === 0 && !empty) {
      this.pendingCount = 0;
      return null;
    }
    const tip = this.tip === undefined ? null : { ordinal: this.tip.global.ordinal, hash: this.tip.hash, time: this.tip.global.time };
    const { global, hash } = buildGlobal(tip, this.now(), snapshots, events);
    const certified: CertifiedGlobal = { global, hash, certificate: certifyEmbedded(global, hash, this.key) };
    this.guard(() => this.store.transaction(() => this.store.appendGlobal(certified)));
    this.tip = certified;
    this.pendingCount = 0;
    return certified;
  }

  /** Entries (snapshots and events) waiting for the next global snapshot. */
  get pending(): number {
    return this.pendingCount;
  }

  latestGlobal(): CertifiedGlobal | undefined {
    return this.tip;
  }

  global(ordinal: number): CertifiedGlobal | undefined {
    return Number.isSafeInteger(ordinal) && ordinal >= 1 ? this.store.global(ordinal) : undefined;
  }

  channel(name: string): ChannelView | undefined {
    const m = this.mem.get(name);
    if (m === undefined) return undefined;
    return {
      channel: m.channel,
      status: m.frozen === null ? "active" : "frozen",
      head: m.head,
      nextHeight: m.head.height + 1,
      definitionHash: currentDefinition(m, m.head.height).definitionHash,
      scheduled: scheduledDefinition(m, m.head.height) ?? null,
      registration: currentVersion(m),
      versions: m.versions.map((v) => ({ version: v.version, hash: v.hash, fromHeight: v.fromHeight })),
      freezes: m.freezes,
      frozen: m.frozen,
      forks: this.store.evidence(m.channel),
    };
  }

  /** Snapshots of a channel from `fromHeight` on (any status), at most `limit` (1..1000). */
  snapshots(name: string, fromHeight = 1, limit = 100): StoredSnapshot[] | undefined {
    if (!this.mem.has(name)) return undefined;
    const from = Number.isSafeInteger(fromHeight) && fromHeight >= 1 ? fromHeight : 1;
    const n = Number.isSafeInteger(limit) ? Math.max(1, Math.min(limit, 1_000)) : 100;
    return this.store.snapshots(name, from, n);
  }

  /** Who has approved each upgrade of a channel, and whether its threshold is met. */
  upgrades(name: string): ReturnType<typeof upgradeReadiness> | undefined {
    const m = this.mem.get(name);
    return m === undefined ? undefined : upgradeReadiness(m, m.head.height, m.proposals);
  }

  close(): void {
    this.store.close();
  }

  private event(ordinal: number, e: GlobalEvent): void {
    this.store.addPendingEvent(ordinal, e);
    this.pendingCount++;
  }

  /** Runs a write; if it throws, memory is rebuilt from the store (the transaction wrote nothing) and the error goes on. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.reload();
      throw e;
    }
  }
}

function forkRefusal(m: ChannelMem, height: number, hash: string, again: boolean): Refusal {
  const f = m.frozen;
  if (f !== null) {
    const base = frozenRefusal(m.channel, f.height, f.freeze, f.hashes);
    return {
      ...base,
      code: "L0_FORK",
      message: `${again ? "this snapshot is already kept as fork evidence" : `a second certified snapshot for height ${height}: L0 keeps it as evidence`} (${short(hash)}); ${base.message}`,
    };
  }
  return refuse("L0_FORK", `the snapshot ${short(hash)} at height ${height} is kept as fork evidence and is not on the channel's chain`, "send the snapshots of the chain L0 holds (GET /v1/channels/{channel})", hash, m.head as unknown as Json);
}

function positive(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw l0Error("L0_CONFIG", `the L0 option ${name} is ${String(v)}; it is a whole number of 1 or more`, `give ${name} a whole number of 1 or more, or leave it out for the default`, { option: name });
  return v;
}

