/**
 * `statecell node --watch DIR`: the node follows a folder of channel files.
 * A new file is added, a deleted one removed, a changed one upgraded, each
 * through the same path as the admin API (channel-admin.ts: a file that
 * does not load is refused with its problems and the running version goes
 * on). The folder is polled (fs.watch misses events on some file systems
 * and editors replace files by renaming); a file is acted on once its size
 * and modification time held still for one poll, so a half-written file is
 * not loaded. Channel tests (NAME.test.yaml) are not channels and are left
 * alone; at most MAX_WATCHED files are followed.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ChannelAdmin } from "./channel-admin.js";
import type { Logger } from "./log.js";

export const WATCH_INTERVAL_MS = 1_000;
export const MAX_WATCHED = 1_000;

interface Seen {
  stamp: string;
  /** The stamp last acted on. */
  applied?: string;
  /** The channel the file hosted, once added. */
  channel?: string;
}

export interface FolderWatch {
  /** One poll now (tests, and the first scan). */
  poll(): void;
  stop(): void;
}

export function watchFolder(dir: string, admin: ChannelAdmin, hosted: () => string[], log: Logger, intervalMs = WATCH_INTERVAL_MS): FolderWatch {
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

  const poll = (): void => {
    const now = list();
    for (const [file, stamp] of now) {
      const s = seen.get(file);
      if (s === undefined || s.stamp !== stamp) {
        // Changed since the last poll: wait until it holds still.
        seen.set(file, { ...s, stamp });
        continue;
      }
      if (s.applied === stamp) continue;
      s.applied = stamp;
      let o = s.channel !== undefined ? admin.upgrade(s.channel, file) : admin.add(file);
      // A file of a channel the node already hosts (from its node file): followed as an upgrade.
      if (!o.ok && o.code === "NODE_CHANNEL_EXISTS") o = admin.upgrade(undefined, file);
      if (o.ok) s.channel = o.channel;
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

  const timer = setInterval(poll, intervalMs);
  timer.unref();
  return { poll, stop: () => clearInterval(timer) };
}
