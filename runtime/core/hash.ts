/**
 * Hashing. sha256 through node:crypto's one-shot `hash` (OpenSSL, with the
 * CPU's SHA instructions where it has them); the same function as
 * @noble/hashes' sha256, which the tests use to cross-check every digest
 * (test/unit/core/hash.test.ts). Measured on this project's machine
 * (`npm run bench -- hash`): node:crypto is 7 to 9 times faster at every
 * size a node hashes, 80 B to a 250 KB block value, and input ids, value ids
 * and header hashes are computed several times per input on every node.
 * Hashes are shown as lowercase hex everywhere (ids, roots, logs).
 */
import { hash } from "node:crypto";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { canonicalBytes, utf8 } from "./canonical.js";

export { bytesToHex, hexToBytes };

/** sha256 of raw bytes, as hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return hash("sha256", bytes, "hex");
}

/** sha256 of raw bytes. */
export function sha256Bytes(bytes: Uint8Array): Uint8Array {
  // A plain Uint8Array of its own (a copy of 32 bytes), not a Buffer that may share Node's pool.
  return new Uint8Array(hash("sha256", bytes, "buffer"));
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
