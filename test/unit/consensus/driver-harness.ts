/**
 * One group driver of the four-validator test group (harness.ts) on ports a
 * test holds in its hands: a transport that records, timers that fire only
 * when told, a clock set by hand, in-memory stores, and a log of every port
 * call in order.
 */
import type { Json } from "../../../runtime/core/canonical.js";
import {
  buildCertificate,
  createGroupDriver,
  MemoryBlockStore,
  MemorySignerStore,
  MemoryWal,
  type CatchupRequest,
  type CatchupResponse,
  type CertifiedBlock,
  type ConsensusConfig,
  type GroupDriver,
  type GroupDriverConfig,
  type GroupMessage,
  type Proposal,
  type Vote,
} from "../../../runtime/consensus/index.js";
import { config, id, PUB, SET, value, vote } from "./harness.js";

export interface Rig {
  driver: GroupDriver<number>;
  /** Every port call, in order: "save:<step>", "wal", "send:<peer>:<type>", "broadcast:<type>", "timer:<ms>", "append:<h>", "truncate:<h>", "read:<from>". */
  log: string[];
  sent: Array<{ peer: string | null; message: GroupMessage; relay?: boolean }>;
  timers: Array<{ ms: number; fire: () => void }>;
  clock: { t: number };
  store: MemorySignerStore;
  wal: MemoryWal;
  blocks: MemoryBlockStore<number>;
  events: { decided: Array<{ height: number; source: string }>; drops: string[]; badPeers: Array<{ peer: string | undefined; reason: string }>; stopped: unknown[] };
}

export interface RigOptions {
  self?: number | null;
  consensus?: Partial<ConsensusConfig<number>>;
  driver?: Partial<Omit<GroupDriverConfig<number>, "consensus" | "genesis">>;
  /** Share stores with another rig (a restart of the same node, or a misconfigured second writer). */
  stores?: Pick<Rig, "store" | "wal" | "blocks">;
}

export function rig(opts: RigOptions = {}): Rig {
  const log: string[] = [];
  const sent: Rig["sent"] = [];
  const timers: Rig["timers"] = [];
  const clock = { t: 1000 };
  const store = opts.stores?.store ?? new MemorySignerStore();
  const wal = opts.stores?.wal ?? new MemoryWal();
  const blocks = opts.stores?.blocks ?? new MemoryBlockStore<number>();
  const events: Rig["events"] = { decided: [], drops: [], badPeers: [], stopped: [] };
  const driver = createGroupDriver(
    { consensus: config(opts.self === undefined ? 0 : opts.self, opts.consensus), genesis: 0, gossipIntervalMs: 0, ...opts.driver },
    {
      transport: {
        send: (peer, message) => {
          log.push(`send:${PUB.indexOf(peer)}:${message.type}`);
          sent.push({ peer, message });
        },
        broadcast: (message, relay) => {
          log.push(`broadcast:${message.type}`);
          sent.push({ peer: null, message, relay });
        },
      },
      timers: {
        schedule: (ms, fire) => {
          log.push(`timer:${ms}`);
          timers.push({ ms, fire });
        },
      },
      clock: { now: () => clock.t },
      signer: {
        load: () => store.load(),
        save: (r) => {
          log.push(`save:${r.step}`);
          store.save(r);
        },
      },
      wal: {
        append: (e) => {
          log.push("wal");
          wal.append(e);
        },
        entries: (h) => wal.entries(h),
        truncateBelow: (h) => {
          log.push(`truncate:${h}`);
          wal.truncateBelow(h);
        },
      },
      blocks: {
        head: () => blocks.head(),
        append: (b, vid, s) => {
          log.push(`append:${b.height}`);
          blocks.append(b, vid, s);
        },
        read: (from, max) => {
          log.push(`read:${from}`);
          return blocks.read(from, max);
        },
      },
      events: {
        decided: (b, _id, source) => events.decided.push({ height: b.height, source }),
        drop: (reason) => events.drops.push(reason),
        badPeer: (peer, reason) => events.badPeers.push({ peer, reason }),
        stopped: (e) => events.stopped.push(e),
      },
    },
  );
  return { driver, log, sent, timers, clock, store, wal, blocks, events };
}

/** The certified block of `height` the test group decided: value `{ height, tag }`, precommits of b, c and d at round 0. */
export function certified(height: number, tag = "v"): CertifiedBlock {
  const v: Json = value(tag, height);
  const votes = [1, 2, 3].map((i) => vote(i, "precommit", 0, id(v), height));
  return { height, value: v, certificate: buildCertificate(SET, votes) };
}

/** Messages of a type the rig sent, in order. */
export function sentOf<T extends keyof SentTypes>(r: Rig, type: T): Array<SentTypes[T]> {
  return r.sent.filter((s) => s.message.type === type).map((s) => s.message as SentTypes[T]);
}

interface SentTypes {
  proposal: Proposal;
  prevote: Vote;
  precommit: Vote;
  "catchup-request": CatchupRequest;
  "catchup-response": CatchupResponse;
}
