/**
 * Errors the net module throws at its caller. Only caller mistakes throw
 * (bad options, an unknown channel name, an oversized message, a malformed
 * key, a port in use); what a remote peer does never throws: it closes that
 * peer's connection with a reason (see reasons.ts) and is counted.
 */
import { StatecellError } from "../core/errors.js";

/** Error codes of runtime/net; each is listed in docs/errors.md. */
export type NetErrorCode =
  | "NET_BAD_OPTIONS"
  | "NET_BAD_PEER_KEY"
  | "NET_UNKNOWN_CHANNEL"
  | "NET_MESSAGE_TOO_LARGE"
  | "NET_NOT_BYTES"
  | "NET_LISTEN_FAILED"
  | "NET_CLOSED";

/** A StatecellError with a NET_ code, a message naming the actual and allowed values, and a remedy. */
export function netError(code: NetErrorCode, message: string, remedy: string, payload: Record<string, unknown> = {}, cause?: unknown): StatecellError {
  return new StatecellError(code, message, { remedy, payload, ...(cause === undefined ? {} : { cause }) });
}

const KEY_HEX = /^[0-9a-f]{64}$/;

/** Throws NET_BAD_PEER_KEY unless `key` is 64 lowercase hex characters (an ed25519 public key). */
export function assertPeerKey(key: unknown, what = "a peer key"): asserts key is string {
  if (typeof key !== "string" || !KEY_HEX.test(key)) {
    const shown = typeof key === "string" ? `"${key.length > 80 ? `${key.slice(0, 80)}…` : key}" (${key.length} characters)` : `a ${typeof key}`;
    throw netError("NET_BAD_PEER_KEY", `${what} must be 64 lowercase hex characters (an ed25519 public key), got ${shown}`, "pass the node's public key as printed by `statecell keys` (KeyPair.publicKey)", {
      key: typeof key === "string" ? key.slice(0, 80) : typeof key,
    });
  }
}
