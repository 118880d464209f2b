/**
 * The bounds of the client API: how much one request or stream may hold,
 * how long a client may take, how many clients at once. Every bound is
 * checked while reading, before anything larger is buffered (docs/api.md,
 * "Limits").
 */
import { StatecellError } from "../../core/errors.js";

const MiB = 1024 * 1024;

/** The deepest data nesting any channel may allow (`limits.maxDepth` is at most 256, schemas/channel.schema.json). */
export const MAX_DATA_DEPTH = 256;
/** Levels a request adds around a submission's data: the body object, the `inputs` list, the submission object. */
export const ENVELOPE_DEPTH = 3;

/** The API's bounds; every one can be lowered (or raised) per server. */
export interface ApiLimits {
  /** Largest request body or stream message, in bytes; counted while reading. Default 8 MiB. */
  maxBodyBytes: number;
  /** Most submissions in one request or stream message. Default 10,000. */
  maxInputsPerRequest: number;
  /** Deepest nesting of lists and objects in a body, envelope included. Default 259 (data 256 + 3). */
  maxDepth: number;
  /** Largest request head (request line and headers), in bytes. Default 16 KiB. */
  maxHeaderBytes: number;
  /** Most headers in one request. Default 100. */
  maxHeaders: number;
  /** Time a client has to send its request head, from the first byte. Default 10 s. */
  headersTimeoutMs: number;
  /** Time a client has to send a body once its head arrived. Default 30 s. */
  bodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. Default 5 s. */
  keepAliveTimeoutMs: number;
  /** Most open connections (HTTP and streams together); further ones are closed at once. Default 1,024. */
  maxConnections: number;
  /** Most open WebSocket streams. Default 256. */
  maxStreams: number;
  /** Submit messages of one stream being handled by the core at once; reading pauses beyond. Default 32. */
  maxInFlightPerStream: number;
  /** Bytes of received stream messages waiting for a turn; past it the stream is closed (API_QUEUE_FULL). Default 16 MiB. */
  maxQueuedBytesPerStream: number;
  /** Bytes of answers and events waiting to be sent to one stream; past it the stream is closed (API_SLOW_CONSUMER). Default 32 MiB. */
  maxBufferedBytesPerStream: number;
  /** How often a stream is pinged; one without a pong by the next ping is closed. Default 30 s. */
  pingIntervalMs: number;
  /** Longest record key in a URL, in characters. Default 1,024. */
  maxRecordKeyLength: number;
}

/** The defaults (docs/api.md, "Limits"). */
export const DEFAULT_API_LIMITS: Readonly<ApiLimits> = Object.freeze({
  maxBodyBytes: 8 * MiB,
  maxInputsPerRequest: 10_000,
  maxDepth: MAX_DATA_DEPTH + ENVELOPE_DEPTH,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_024,
  maxStreams: 256,
  maxInFlightPerStream: 32,
  maxQueuedBytesPerStream: 16 * MiB,
  maxBufferedBytesPerStream: 32 * MiB,
  pingIntervalMs: 30_000,
  maxRecordKeyLength: 1_024,
});

// Upper bounds of the options themselves. maxDepth: JSON.parse recurses per
// level (10k levels overflow the stack, runtime/cells/json-scan.ts), so a
// body is refused by the iterative scan long before that.
const RANGES: Record<keyof ApiLimits, [number, number]> = {
  maxBodyBytes: [1024, 256 * MiB],
  maxInputsPerRequest: [1, 1_000_000],
  maxDepth: [ENVELOPE_DEPTH + 1, 1_000],
  maxHeaderBytes: [1024, 1024 * 1024],
  maxHeaders: [8, 10_000],
  headersTimeoutMs: [10, 600_000],
  bodyTimeoutMs: [10, 3_600_000],
  keepAliveTimeoutMs: [10, 600_000],
  maxConnections: [1, 1_000_000],
  maxStreams: [0, 1_000_000],
  maxInFlightPerStream: [1, 10_000],
  maxQueuedBytesPerStream: [1024, 4096 * MiB],
  maxBufferedBytesPerStream: [1024, 4096 * MiB],
  pingIntervalMs: [10, 3_600_000],
  maxRecordKeyLength: [1, 1_000_000],
};

/**
 * The defaults with `given` applied, each checked.
 * @throws StatecellError API_BAD_OPTIONS for an unknown limit or a value out of its range.
 */
export function resolveLimits(given: Partial<ApiLimits> = {}): Readonly<ApiLimits> {
  const out: ApiLimits = { ...DEFAULT_API_LIMITS };
  for (const [name, value] of Object.entries(given)) {
    if (!Object.prototype.hasOwnProperty.call(RANGES, name)) {
      throw new StatecellError("API_BAD_OPTIONS", `"${name.slice(0, 64)}" is not an API limit`, {
        remedy: `use one of: ${Object.keys(RANGES).join(", ")}`,
      });
    }
    if (value === undefined) continue;
    const [min, max] = RANGES[name as keyof ApiLimits];
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      throw new StatecellError("API_BAD_OPTIONS", `limits.${name} is ${typeof value === "number" ? String(value) : `a ${typeof value}`}; allowed: an integer from ${min} to ${max}`, {
        remedy: `give limits.${name} an integer in that range, or leave it out for the default (${DEFAULT_API_LIMITS[name as keyof ApiLimits]})`,
      });
    }
    out[name as keyof ApiLimits] = value;
  }
  return Object.freeze(out);
}
