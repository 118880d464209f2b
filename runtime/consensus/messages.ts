/**
 * Canonical signing bytes, frame validation and signing of consensus
 * messages. Frames come from strangers: every field is checked for type,
 * range and format, and unknown fields are refused (an unsigned extra field
 * would make two different frames carry one signature).
 */
import { utf8 } from "../core/canonical.js";
import { signBytes, type KeyPair } from "../core/keys.js";
import { exceedsJsonSize } from "./frame-size.js";
import type { ConsensusMessage, DropReason, MessageType, Proposal, Vote } from "./types.js";

/** Domain tag: a consensus signature can never be replayed as any other statecell signature. */
export const SIGNING_DOMAIN = "statecell/consensus/1";
/** Highest round a frame may name; far beyond any real schedule, keeps integers small. */
export const MAX_ROUND = 1_000_000;
/**
 * Default bound on a frame's encoded size (1 MiB). A block carries at most
 * 768 KiB of submissions (the plan's `maxBlockBytes` ceiling), which leaves
 * room for its verdicts and the message fields.
 */
export const DEFAULT_MAX_FRAME_BYTES = 1_048_576;

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * The exact bytes signed. Every field is validated to be an ASCII name, hex
 * or a safe integer, so JSON.stringify of this array is already the RFC 8785
 * encoding (pinned by a test) at a fraction of the cost.
 */
export function signingBytes(m: Omit<ConsensusMessage, "signature" | "value"> & { validRound?: number }): Uint8Array {
  return utf8(signingString(m));
}

/** `signingBytes` as a string (the verification cache keys on it). */
export function signingString(m: Omit<ConsensusMessage, "signature" | "value"> & { validRound?: number }): string {
  return m.type === "proposal"
    ? JSON.stringify([SIGNING_DOMAIN, m.channel, m.cell, m.type, m.height, m.round, m.validRound, m.valueId])
    : JSON.stringify([SIGNING_DOMAIN, m.channel, m.cell, m.type, m.height, m.round, m.valueId]);
}

/** Bytes of the precommit a certificate signature covers. */
export function precommitString(channel: string, cell: string, height: number, round: number, valueId: string): string {
  return JSON.stringify([SIGNING_DOMAIN, channel, cell, "precommit", height, round, valueId]);
}

/** Signs an unsigned message with `key` (ed25519 is deterministic: same input, same bytes). */
export function signMessage<M extends ConsensusMessage>(unsigned: Omit<M, "signature">, key: KeyPair): M {
  const signature = signBytes(key, signingBytes(unsigned as Omit<ConsensusMessage, "signature">));
  return { ...unsigned, signature } as M;
}

export type ParseResult = { ok: true; message: ConsensusMessage } | { ok: false; reason: DropReason; detail: string };

const VOTE_KEYS = ["cell", "channel", "height", "round", "signature", "type", "validator", "valueId"];
const PROPOSAL_KEYS = ["cell", "channel", "height", "round", "signature", "type", "validRound", "validator", "value", "valueId"];

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
}

/**
 * Checks a frame's size, then its shape. Does not check membership or
 * signatures (the step does, with the group at hand). Never throws. The size
 * comes first and never encodes the frame: a proposal's value is hashed
 * before its signature can be checked (docs/consensus.md, "Drops").
 * @example parseFrame(frame, config.limits.maxFrameBytes) // { ok: false, reason: "too-large", ... }
 */
export function parseFrame(frame: unknown, maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES): ParseResult {
  if (exceedsJsonSize(frame, maxFrameBytes)) return { ok: false, reason: "too-large", detail: `the frame is larger than ${maxFrameBytes} bytes` };
  const bad = (detail: string): ParseResult => ({ ok: false, reason: "malformed", detail });
  if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return bad("a frame is a JSON object");
  const f = frame as Record<string, unknown>;
  const type = f.type as MessageType;
  if (type !== "proposal" && type !== "prevote" && type !== "precommit") return bad("type is proposal, prevote or precommit");
  const keys = Object.keys(f).sort();
  const want = type === "proposal" ? PROPOSAL_KEYS : VOTE_KEYS;
  if (keys.length !== want.length || keys.some((k, i) => k !== want[i])) return bad(`a ${type} has exactly the fields ${want.join(", ")}`);
  if (typeof f.channel !== "string" || !NAME.test(f.channel)) return bad("channel is a name");
  if (typeof f.cell !== "string" || !NAME.test(f.cell)) return bad("cell is a name");
  if (!isInt(f.height, 1, Number.MAX_SAFE_INTEGER)) return bad("height is an integer >= 1");
  if (!isInt(f.round, 0, MAX_ROUND)) return bad(`round is an integer in 0..${MAX_ROUND}`);
  if (typeof f.validator !== "string" || !HEX64.test(f.validator)) return bad("validator is a 64-hex public key");
  if (typeof f.signature !== "string" || !HEX128.test(f.signature)) return bad("signature is 128 hex");
  if (type === "proposal") {
    if (typeof f.valueId !== "string" || !HEX64.test(f.valueId)) return bad("a proposal's valueId is 64 hex");
    if (!isInt(f.validRound, -1, f.round - 1)) return bad("validRound is -1 or an earlier round");
    if (f.value === undefined) return bad("a proposal carries a value");
  } else if (f.valueId !== null && (typeof f.valueId !== "string" || !HEX64.test(f.valueId))) {
    return bad("a vote's valueId is 64 hex or null");
  }
  return { ok: true, message: f as unknown as Proposal | Vote };
}

/** Step index for the signer guard: the order of signing inside a round. */
export function stepIndex(type: MessageType): 0 | 1 | 2 {
  return type === "proposal" ? 0 : type === "prevote" ? 1 : 2;
}
