/**
 * The digest of a user-state value: what the user part of the state root
 * commits to. A pure function of the value's content (never of how it is
 * stored or how it was reached), computed bottom-up:
 *
 *   enc(scalar)    = 0x00 || u32 len || UTF-8 of its JSON text (RFC 8785 for scalars)
 *   enc(container) = 0x01 || digest(container)
 *   digest(list)   = H("statecell:cells:list:" || u32 n || enc(item)...)
 *   digest(object) = the Merkle root of the canonical trie of its entries
 *                    (hamt.ts), an entry being u32 len(key) || utf8(key) || enc(value):
 *                    one bucket hash for up to 16 keys, branches of buckets
 *                    for more; EMPTY for {}.
 *
 * Objects are committed the same way whether they are plain (small) or wide
 * (trie-backed, wide-object.ts): a wide object's own trie is its commitment
 * structure, so a write to one of its keys rehashes one bucket and the
 * branches above it. Digests of frozen containers are memoised by identity:
 * states share every unchanged subtree with the state before, so a block pays
 * only for the containers it replaced. (The memo is a cache: dropping it
 * changes no digest.) Digests and encodings are carried as latin1 strings,
 * one character per byte: measured, a Uint8Array per node or leaf made the
 * collector's work larger than the hashing.
 */
import type { Json } from "../core/canonical.js";
import { BUCKET, trieRoot, type LeafEncoder } from "./hamt.js";
import { EMPTY_LATIN1, hashWriter, TAG, u32Latin1, utf8Latin1 } from "./digest.js";
import { isWide, plainTrie, wideTrie } from "./wide-object.js";

const memo = new WeakMap<object, string>();

function isContainer(v: Json): v is Json[] | { [k: string]: Json } {
  return typeof v === "object" && v !== null;
}

/** enc(v) as latin1 text. */
function encValue(v: Json): string {
  if (isContainer(v)) return "\x01" + containerDigest(v);
  // A number's JSON text (RFC 8785: ECMAScript's Number::toString) is ASCII: no UTF-8 step.
  const t = typeof v === "number" ? JSON.stringify(v) : utf8Latin1(JSON.stringify(v));
  return "\x00" + u32Latin1(t.length) + t;
}

/**
 * The committed bytes of an object entry: u32 len(key) || utf8(key) ||
 * enc(value), as latin1 text. Joined into one flat string: a trie keeps it
 * with the leaf for as long as the leaf lives, and a chain of concatenations
 * would keep its pieces too and be walked again at every rehash of its bucket.
 */
export const encodeEntry: LeafEncoder<Json> = (key, value) => {
  const k = utf8Latin1(key);
  if (isContainer(value)) return [u32Latin1(k.length), k, "\x01", containerDigest(value)].join("");
  const t = typeof value === "number" ? JSON.stringify(value) : utf8Latin1(JSON.stringify(value));
  return [u32Latin1(k.length), k, "\x00", u32Latin1(t.length), t].join("");
};

/** Digest (latin1 text) of an object or list, memoised for frozen ones. */
export function containerDigest(v: Json[] | { [k: string]: Json }): string {
  if (isWide(v)) return trieRoot(wideTrie(v), encodeEntry);
  const known = memo.get(v);
  if (known !== undefined) return known;
  let d: string;
  if (Array.isArray(v)) {
    const parts = v.map(encValue);
    const w = hashWriter(TAG.list);
    w.u32(v.length);
    for (const p of parts) w.latin1(p);
    d = w.digestLatin1();
  } else {
    const keys = Object.keys(v);
    if (keys.length === 0) d = EMPTY_LATIN1;
    else if (keys.length <= BUCKET) {
      // The one-bucket trie, without building it.
      keys.sort();
      const parts = keys.map((k) => encodeEntry(k, v[k]));
      const w = hashWriter(TAG.bucket);
      for (const p of parts) w.latin1(p);
      d = w.digestLatin1();
    } else {
      d = trieRoot(plainTrie(v), encodeEntry);
    }
  }
  if (Object.isFrozen(v)) memo.set(v, d);
  return d;
}

/** Digest of the user fields of a state (an object; records excluded by the caller), as bytes. */
export function userDigest(user: { [k: string]: Json }): Uint8Array {
  return Buffer.from(containerDigest(user), "latin1");
}
