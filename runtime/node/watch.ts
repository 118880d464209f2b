/**
 * `statecell node --watch DIR`: the node follows a folder of channel files.
 * A new file is added, a deleted one removed, a changed one upgraded, each
 * through the same path as the admin API (channel-admin.ts: a file that
 * does not load is refused with its problems and the running version goes
 * on). The folder is polled (fs.watch misses events on some file systems
 * and editors replace files by renaming); a file is acted on once its size
 * and modification time held still for one poll, so a half-written file is
 * not loaded. Channel tests (NAME.test.yaml) are not channels and are left
 * alone; at most MAX_WATCHED files are followed. An upgrade refused because
 * L0 has not scheduled it yet (or did not answer) is tried again every
 * WAIT_RETRY_MS, so a file dropped in before the last approval is staged
 * once the approvals are in.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChannelAdmin } from "./channel-admin.js";
import type { Logger } from "./log.js";

export const WATCH_INTERVAL_MS = 1_000;
export const MAX_WATCHED = 1_000;
/** How often a file waiting for L0's schedule is sent again (ms). */
export const WAIT_RETRY_MS = 10_000;
/** Refusals that may pass without the file changing: L0 has not scheduled the upgrade yet, or did not answer. */
const WAITING = new Set(["NODE_UPGRADE_NOT_SCHEDULED", "NODE_L0_UNREACHABLE"]);

interface Seen {
  stamp: string;
  /** The stamp last acted on. */
  applied?: string;
  /** The channel the file hosted, once added. */
  channel?: string;
  /** When a file waiting for L0 is tried again. */
  retryAt?: number;
}

export interface FolderWatch {
  /** One poll now (tests, and the first scan); resolves when its changes were applied (an upgrade may wait for L0). */
  poll(): Promise<void>;
  stop(): void;
}

export function watchFolder(dir: string, admin: ChannelAdmin, hosted: () => string[], log: Logger, intervalMs = WATCH_INTERVAL_MS, clock: () => number = Date.now): FolderWatch {
  const folder = resolve(dir);
  const seen = new Map<string, Seen>();
  let warnedFull = false;

  const list = (): Map<string, string> => {
    const found = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      return found;
    }
    for (const name of names.sort()) {
      if (!/\.ya?ml$/.test(name) || /\.test\.ya?ml$/.test(name)) continue;
      if (found.size >= MAX_WATCHED) {
        if (!warnedFull) log.warn("watch folder holds too many channel files; the rest are ignored", { folder, max: MAX_WATCHED });
        warnedFull = true;
        break;
      }
      try {
        const st = statSync(join(folder, name));
        if (st.isFile()) found.set(join(folder, name), `${st.size}:${st.mtimeMs}`);
      } catch {
        // gone between readdir and stat
      }
    }
    return found;
  };

  /** The poll under way: the timer skips a turn rather than run two at once. */
  let busy: Promise<void> | undefined;
  const poll = (): Promise<void> => {
    if (busy !== undefined) return busy;
    busy = pollOnce().finally(() => (busy = undefined));
    return busy;
  };

  const pollOnce = async (): Promise<void> => {
    const now = list();
    for (const [file, stamp] of now) {
      const s = seen.get(file);
      if (s === undefined || s.stamp !== stamp) {
        // Changed since the last poll: wait until it holds still.
        seen.set(file, { ...s, stamp });
        continue;
      }
      if (s.applied === stamp && (s.retryAt === undefined || clock() < s.retryAt)) continue;
      s.applied = stamp;
      s.retryAt = undefined;
      let o = s.channel !== undefined ? await admin.upgrade(s.channel, file) : admin.add(file);
      // A file of a channel the node already hosts (from its node file): followed as an upgrade.
      if (!o.ok && o.code === "NODE_CHANNEL_EXISTS") o = await admin.upgrade(undefined, file);
      if (o.ok) s.channel = o.channel;
      else if (WAITING.has(o.code)) s.retryAt = clock() + WAIT_RETRY_MS;
      log.info("watch", { file, outcome: o.ok ? "applied" : o.code });
    }
    for (const [file, s] of [...seen]) {
      if (now.has(file)) continue;
      seen.delete(file);
      if (s.channel !== undefined && hosted().includes(s.channel)) {
        admin.remove(s.channel);
        log.info("watch", { file, outcome: "removed", channel: s.channel });
      }
    }
  };

  const timer = setInterval(() => void poll().catch((e: unknown) => log.error("watch poll failed", { folder, error: String(e) })), intervalMs);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
}
