/**
 * sha256 for the state root. Same function as core/hash (@noble/hashes), but
 * through node:crypto's one-shot `hash`: measured in this tree (Node 20.20),
 * 64 B: noble 2.8 us vs node 1.1 us; 512 B: 5.9 us vs 1.3 us; 360 KB (one
 * block of records): 3.5 ms vs 0.25 ms. Hashing is the wall of block
 * execution (PERFORMANCE.md), so the root uses the native one;
 * test/vectors/cells cross-checks both give the same digests.
 */
import { hash } from "node:crypto";

const encoder = new TextEncoder();

/** Domain tags keep leaves, nodes, chain links and roots from ever colliding. */
export const TAG = {
  leaf: encoder.encode("statecell:cells:leaf:"),
  node: encoder.encode("statecell:cells:node:"),
  bucket: encoder.encode("statecell:cells:bucket:"),
  records: encoder.encode("statecell:cells:records:"),
  root: encoder.encode("statecell:cells:root:"),
  empty: encoder.encode("statecell:cells:empty"),
} as const;

/** Hash calls made so far: tests use it to prove a block's hashing follows what it changed. */
export const digestStats = { calls: 0 };

/** sha256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  digestStats.calls++;
  if (parts.length === 1) return hash("sha256", parts[0], "buffer");
  return hash("sha256", Buffer.concat(parts), "buffer");
}

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, "hex"));
}

/** Digest of the empty user state / empty records chain. */
export const EMPTY = sha256(TAG.empty);
