/**
 * Cluster mode, the pure part: global snapshots as the replicated application
 * of the consensus core (runtime/consensus), so that a group of L0
 * validators orders them with the same Tendermint step that channels use and
 * the decision's commit certificate certifies the global snapshot. The value
 * is the global snapshot itself; its value id is its hash; a validator
 * prevotes for it only if it follows the chain it holds and every channel
 * snapshot and event it names is one this validator accepted itself (with
 * acceptSnapshot and the governance decisions). docs/l0.md, "Cluster mode",
 * describes the rest (gossip of submissions, acknowledgements per validator).
 */
import type { Json } from "../core/canonical.js";
import type { Application } from "../consensus/types.js";
import { encodingSuite } from "./encoding.js";
import { buildGlobal, type GlobalTip } from "./global.js";
import { CHANNEL_NAME, HEX64 } from "./shapes.js";
import { ENCODING_V1, type GlobalEntry, type GlobalEvent, type GlobalSnapshot } from "./types.js";

/** The application state: the tip of the global chain this validator holds. */
export interface GlobalChain {
  tip: GlobalTip | null;
}

/** What one L0 validator knows, as ports (its own service answers them). */
export interface ClusterPorts {
  /** Entries and events this validator accepted and no global snapshot includes yet: what it proposes. */
  pending(): { snapshots: GlobalEntry[]; events: GlobalEvent[] };
  /** Whether this validator accepted the channel snapshot itself. */
  holdsSnapshot(entry: GlobalEntry): boolean;
  /** Whether this validator appended the event itself. */
  holdsEvent(event: GlobalEvent): boolean;
  /** Most entries plus events in one global snapshot (default 10,000). */
  maxPerGlobal?: number;
}

const GLOBAL_KEYS = ["encoding", "events", "ordinal", "prevHash", "snapshots", "time", "type"];

/**
 * The consensus application of a cluster of L0 validators.
 * @example createState({ channel: L0_CONSENSUS_CHANNEL, cell: L0_CONSENSUS_CELL, validators, self, app: globalApplication(ports), ... }, start)
 */
export function globalApplication(ports: ClusterPorts, encoding: string = ENCODING_V1): Application<GlobalChain> {
  const max = ports.maxPerGlobal ?? 10_000;
  const hashOf = (v: unknown): string => {
    const suite = encodingSuite((v as { encoding?: unknown } | null)?.encoding);
    if (suite === undefined) throw new Error("unknown encoding");
    return suite.hashBytes(suite.recordBytes("global", v));
  };
  return {
    buildValue(ctx) {
      const { snapshots, events } = ports.pending();
      const room = Math.max(0, max - events.length);
      return buildGlobal(ctx.state.tip, ctx.time, snapshots.slice(0, room), events.slice(0, max), encoding).global as unknown as Json;
    },
    validateValue(ctx, value) {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
      const g = value as unknown as GlobalSnapshot;
      const keys = Object.keys(g).sort();
      if (keys.length !== GLOBAL_KEYS.length || keys.some((k, i) => k !== GLOBAL_KEYS[i])) return false;
      if (g.type !== "global" || encodingSuite(g.encoding) === undefined || g.ordinal !== ctx.height || g.prevHash !== ctx.prevHash) return false;
      if (!Number.isSafeInteger(g.time) || g.time < (ctx.state.tip?.time ?? 0)) return false;
      if (!Array.isArray(g.snapshots) || !Array.isArray(g.events) || g.snapshots.length + g.events.length > max) return false;
      let last = "";
      for (const e of g.snapshots) {
        if (typeof e !== "object" || e === null || Object.keys(e).length !== 3 || typeof e.channel !== "string" || !CHANNEL_NAME.test(e.channel) || !Number.isSafeInteger(e.height) || typeof e.hash !== "string" || !HEX64.test(e.hash)) return false;
        const key = `${e.channel}\u0000${String(e.height).padStart(16, "0")}\u0000${e.hash}`;
        if (key <= last) return false; // sorted and distinct, as buildGlobal makes them
        last = key;
        if (!ports.holdsSnapshot(e)) return false;
      }
      for (const e of g.events) if (typeof e !== "object" || e === null || !ports.holdsEvent(e)) return false;
      return true;
    },
    valueId: (value) => hashOf(value),
    applyValue: (state, value) => {
      void state;
      const g = value as unknown as GlobalSnapshot;
      return { tip: { ordinal: g.ordinal, hash: hashOf(g), time: g.time } };
    },
  };
}
