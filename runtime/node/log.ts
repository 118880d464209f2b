/**
 * The node's structured log: one JSON object per line (time, level, msg and
 * the fields: channel, cell, height, round, peer...), written synchronously so
 * the last lines before a crash are on disk. Never given key material.
 */
import { writeSync } from "node:fs";

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields`. */
  child(fields: LogFields): Logger;
}

/** A logger writing to file descriptor `fd` (1: standard output); `level` drops what is below it. */
export function createLogger(fd = 1, base: LogFields = {}, level: "info" | "warn" | "error" = "info"): Logger {
  const rank = { info: 0, warn: 1, error: 2 } as const;
  const write = (lvl: keyof typeof rank, msg: string, fields?: LogFields): void => {
    if (rank[lvl] < rank[level]) return;
    let line: string;
    try {
      line = JSON.stringify({ time: Date.now(), level: lvl, msg, ...base, ...fields });
    } catch {
      line = JSON.stringify({ time: Date.now(), level: lvl, msg, note: "fields could not be written" });
    }
    try {
      writeSync(fd, `${line}\n`);
    } catch {
      // A closed pipe (the reader went away) must not take the node down.
    }
  };
  return {
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (f) => createLogger(fd, { ...base, ...f }, level),
  };
}

/** A logger that writes nothing (tests). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };
