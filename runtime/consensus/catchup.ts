/**
 * Catch-up messages: how a node that is behind fetches certified blocks from
 * a peer. A request names the first height wanted and how many blocks (and
 * bytes) the asker takes; a response carries contiguous certified blocks from
 * that height. Both are bounded and shape-checked here like `parseFrame`
 * checks consensus frames; neither is signed (docs/consensus.md,
 * "Catch-up"): every block carries its commit certificate, which the step
 * verifies before applying it, and a signature over the response would only
 * say who served it, which the peer connection already tells.
 */
import { exceedsJsonSize, jsonSizeEstimate } from "./frame-size.js";
import type { CertifiedBlock, DropReason } from "./types.js";

/** Asks a peer for up to `max` certified blocks from `fromHeight` on, `maxBytes` in all. */
export interface CatchupRequest {
  type: "catchup-request";
  channel: string;
  cell: string;
  fromHeight: number;
  /** Most blocks the asker takes in one response. */
  max: number;
  /** Most bytes (lower-bound estimate of the canonical JSON, as `exceedsJsonSize`) of the whole response. */
  maxBytes: number;
}

/** Certified blocks `fromHeight`, `fromHeight + 1`, ... as the peer stored them. */
export interface CatchupResponse {
  type: "catchup-response";
  channel: string;
  cell: string;
  fromHeight: number;
  blocks: CertifiedBlock[];
}

/** Bounds on catch-up traffic at one node. */
export interface CatchupLimits {
  /** Most blocks per response (asked for, and accepted). Default 16. */
  maxBlocks: number;
  /**
   * Most bytes of a response (default 4 MiB). Must leave room for the largest
   * block, a `limits.maxFrameBytes` value with its certificate: at least
   * `maxFrameBytes + CATCHUP_BLOCK_OVERHEAD`.
   */
  maxBytes: number;
}

export const DEFAULT_CATCHUP_LIMITS: CatchupLimits = { maxBlocks: 16, maxBytes: 4 * 1_048_576 };
/** Highest `max` a request may name (a server answers with at most its own `maxBlocks`). */
export const CATCHUP_MAX_BLOCKS = 1024;
/**
 * Room for a certificate and the block's fields beside its value: a
 * certificate signature is about 220 bytes, so 64 KiB covers groups of up to
 * about 290 validators.
 */
export const CATCHUP_BLOCK_OVERHEAD = 65_536;
/** Most bytes of a request (its fields are names and integers: about 150 bytes). */
const MAX_REQUEST_BYTES = 512;
const MAX_RESPONSE_BYTES = Number.MAX_SAFE_INTEGER;

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const REQUEST_KEYS = ["cell", "channel", "fromHeight", "max", "maxBytes", "type"];
const RESPONSE_KEYS = ["blocks", "cell", "channel", "fromHeight", "type"];
const BLOCK_KEYS = ["certificate", "height", "value"];

export type CatchupParse<T> = { ok: true; message: T } | { ok: false; reason: DropReason; detail: string };

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
}

function sameKeys(o: object, want: readonly string[]): boolean {
  const keys = Object.keys(o).sort();
  return keys.length === want.length && keys.every((k, i) => k === want[i]);
}

/** The request a node sends, asking for what its limits accept. */
export function catchupRequest(channel: string, cell: string, fromHeight: number, limits: CatchupLimits = DEFAULT_CATCHUP_LIMITS): CatchupRequest {
  return { type: "catchup-request", channel, cell, fromHeight, max: limits.maxBlocks, maxBytes: limits.maxBytes };
}

/**
 * Checks a catch-up request's size and shape, and that it is for this group.
 * Never throws.
 * @example parseCatchupRequest(frame, "poll", "ballots") // { ok: true, message: { fromHeight: 7, max: 16, ... } }
 */
export function parseCatchupRequest(frame: unknown, channel: string, cell: string): CatchupParse<CatchupRequest> {
  if (exceedsJsonSize(frame, MAX_REQUEST_BYTES)) return { ok: false, reason: "too-large", detail: `a catch-up request is larger than ${MAX_REQUEST_BYTES} bytes` };
  const bad = (detail: string): CatchupParse<CatchupRequest> => ({ ok: false, reason: "malformed", detail });
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return bad("a catch-up request is a JSON object");
  const f = frame as Record<string, unknown>;
  if (f.type !== "catchup-request" || !sameKeys(f, REQUEST_KEYS)) return bad(`a catch-up request has exactly the fields ${REQUEST_KEYS.join(", ")}`);
  if (typeof f.channel !== "string" || !NAME.test(f.channel)) return bad("channel is a name");
  if (typeof f.cell !== "string" || !NAME.test(f.cell)) return bad("cell is a name");
  if (f.channel !== channel) return { ok: false, reason: "wrong-channel", detail: f.channel };
  if (f.cell !== cell) return { ok: false, reason: "wrong-cell", detail: f.cell };
  if (!isInt(f.fromHeight, 1, Number.MAX_SAFE_INTEGER)) return bad("fromHeight is an integer >= 1");
  if (!isInt(f.max, 1, CATCHUP_MAX_BLOCKS)) return bad(`max is an integer in 1..${CATCHUP_MAX_BLOCKS}`);
  if (!isInt(f.maxBytes, 1, MAX_RESPONSE_BYTES)) return bad("maxBytes is a positive integer");
  return { ok: true, message: f as unknown as CatchupRequest };
}

/**
 * The response a server sends for `request`: the stored blocks it read, in
 * height order from `request.fromHeight`, cut to what the asker takes and what
 * the server sends (the fewer blocks and bytes of the two). Null when not even
 * the first block fits, or there is none.
 */
export function packCatchupResponse(request: CatchupRequest, blocks: readonly CertifiedBlock[], limits: CatchupLimits): CatchupResponse | null {
  const maxBlocks = Math.min(request.max, limits.maxBlocks);
  const maxBytes = Math.min(request.maxBytes, limits.maxBytes);
  const out: CertifiedBlock[] = [];
  const response: CatchupResponse = { type: "catchup-response", channel: request.channel, cell: request.cell, fromHeight: request.fromHeight, blocks: out };
  // The estimate of the whole is the envelope's (with []) plus each block's plus one comma per
  // block after the first (jsonSizeEstimate counts an array of k items as k + 1 bytes of brackets
  // and commas, an empty one as 2).
  let size = jsonSizeEstimate(response, maxBytes) - 1;
  for (let i = 0; i < blocks.length && out.length < maxBlocks; i++) {
    const b = blocks[i];
    if (b.height !== request.fromHeight + i) break; // only a contiguous run from fromHeight is an answer
    size += jsonSizeEstimate(b, maxBytes) + 1;
    if (size > maxBytes) break;
    out.push(b);
  }
  return out.length === 0 ? null : response;
}

/**
 * Checks a catch-up response: its size first (before anything reads its
 * blocks, like `parseFrame`), then its shape, that it is for this group and
 * carries 1..`maxBlocks` blocks of heights `fromHeight`, `fromHeight + 1`, ...
 * Certificates are not checked here: the step verifies each one before it
 * applies the block. Never throws.
 * @example parseCatchupResponse(frame, "poll", "ballots", { maxBlocks: 16, maxBytes: 4194304 })
 */
export function parseCatchupResponse(frame: unknown, channel: string, cell: string, limits: CatchupLimits = DEFAULT_CATCHUP_LIMITS): CatchupParse<CatchupResponse> {
  if (exceedsJsonSize(frame, limits.maxBytes)) return { ok: false, reason: "too-large", detail: `the catch-up response is larger than ${limits.maxBytes} bytes` };
  const bad = (detail: string): CatchupParse<CatchupResponse> => ({ ok: false, reason: "malformed", detail });
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return bad("a catch-up response is a JSON object");
  const f = frame as Record<string, unknown>;
  if (f.type !== "catchup-response" || !sameKeys(f, RESPONSE_KEYS)) return bad(`a catch-up response has exactly the fields ${RESPONSE_KEYS.join(", ")}`);
  if (typeof f.channel !== "string" || !NAME.test(f.channel)) return bad("channel is a name");
  if (typeof f.cell !== "string" || !NAME.test(f.cell)) return bad("cell is a name");
  if (f.channel !== channel) return { ok: false, reason: "wrong-channel", detail: f.channel };
  if (f.cell !== cell) return { ok: false, reason: "wrong-cell", detail: f.cell };
  if (!isInt(f.fromHeight, 1, Number.MAX_SAFE_INTEGER)) return bad("fromHeight is an integer >= 1");
  const blocks = f.blocks;
  if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > limits.maxBlocks) return bad(`blocks is a list of 1..${limits.maxBlocks} certified blocks`);
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i] as unknown;
    if (typeof b !== "object" || b === null || Array.isArray(b) || !sameKeys(b, BLOCK_KEYS)) return bad(`block ${i} has exactly the fields ${BLOCK_KEYS.join(", ")}`);
    const h = (b as Record<string, unknown>).height;
    if (h !== f.fromHeight + i) return bad(`block ${i} has height ${typeof h === "number" ? h : typeof h}, expected ${f.fromHeight + i}: heights are contiguous from fromHeight`);
    const cert = (b as Record<string, unknown>).certificate;
    if (typeof cert !== "object" || cert === null || Array.isArray(cert)) return bad(`block ${i}'s certificate is an object`);
  }
  return { ok: true, message: f as unknown as CatchupResponse };
}
