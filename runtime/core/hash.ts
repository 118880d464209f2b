/**
 * Hashing. sha256 from @noble/hashes: small, audited, identical on every
 * platform. Hashes are shown as lowercase hex everywhere (ids, roots, logs).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { canonicalBytes, utf8 } from "./canonical.js";

export { bytesToHex, hexToBytes };

/** sha256 of raw bytes, as hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/** sha256 of raw bytes. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/**
 * Hash of a JSON value: sha256 over its RFC 8785 bytes, prefixed with a
 * domain tag so a value hashed for one purpose can never collide with the
 * same value hashed for another (e.g. a block vs. a vote).
 */
export function hashJson(domain: string, value: unknown): string {
  const body = canonicalBytes(value);
  const tag = utf8(`statecell:${domain}:`);
  const all = new Uint8Array(tag.length + body.length);
  all.set(tag, 0);
  all.set(body, tag.length);
  return sha256Hex(all);
}

/** Hash of already-canonical bytes under a domain tag (see hashJson). */
export function hashTagged(domain: string, bytes: Uint8Array): string {
  const tag = utf8(`statecell:${domain}:`);
  const all = new Uint8Array(tag.length + bytes.length);
  all.set(tag, 0);
  all.set(bytes, tag.length);
  return sha256Hex(all);
}
