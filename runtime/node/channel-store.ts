/**
 * The channels the admin API (and --watch) added, upgraded or removed,
 * remembered across restarts in the node's data folder
 * (`DATA/admin-channels.json`), so a node killed and started again hosts
 * what it hosted, not only what its node file lists.
 *
 * The file keeps, for every channel added or upgraded through the admin
 * API, the exact text of the channel file and of the code files it named, as
 * the node read them (the definition's hash covers them): a restart hosts
 * that very definition even if the files on disk were changed or deleted
 * since, and its chain continues (the chain, state and mempool are the
 * ledger's). It keeps the names of removed channels too: a removed channel
 * stays removed at the next start, even one the node file lists, until it
 * is added again.
 *
 * At start (`plansAtStart`): the node file's channels less the removed
 * ones; a remembered channel the node file also lists is hosted at the
 * higher version of the two (the node file's when they tie). A remembered
 * channel that no longer loads is logged and left out; the others start.
 *
 * Written atomically and durably before the admin API answers: a temporary
 * file, fsync, rename, fsync of the folder. A crash leaves the old file or
 * the new one, never half of one.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isStatecellError, StatecellError } from "../core/errors.js";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import { checkCode } from "../sandbox/index.js";
import type { Logger } from "./log.js";

export const CHANNEL_STORE_FILE = "admin-channels.json";
const FORMAT = "statecell-admin-channels/1";
/** Most channels remembered (added or removed); the node refuses to remember more. */
export const MAX_STORED_CHANNELS = 10_000;

export interface StoredChannel {
  channel: string;
  version: number;
  hash: string;
  /** The channel file's path when it was read (code paths inside `sources` are as the loader asked for them). */
  file: string;
  /** Every file the loader read, by the path it asked for: the channel file and its code files. */
  sources: Record<string, string>;
}

interface StoreText {
  format: typeof FORMAT;
  channels: Record<string, StoredChannel>;
  removed: string[];
}

export interface ChannelStore {
  /** The plans to host at start: the node file's, less the removed, with the remembered ones (see the module doc). */
  plansAtStart(fromNodeFile: readonly ChannelPlan[]): ChannelPlan[];
  /** Remembers an added or upgraded channel, durably. @throws StatecellError NODE_CHANNEL_NOT_STORED */
  saved(plan: ChannelPlan, file: string, sources: ReadonlyMap<string, string>): void;
  /** Remembers that a channel was removed, durably. @throws StatecellError NODE_CHANNEL_NOT_STORED */
  removed(channel: string): void;
}

/** The store in the node's data folder `dir` (created when missing). */
export function openChannelStore(dir: string, log: Logger): ChannelStore {
  const path = join(dir, CHANNEL_STORE_FILE);
  let state = read(path, log);

  const write = (next: StoreText): void => {
    if (Object.keys(next.channels).length + next.removed.length > MAX_STORED_CHANNELS) {
      throw new StatecellError("NODE_CHANNEL_NOT_STORED", `this node remembers at most ${MAX_STORED_CHANNELS} channels added or removed through the admin API`, {
        remedy: "list long-lived channels in the node file instead, or start the node with a fresh data folder",
      });
    }
    try {
      mkdirSync(dir, { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      const fd = openSync(tmp, "w", 0o600);
      try {
        writeSync(fd, `${JSON.stringify(next)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      const d = openSync(dir, "r");
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } catch (e) {
      throw new StatecellError("NODE_CHANNEL_NOT_STORED", `the node could not record the change in ${path}: ${e instanceof Error ? e.message : String(e)}`, {
        remedy: "check that the data folder is writable and the disk has room, then send the request again",
      });
    }
    state = next;
  };

  return {
    plansAtStart(fromNodeFile) {
      const removed = new Set(state.removed);
      const out = new Map<string, ChannelPlan>();
      for (const p of fromNodeFile) {
        if (removed.has(p.channel)) log.info("channel stays removed", { channel: p.channel, version: p.version, why: "removed through the admin API; add it again to host it" });
        else out.set(p.channel, p);
      }
      for (const s of Object.values(state.channels)) {
        if (removed.has(s.channel)) continue;
        const plan = loadStored(s, log);
        if (plan === undefined) continue;
        const listed = out.get(s.channel);
        if (listed !== undefined && listed.version >= plan.version) continue;
        out.set(s.channel, plan);
        log.info("channel restored", { channel: plan.channel, version: plan.version, hash: plan.hash, from: CHANNEL_STORE_FILE });
      }
      return [...out.values()];
    },
    saved(plan, file, sources) {
      const entry: StoredChannel = { channel: plan.channel, version: plan.version, hash: plan.hash, file, sources: Object.fromEntries(sources) };
      write({ format: FORMAT, channels: { ...state.channels, [plan.channel]: entry }, removed: state.removed.filter((n) => n !== plan.channel) });
    },
    removed(channel) {
      const { [channel]: _gone, ...channels } = state.channels;
      write({ format: FORMAT, channels, removed: state.removed.includes(channel) ? state.removed : [...state.removed, channel] });
    },
  };
}

/** The store's content; an unreadable or foreign file is logged and read as empty (the node file still applies). */
function read(path: string, log: Logger): StoreText {
  const empty: StoreText = { format: FORMAT, channels: {}, removed: [] };
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") log.error("admin channels not read", { file: path, error: (e as Error).message });
    return empty;
  }
  try {
    const v = JSON.parse(text) as Partial<StoreText>;
    if (v.format !== FORMAT || typeof v.channels !== "object" || v.channels === null || !Array.isArray(v.removed)) throw new Error(`not a ${FORMAT} file`);
    // No prototype: a "__proto__" entry is an ordinary (malformed) one.
    const channels = Object.create(null) as Record<string, StoredChannel>;
    for (const [name, c] of Object.entries(v.channels)) {
      if (typeof c?.channel !== "string" || c.channel !== name || typeof c.sources !== "object" || c.sources === null || typeof c.file !== "string") throw new Error(`its entry for ${name.slice(0, 64)} is malformed`);
      channels[name] = c;
    }
    return { format: FORMAT, channels, removed: v.removed.filter((n): n is string => typeof n === "string") };
  } catch (e) {
    log.error("admin channels not read", { file: path, error: (e as Error).message, remedy: "the node hosts its node file's channels only; add the others again (statecell channel add), or restore the file" });
    return empty;
  }
}

/** The plan of a remembered channel, from the text the node read when it was added. */
function loadStored(s: StoredChannel, log: Logger): ChannelPlan | undefined {
  const main = s.sources[s.file];
  if (typeof main !== "string") {
    log.error("channel not restored", { channel: s.channel, code: "NODE_CHANNEL_INVALID", error: "its stored channel file is missing" });
    return undefined;
  }
  try {
    const r = loadChannel(main, { file: s.file }, { readFile: (p) => (typeof s.sources[p] === "string" ? s.sources[p] : undefined), checkCode });
    const errors = r.problems.filter((p) => p.severity === "error");
    if (r.plan === undefined || errors.length > 0) {
      log.error("channel not restored", { channel: s.channel, code: "NODE_CHANNEL_INVALID", error: errors.slice(0, 3).map((p) => `${p.code}: ${p.message}`).join("; ") });
      return undefined;
    }
    if (r.plan.hash !== s.hash) log.warn("channel restored with another hash", { channel: s.channel, stored: s.hash, now: r.plan.hash, why: "this statecell compiles the same files to another definition" });
    return r.plan;
  } catch (e) {
    log.error("channel not restored", { channel: s.channel, code: isStatecellError(e) ? e.code : "NODE_CHANNEL_INVALID", error: e instanceof Error ? e.message : String(e) });
    return undefined;
  }
}
