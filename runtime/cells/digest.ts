/**
 * sha256 for the state root. Same function as core/hash (@noble/hashes), but
 * through node:crypto's one-shot `hash`: measured in this tree (Node 20.20),
 * 64 B: noble 2.8 us vs node 1.1 us; 512 B: 5.9 us vs 1.3 us; 360 KB (one
 * block of records): 3.5 ms vs 0.25 ms. Hashing is the wall of block
 * execution (bench/execute.ts), so the root uses the native one;
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
  list: encoder.encode("statecell:cells:list:"),
  records: encoder.encode("statecell:cells:records:"),
  recordsTip: encoder.encode("statecell:cells:records-tip:"),
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
/** EMPTY as latin1 text. */
export const EMPTY_LATIN1 = Buffer.from(EMPTY).toString("latin1");

/**
 * One hash at a time over bytes written into a shared, growing buffer: the
 * state root hashes thousands of small nodes per block, and a buffer per node
 * was a tenth of the collector's work. Not reentrant: a caller finishes one
 * digest (computing nested digests first) before starting the next; every
 * caller (hamt.ts, state-digest.ts, commitment.ts) computes the digests a
 * node needs before it starts writing the node.
 */
export interface Writer {
  u8(n: number): void;
  u16(n: number): void;
  u32(n: number): void;
  bytes(b: Uint8Array): void;
  /** u32 UTF-8 length, then the UTF-8 bytes of `s`. */
  text32(s: string): void;
  /** Bytes given as a latin1 string (one char per byte, 0..255). */
  latin1(s: string): void;
  /** sha256 of everything written since hashWriter(). */
  digest(): Uint8Array;
  /** The same digest as a 32-char latin1 string (no backing store to allocate: cheaper to keep by the thousand). */
  digestLatin1(): string;
}

let buf = Buffer.allocUnsafe(64 * 1024);
let pos = 0;
/** Views of the buffer's first n bytes, by n (see head()). */
let views: Buffer[] = [];

function room(n: number): void {
  if (pos + n <= buf.length) return;
  const next = Buffer.allocUnsafe(Math.max(buf.length * 2, pos + n));
  buf.copy(next, 0, 0, pos);
  buf = next;
  views = [];
}

const writer: Writer = {
  u8(n) {
    room(1);
    buf[pos++] = n & 255;
  },
  u16(n) {
    room(2);
    buf[pos++] = (n >>> 8) & 255;
    buf[pos++] = n & 255;
  },
  u32(n) {
    room(4);
    buf.writeUInt32BE(n >>> 0, pos);
    pos += 4;
  },
  bytes(b) {
    room(b.length);
    buf.set(b, pos);
    pos += b.length;
  },
  text32(s) {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    room(4 + 3 * s.length);
    const n = buf.write(s, pos + 4, "utf8");
    buf.writeUInt32BE(n, pos);
    pos += 4 + n;
  },
  latin1(s) {
    room(s.length);
    pos += buf.write(s, pos, "latin1");
  },
  digest() {
    digestStats.calls++;
    return hash("sha256", buf.subarray(0, pos), "buffer");
  },
  digestLatin1() {
    digestStats.calls++;
    // latin1 is a valid digest encoding for node:crypto (the types list only hex, base64 and base64url).
    return hash("sha256", head(pos), "latin1" as "hex");
  },
};

/** u32Latin1 of 0..255, made once: key and scalar lengths are almost always below 256. */
const SMALL_U32: readonly string[] = Array.from({ length: 256 }, (_, n) => "\x00\x00\x00" + String.fromCharCode(n));

/** A u32 as 4 latin1 characters (big-endian). */
export function u32Latin1(n: number): string {
  if (n < 256 && n >= 0) return SMALL_U32[n];
  return String.fromCharCode((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/** The UTF-8 bytes of `s` as a latin1 string (`s` itself when it is ASCII, checked in JS: a call into the runtime cost more for short keys). */
export function utf8Latin1(s: string): string {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.from(s, "utf8").toString("latin1");
  return s;
}

/** Latin1 digest text to bytes. */
export function latin1Bytes(s: string): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** Text of each tag, for digests over text (tags are ASCII, so their latin1 and UTF-8 bytes agree). */
export const TAG_TEXT = {
  node: "statecell:cells:node:",
  bucket: "statecell:cells:bucket:",
  list: "statecell:cells:list:",
} as const;

/**
 * Views of the first n bytes of the shared buffer, by n: a digest over a view
 * made per call spent a fifth of its time making the view (measured, 400 B:
 * 1.13 us vs 0.90 us). Only short lengths are kept, and the cache is dropped
 * when the buffer grows.
 */
const MAX_VIEW = 4096;

function head(n: number): Buffer {
  if (n > MAX_VIEW) return buf.subarray(0, n);
  let v = views[n];
  if (v === undefined) views[n] = v = buf.subarray(0, n);
  return v;
}

/**
 * sha256 of bytes given as one latin1 string (one char per byte), as latin1
 * text: the trie hashes thousands of small nodes per block, and writing a
 * node as one string is one call into the buffer where writing it part by
 * part was one per child (measured, 16 digests: 0.29 us vs 1.5 us).
 */
export function digestLatin1Text(bytes: string): string {
  digestStats.calls++;
  pos = 0;
  room(bytes.length);
  const n = buf.write(bytes, 0, "latin1");
  // latin1 is a valid digest encoding for node:crypto (the types list only hex, base64 and base64url).
  return hash("sha256", head(n), "latin1" as "hex");
}

/** Starts a digest over `tag` || what is written next. */
export function hashWriter(tag: Uint8Array): Writer {
  pos = 0;
  writer.bytes(tag);
  return writer;
}
