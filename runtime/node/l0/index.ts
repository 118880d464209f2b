/**
 * The channel side of L0 at a node (docs/node.md, "Snapshots and L0"): one
 * SnapshotHost per hosted channel whose snapshot group names this node's
 * validator, a HeadAnnouncer per channel for the cells it hosts, and, when
 * the node file names an L0, the sender of the outbox's L0 rows. The node
 * composes it with `attachSnapshots` and routes the pseudo-cell's frames to it.
 */
import type { KeyPair } from "../../core/keys.js";
import type { Json } from "../../core/canonical.js";
import type { ChannelPlan } from "../../definition/plan.js";
import type { CertifiedBlock, ValidatorSet } from "../../consensus/index.js";
import type { Ledger } from "../../ledger/index.js";
import type { Logger } from "../log.js";
import { HeadAnnouncer, SnapshotHost } from "./snapshot-host.js";
import { L0Sender, type L0ChannelStatus } from "./l0-sender.js";
import { SNAPSHOT_CELL, TOKEN_HEAD } from "./snapshot-app.js";
import { boundaryHeights, type SnapshotVersion } from "./snapshot-versions.js";

export { SnapshotHost, HeadAnnouncer, snapshotOutboxKey, registrationOutboxKey, L0_TARGET } from "./snapshot-host.js";
export { L0Sender, backoffDelay, type L0ChannelStatus, type L0SenderOptions } from "./l0-sender.js";
export { snapshotApplication, snapshotProblem, snapshotHash, genesisHead, EMPTY_STATE_ROOT, SNAPSHOT_CELL, type SnapshotValue, type SnapshotChainState, type CertifiedHead } from "./snapshot-app.js";
export { genesisRegistration, registrationHash, signRegistration } from "./registration.js";
export { definitionAt, headCapAt, boundaryHeights, type SnapshotVersion } from "./snapshot-versions.js";
export { scheduledUpgrade, type UpgradeSchedule, type ScheduleAnswer } from "./upgrade-schedule.js";

export interface SnapshotsDeps {
  plans: readonly ChannelPlan[];
  identity: KeyPair;
  /** This node's validator name. */
  me: string;
  ledger: Ledger;
  /** Whether this node hosts (channel, cell). */
  hosts(channel: string, cell: string): boolean;
  /** The validator set of a cell, and the keys of a group by validator name. */
  setOf(plan: ChannelPlan, cell: string): ValidatorSet;
  groupKeys(plan: ChannelPlan, group: string): Record<string, string>;
  groupSet(plan: ChannelPlan, group: string): ValidatorSet;
  send(peer: string, channel: "consensus" | "catchup", bytes: Uint8Array): void;
  log: Logger;
  fault(error: unknown): void;
  l0?: { url: string; key: string };
  /** For a channel with a token: its state root at genesis and its genesis for the registration. */
  token?(plan: ChannelPlan): { genesisRoot: string; genesis: { [key: string]: Json } } | undefined;
  /** The channel's versions as its snapshots see them, the first first (snapshot-versions.ts); read at every use, since upgrades are staged while the node runs. */
  versions?(channel: string): readonly SnapshotVersion[];
}

export interface NodeSnapshots {
  /** Routes a frame on the pseudo-cell "snapshots"; false when this node has no such group. */
  receive(channel: string, from: string, m: unknown): boolean;
  /** A block this node committed. */
  committed(channel: string, cell: string, block: CertifiedBlock): void;
  hosts: ReadonlyMap<string, SnapshotHost>;
  /** Delivery to L0 per channel (empty without an L0). */
  l0Status(): L0ChannelStatus[];
  /** Starts the snapshot group (and head announcements) of a channel added while the node runs; nothing for a channel without `snapshots:` or already here. */
  host(plan: ChannelPlan): void;
  /** Stops those of a removed channel (its ledger rows stay). */
  unhost(channel: string): void;
  start(): void;
  stop(): void;
}

export function attachSnapshots(d: SnapshotsDeps): NodeSnapshots {
  const hosts = new Map<string, SnapshotHost>();
  let sender: L0Sender | undefined;
  const announcers = new Map<string, HeadAnnouncer>();
  let started = false;
  let poke: ReturnType<typeof setInterval> | undefined;

  /** The sender of the outbox's L0 rows: made once a snapshot group here has rows to send, run while the node runs. */
  const runSender = (): void => {
    if (d.l0 === undefined || hosts.size === 0 || !started || poke !== undefined) return;
    const s = (sender ??= new L0Sender(d.ledger, { url: d.l0.url, key: d.l0.key }, d.log));
    s.start();
    // Hosts poke the sender when they queue a row; this is the backstop after a quiet spell.
    poke = setInterval(() => s.poke(), 1_000);
    poke.unref();
  };

  const host = (plan: ChannelPlan): void => {
    if (plan.snapshots === undefined || hosts.has(plan.channel) || announcers.has(plan.channel)) return;
    const group = d.groupSet(plan, plan.snapshots.group);
    const keys = d.groupKeys(plan, plan.snapshots.group);
    const others = Object.values(keys).filter((k) => k !== d.identity.publicKey);
    const names = plan.token !== undefined ? [...Object.keys(plan.cells), TOKEN_HEAD] : Object.keys(plan.cells);
    const hosted = new Set(names.filter((c) => d.hosts(plan.channel, c)));
    const versions = d.versions !== undefined ? () => d.versions!(plan.channel) : undefined;
    if (hosted.size > 0) announcers.set(plan.channel, new HeadAnnouncer(plan.channel, others, (p, ch, b) => d.send(p, ch, b), Date.now, versions !== undefined ? () => boundaryHeights(versions()) : undefined));
    if (!plan.groups[plan.snapshots.group].validators.includes(d.me)) return;
    const cellSets: Record<string, ValidatorSet> = {};
    for (const c of names) cellSets[c] = d.setOf(plan, c);
    const token = d.token?.(plan);
    const h = new SnapshotHost({ plan, identity: d.identity, group, cellSets, peers: others, ledger: d.ledger, hosted, keysOf: (g) => d.groupKeys(plan, g), send: d.send, log: d.log, fault: d.fault, now: Date.now, queued: () => sender?.poke(), ...(token !== undefined ? { token } : {}), ...(versions !== undefined ? { versions } : {}) });
    hosts.set(plan.channel, h);
    if (started) h.start();
    runSender();
  };

  for (const plan of d.plans) host(plan);
  return {
    receive(channel, from, m) {
      const h = hosts.get(channel);
      if (h === undefined) return false;
      h.receive(from, m);
      return true;
    },
    committed(channel, cell, block) {
      hosts.get(channel)?.cellCommitted(cell, block);
      announcers.get(channel)?.committed(cell, block);
    },
    hosts,
    l0Status: () => sender?.channels() ?? [],
    host,
    unhost(channel) {
      hosts.get(channel)?.stop();
      hosts.delete(channel);
      announcers.get(channel)?.stop();
      announcers.delete(channel);
    },
    start() {
      started = true;
      for (const h of hosts.values()) h.start();
      runSender();
    },
    stop() {
      started = false;
      if (poke !== undefined) clearInterval(poke);
      poke = undefined;
      sender?.stop();
      for (const h of hosts.values()) h.stop();
      for (const a of announcers.values()) a.stop();
    },
  };
}

export { SNAPSHOT_CELL as SNAPSHOTS_PSEUDO_CELL };
