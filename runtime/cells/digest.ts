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
/** Text of the leaf tag, for hashing leaf text without building a buffer. */
export const LEAF_TAG_TEXT = "statecell:cells:leaf:";

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

/** sha256 of a string's UTF-8 bytes (no intermediate buffer: node:crypto encodes it). */
export function sha256Text(text: string): Uint8Array {
  digestStats.calls++;
  return hash("sha256", text, "buffer");
}

const scratch = Buffer.allocUnsafe(64 + 16 * 32);

/** sha256 of tag || 2-byte map || hashes, written into one reused buffer (a trie node: at most 16 children). */
export function sha256Node(tag: Uint8Array, map: number, children: readonly Uint8Array[]): Uint8Array {
  digestStats.calls++;
  let o = 0;
  scratch.set(tag, o);
  o += tag.length;
  scratch[o++] = map >>> 8;
  scratch[o++] = map & 255;
  for (const c of children) {
    scratch.set(c, o);
    o += c.length;
  }
  return hash("sha256", scratch.subarray(0, o), "buffer");
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
