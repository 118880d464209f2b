/**
 * The node's structured log: one JSON object per line (time, level, msg and
 * the fields: channel, cell, height, round, peer...), written by pino to a
 * synchronous destination so the last lines before a crash are on disk (an
 * asynchronous buffer would lose them with the process). Never given key
 * material.
 *
 *   {"level":"info","time":1767225600000,"node":"alice","channel":"air-quality","cell":"readings","height":12,"msg":"block committed"}
 *
 * Why pino and not our own `JSON.stringify` + `writeSync`: it serialises a
 * child's fixed fields once (not per line), escapes what JSON.stringify would
 * throw on (cycles, BigInt) instead of dropping the line, and operators'
 * tooling (pino-pretty, log shippers) reads its lines as they are.
 */
import { pino, type Logger as PinoLogger } from "pino";

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields`. */
  child(fields: LogFields): Logger;
}

export type LogLevel = "info" | "warn" | "error";

/** The fields every statecell line may carry, in the order operators filter on. */
export const LOG_FIELDS = ["node", "channel", "cell", "height", "round", "peer"] as const;

function wrap(p: PinoLogger): Logger {
  // pino takes (fields, msg); a failing write (a closed pipe) must not take the node down.
  const at = (lvl: LogLevel) => (msg: string, fields?: LogFields) => {
    try {
      if (fields === undefined) p[lvl](msg);
      else p[lvl](fields, msg);
    } catch {
      // the reader went away
    }
  };
  return { info: at("info"), warn: at("warn"), error: at("error"), child: (f) => wrap(p.child(f)) };
}

/**
 * A logger writing to file descriptor `fd` (1: standard output), one line per
 * event, synchronously; `level` drops what is below it.
 */
export function createLogger(fd = 1, base: LogFields = {}, level: LogLevel = "info"): Logger {
  const destination = pino.destination({ dest: fd, sync: true });
  // A closed pipe surfaces as an 'error' event of the destination: ignored, like a failing write.
  destination.on("error", () => undefined);
  const p = pino(
    {
      level,
      base: null,
      timestamp: pino.stdTimeFunctions.epochTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(Object.keys(base).length > 0 ? p.child(base) : p);
}

/** A logger that writes nothing (tests). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silentLogger };
