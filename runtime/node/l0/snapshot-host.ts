/**
 * The snapshot group of one channel at one node: a group driver for the
 * pseudo-cell "snapshots" (the same consensus core and driver as every
 * cell), its block store in the ledger's snapshot chain, the certified heads
 * of the channel's cells (this node's own, and those the cells' validators
 * announce), and the signatures of the channel's registration.
 *
 * The driver runs only while a snapshot is due: it is started when
 * `snapshots.every` blocks of the channel's cells were certified since the
 * last snapshot (or `seconds` passed), or when a member of the group sends a
 * message for the next height (a peer found it due), and stopped as soon as
 * the snapshot is decided. So a snapshot is not proposed for every turn of
 * the timers; while stopped, catch-up requests are still served from the
 * store. docs/node.md, "Snapshots and L0".
 */
import type { Json } from "../../core/canonical.js";
import type { KeyPair } from "../../core/keys.js";
import type { ChannelPlan } from "../../definition/plan.js";
import {
  cachingVerifier,
  createGroupDriver,
  DEFAULT_CATCHUP_LIMITS,
  packCatchupResponse,
  parseCatchupRequest,
  verifyCertificate,
  type CertifiedBlock,
  type CommitCertificate,
  type ConsensusMessage,
  type GroupDriver,
  type SignatureVerifier,
  type StoredHead,
  type ValidatorSet,
} from "../../consensus/index.js";
import type { Ledger } from "../../ledger/index.js";
import type { Registration } from "../../l0/index.js";
import { NODE_TIMEOUTS } from "../cell-host.js";
import type { Logger } from "../log.js";
import { encodeWire } from "../wire.js";
import { genesisRegistration, registrationHash, registrationSignatureValid, signRegistration } from "./registration.js";
import { GENESIS_SNAPSHOT_STATE, snapshotApplication, snapshotStateOf, SNAPSHOT_CELL, type CertifiedHead, type SnapshotChainState, type SnapshotValue } from "./snapshot-app.js";
import { boundaryHeights, definitionAt, headCapAt, type SnapshotVersion } from "./snapshot-versions.js";

/** How often the host checks whether a snapshot is due, and re-sends its registration signature (ms). */
export const SNAPSHOT_CHECK_MS = 100;
const SIGNATURE_RESEND_MS = 1_000;
/** Least time between two head announcements of one cell (ms): heads are cheap, but a busy cell commits often. */
export const HEAD_ANNOUNCE_MS = 100;

/** The outbox row key of snapshot `height` of `channel`: idempotent by (channel, height, hash). */
export function snapshotOutboxKey(channel: string, height: number, hash: string): string {
  return `l0/snapshot/${channel}/${height}/${hash}`;
}

export function registrationOutboxKey(channel: string, version: number, hash: string): string {
  return `l0/registration/${channel}/${version}/${hash}`;
}

/** The target of L0's outbox rows. */
export const L0_TARGET = "l0";

/** The certified head of a committed block. */
export function headOf(block: CertifiedBlock): CertifiedHead {
  return { height: block.height, hash: block.certificate.valueId, stateRoot: String((block.value as { stateRoot?: unknown }).stateRoot), certificate: block.certificate };
}

export interface SnapshotHostDeps {
  plan: ChannelPlan;
  identity: KeyPair;
  /** The snapshot group's validator set and the sets of every cell. */
  group: ValidatorSet;
  cellSets: Readonly<Record<string, ValidatorSet>>;
  /** Public keys of the group's other validators. */
  peers: readonly string[];
  ledger: Ledger;
  /** The cells this node hosts (its ledger has their blocks). */
  hosted: ReadonlySet<string>;
  /** Public keys of a group's validators by name (from the network file). */
  keysOf(group: string): Readonly<Record<string, string>>;
  send(peer: string, channel: "consensus" | "catchup", bytes: Uint8Array): void;
  log: Logger;
  fault(error: unknown): void;
  now(): number;
  /** For a channel with a token: its state root at genesis and its genesis for the registration. */
  token?: { genesisRoot: string; genesis: NonNullable<Registration["token"]> };
  /** After a snapshot or a registration went into the outbox (the sender tries at once). */
  queued?: () => void;
  /** The channel's versions as snapshots see them (snapshot-versions.ts); without, every snapshot names the plan. */
  versions?: () => readonly SnapshotVersion[];
}

/** Messages of the host itself, beside consensus frames, on the pseudo-cell's wire channel. */
type HostFrame = { type: "cell-head"; cell: string; height: number; hash: string; stateRoot: string; certificate: CommitCertificate } | { type: "registration-signature"; hash: string; key: string; signature: string };

export class SnapshotHost {
  readonly channel: string;
  readonly driver: GroupDriver<SnapshotChainState>;
  readonly registration: Registration;
  readonly registrationHash: string;
  private readonly heads: Record<string, CertifiedHead | undefined> = {};
  /** Heads of cells this node does not host at the block before a scheduled activation, by `cell/height` (a snapshot below the upgrade's names them). */
  private readonly boundaryHeads = new Map<string, CertifiedHead>();
  private readonly verifier: SignatureVerifier = cachingVerifier();
  private head: StoredHead<SnapshotChainState> | null;
  private lastDecidedAt: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastSignatureSent = -Infinity;
  private stopped = true;

  constructor(private readonly d: SnapshotHostDeps) {
    const plan = d.plan;
    this.channel = plan.channel;
    const stored = d.ledger.snapshots.head(this.channel);
    this.head = stored === null ? null : { height: stored.height, valueId: stored.hash, state: snapshotStateOf(stored.block.value as unknown as SnapshotValue) };
    this.lastDecidedAt = stored?.decided ?? d.now();
    for (const cell of d.hosted) {
      const h = d.ledger.cell(this.channel, cell).head();
      if (h.height === 0) continue;
      const b = d.ledger.cell(this.channel, cell).block(h.height);
      if (b !== null) this.heads[cell] = headOf(b.block);
    }
    const self = this;
    const app = snapshotApplication(plan, d.cellSets, this.verifier, {
      heads: () => this.heads,
      local: (cell, height) => {
        if (!d.hosted.has(cell)) return undefined;
        const b = d.ledger.cell(this.channel, cell).block(height);
        return b === null ? undefined : { hash: b.block.certificate.valueId, stateRoot: String((b.block.value as { stateRoot?: unknown }).stateRoot) };
      },
      definitionHash: (height) => (d.versions !== undefined ? definitionAt(d.versions(), height) : plan.hash),
      headCap: (height) => (d.versions !== undefined ? headCapAt(d.versions(), height) : undefined),
      headAt: (cell, height) => {
        if (!d.hosted.has(cell)) return this.boundaryHeads.get(`${cell}/${height}`);
        const b = d.ledger.cell(this.channel, cell).block(height);
        return b === null ? undefined : headOf(b.block);
      },
      isDefinition: (hash) => hash === plan.hash || (d.versions?.().some((v) => v.hash === hash) ?? false),
      tokenGenesisRoot: () => d.token?.genesisRoot ?? null,
    });
    const store = d.ledger.cell(this.channel, SNAPSHOT_CELL);
    this.driver = createGroupDriver<SnapshotChainState>(
      {
        consensus: { channel: this.channel, cell: SNAPSHOT_CELL, validators: d.group, self: d.identity, app, timeouts: NODE_TIMEOUTS, verifier: this.verifier },
        genesis: GENESIS_SNAPSHOT_STATE,
      },
      {
        transport: {
          send: (peer, message) => d.send(peer, "catchup", encodeWire({ ch: this.channel, c: SNAPSHOT_CELL, m: message as unknown as Json })),
          broadcast: (message: ConsensusMessage) => this.broadcast("consensus", message as unknown as Json),
        },
        timers: { schedule: (ms, fire) => void setTimeout(() => this.guard(fire), ms).unref?.() },
        clock: { now: () => d.now() },
        signer: store.signer,
        wal: store.wal,
        blocks: {
          head: () => self.head,
          append: (block, valueId, state) => self.append(block, valueId, state),
          read: (from, max) => d.ledger.snapshots.from(this.channel, from, max).map((s) => s.block),
        },
        events: {
          // Decided: the group rests until the next snapshot is due (a stop from here ends the step).
          decided: () => this.driver.stop(),
          stopped: (e) => d.fault(e),
          badPeer: (peer, reason, detail) => d.log.warn("bad peer", { channel: this.channel, cell: SNAPSHOT_CELL, peer, reason, detail }),
        },
      },
    );
    this.registration = genesisRegistration(plan, d.keysOf, d.token?.genesis ?? null);
    this.registrationHash = registrationHash(this.registration);
    const reg = d.ledger.snapshots.putRegistration(this.channel, 1, this.registrationHash, this.registration as unknown as Json);
    if (reg.hash !== this.registrationHash) d.log.warn("registration differs from the one stored", { channel: this.channel, stored: reg.hash, built: this.registrationHash });
    this.addSignature(signRegistration(this.registration, d.identity));
  }

  /** The last decided snapshot's height (0 before the first). */
  get height(): number {
    return this.head?.height ?? 0;
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.guard(() => this.tick()), SNAPSHOT_CHECK_MS);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.driver.stop();
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.d.fault(e);
    }
  }

  private broadcast(channel: "consensus", m: Json): void {
    const bytes = encodeWire({ ch: this.channel, c: SNAPSHOT_CELL, m });
    for (const p of this.d.peers) this.d.send(p, channel, bytes);
  }

  /** Whether a snapshot is due by this node's own count. */
  due(): boolean {
    const s = this.d.plan.snapshots!;
    if (s.seconds !== undefined) return this.d.now() - this.lastDecidedAt >= s.seconds * 1000;
    const before = this.head?.state.cells ?? null;
    let advanced = 0;
    for (const name of Object.keys(this.d.plan.cells)) advanced += Math.max(0, (this.heads[name]?.height ?? 0) - (before?.[name]?.height ?? 0));
    return advanced >= (s.every ?? 1);
  }

  private tick(): void {
    if (this.stopped) return;
    if (!this.driver.running && this.driver.fault === null && this.due()) this.driver.start();
    const reg = this.d.ledger.snapshots.registration(this.channel, 1);
    if (reg !== null && reg.answer === null && this.d.now() - this.lastSignatureSent >= SIGNATURE_RESEND_MS) {
      this.lastSignatureSent = this.d.now();
      const mine = reg.signatures.find((s) => s.key === this.d.identity.publicKey);
      if (mine !== undefined) this.broadcast("consensus", { type: "registration-signature", hash: this.registrationHash, key: mine.key, signature: mine.signature });
    }
  }

  /** The driver's block store: the snapshot and its outbox row in one ledger transaction. */
  private append(block: CertifiedBlock, valueId: string, state: SnapshotChainState): void {
    const snapshot = (block.value as unknown as SnapshotValue).snapshot;
    const now = this.d.now();
    this.d.ledger.snapshots.append(this.channel, { height: block.height, hash: valueId, prevHash: snapshot.prevHash, block, decided: now }, [
      { key: snapshotOutboxKey(this.channel, block.height, valueId), target: L0_TARGET, kind: "snapshot", payload: { channel: this.channel, height: block.height, hash: valueId } },
    ]);
    this.head = { height: block.height, valueId, state };
    this.lastDecidedAt = now;
    setImmediate(() => this.d.queued?.());
    this.d.log.info("snapshot decided", { channel: this.channel, height: block.height, hash: valueId.slice(0, 16) });
  }

  /** A block this node committed in one of the channel's cells. */
  cellCommitted(cell: string, block: CertifiedBlock): void {
    const h = headOf(block);
    if ((this.heads[cell]?.height ?? 0) < h.height) this.heads[cell] = h;
  }

  /** A frame from a peer on the pseudo-cell: a consensus or catch-up message, a cell head, a registration signature. */
  receive(from: string, m: unknown): void {
    const type = (m as { type?: unknown } | null)?.type;
    if (type === "cell-head") return this.guard(() => this.onHead(from, m as HostFrame & { type: "cell-head" }));
    if (type === "registration-signature") return this.guard(() => this.onSignature(from, m as HostFrame & { type: "registration-signature" }));
    if (!this.d.group.index.has(from) || this.stopped) return;
    if (!this.driver.running) {
      if (type === "catchup-request") return this.guard(() => this.serveStopped(from, m));
      const h = (m as { height?: unknown } | null)?.height;
      // A member sent a message for the next height: it found a snapshot due, so this node joins.
      if (typeof h === "number" && h > this.height && this.driver.fault === null) this.guard(() => this.driver.start());
      else if (type !== "catchup-response") return;
    }
    this.guard(() => this.driver.receive(from, m));
  }

  /** Catch-up while the group rests: the stored snapshots, within the usual limits. */
  private serveStopped(from: string, m: unknown): void {
    const p = parseCatchupRequest(m, this.channel, SNAPSHOT_CELL);
    if (!p.ok) return;
    const blocks = this.d.ledger.snapshots.from(this.channel, p.message.fromHeight, Math.min(p.message.max, DEFAULT_CATCHUP_LIMITS.maxBlocks)).map((s) => s.block);
    const r = packCatchupResponse(p.message, blocks, DEFAULT_CATCHUP_LIMITS);
    if (r !== null) this.d.send(from, "catchup", encodeWire({ ch: this.channel, c: SNAPSHOT_CELL, m: r as unknown as Json }));
  }

  private onHead(from: string, f: { cell: unknown; height: unknown; hash: unknown; stateRoot: unknown; certificate: unknown }): void {
    if (typeof f.cell !== "string" || !Object.prototype.hasOwnProperty.call(this.d.cellSets, f.cell)) return;
    const set = this.d.cellSets[f.cell];
    if (!set.index.has(from)) return; // only a validator of the cell's own group announces its heads
    if (!Number.isSafeInteger(f.height)) return;
    const height = f.height as number;
    const key = `${f.cell}/${height}`;
    // The head at the block before a scheduled activation is kept even when a later one is known: snapshots below the upgrade name it.
    const boundary = this.d.versions !== undefined && !this.boundaryHeads.has(key) && boundaryHeights(this.d.versions()).has(height);
    if (height <= (this.heads[f.cell]?.height ?? 0) && !boundary) return;
    if (typeof f.hash !== "string" || typeof f.stateRoot !== "string" || !/^[0-9a-f]{64}$/.test(f.stateRoot)) return;
    const check = verifyCertificate(set, null, { channel: this.channel, cell: f.cell, height: f.height as number, valueId: f.hash }, f.certificate, this.verifier);
    if (!check.ok) {
      this.d.log.warn("cell head refused", { channel: this.channel, cell: f.cell, peer: from.slice(0, 16), reason: check.message });
      return;
    }
    const head = { height, hash: f.hash, stateRoot: f.stateRoot, certificate: f.certificate as CommitCertificate };
    if (boundary) this.boundaryHeads.set(key, head);
    if (height > (this.heads[f.cell]?.height ?? 0)) this.heads[f.cell] = head;
  }

  private onSignature(from: string, f: { hash: unknown; key: unknown; signature: unknown }): void {
    if (f.hash !== this.registrationHash || f.key !== from || !this.d.group.index.has(from)) return;
    const reg = this.d.ledger.snapshots.registration(this.channel, 1);
    if (reg === null || reg.signatures.some((s) => s.key === from)) return;
    if (!registrationSignatureValid(this.registration, f.key, f.signature)) return;
    this.addSignature({ key: from, signature: f.signature as string });
  }

  /** Keeps a registration signature; with a threshold of them, the registration goes into the outbox. */
  private addSignature(sig: { key: string; signature: string }): void {
    const reg = this.d.ledger.snapshots.registration(this.channel, 1);
    if (reg === null || reg.hash !== this.registrationHash || reg.signatures.some((s) => s.key === sig.key)) return;
    const signatures = [...reg.signatures, sig].sort((a, b) => this.d.group.index.get(a.key)! - this.d.group.index.get(b.key)!);
    this.d.ledger.snapshots.setRegistrationSignatures(this.channel, 1, signatures);
    if (signatures.length >= this.d.group.quorum) {
      this.d.ledger.outbox.enqueue([{ key: registrationOutboxKey(this.channel, 1, this.registrationHash), target: L0_TARGET, kind: "registration", payload: { channel: this.channel, version: 1, hash: this.registrationHash } }]);
      setImmediate(() => this.d.queued?.());
    }
  }
}

/**
 * Announces the certified heads of the cells a node hosts to the channel's
 * snapshot group, at most one per cell every HEAD_ANNOUNCE_MS (the latest
 * one wins; the last is always sent).
 */
export class HeadAnnouncer {
  private readonly pending = new Map<string, CertifiedHead>();
  private readonly last = new Map<string, number>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private stopped = false;

  constructor(
    private readonly channel: string,
    private readonly to: readonly string[],
    private readonly send: (peer: string, channel: "consensus", bytes: Uint8Array) => void,
    private readonly now: () => number,
    /** Block heights announced at once, whatever follows them: the last block before each scheduled activation. */
    private readonly boundaries?: () => ReadonlySet<number>,
  ) {}

  committed(cell: string, block: CertifiedBlock): void {
    if (this.to.length === 0 || this.stopped) return;
    if (this.boundaries?.().has(block.height) === true) this.sendHead(cell, headOf(block));
    this.pending.set(cell, headOf(block));
    if (this.timers.has(cell)) return;
    const wait = Math.max(0, (this.last.get(cell) ?? -Infinity) + HEAD_ANNOUNCE_MS - this.now());
    const t = setTimeout(() => this.flush(cell), wait);
    t.unref();
    this.timers.set(cell, t);
  }

  private flush(cell: string): void {
    this.timers.delete(cell);
    const h = this.pending.get(cell);
    if (h === undefined || this.stopped) return;
    this.pending.delete(cell);
    this.last.set(cell, this.now());
    this.sendHead(cell, h);
  }

  private sendHead(cell: string, h: CertifiedHead): void {
    const bytes = encodeWire({ ch: this.channel, c: SNAPSHOT_CELL, m: { type: "cell-head", cell, height: h.height, hash: h.hash, stateRoot: h.stateRoot, certificate: h.certificate as unknown as Json } });
    for (const p of this.to) this.send(p, "consensus", bytes);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
