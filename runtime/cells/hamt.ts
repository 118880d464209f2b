/**
 * A persistent hash trie (16-ary HAMT) from string keys to values, with a
 * Merkle root. It backs wide user objects (wide-object.ts: a map of 100,000
 * sensors is copied in O(1) and written in O(log16 n)), and its shape is the
 * canonical shape every object of the state is committed with
 * (state-digest.ts): a small object is committed as the one-bucket trie it
 * would be.
 *
 * Shape is canonical, a pure function of the key set, never of the history:
 * a subtree holding at most BUCKET keys is one bucket (its leaves sorted by
 * key), a larger one is a branch of 16 slots chosen by the next 4 bits of the
 * key's position. Inserts split a bucket that grows past BUCKET, deletes
 * collapse a branch that shrinks to BUCKET. So two validators that reached the
 * same keys by different paths compute the same Merkle root.
 *
 * Why buckets: a block that changes 1,000 keys of a 60,000-key map rehashes
 * each touched bucket once (one hash over up to 16 leaf encodings) and the
 * branches above it: measured about half the hashes of one hash per leaf
 * plus one per branch, and no leaf hash at all.
 *
 * Positions come from a fast 64-bit non-cryptographic hash of the key: the
 * position decides only the shape; what the root commits to is bound by the
 * bucket hashes, which include the full keys. Keys that collide in all 64 bits
 * share a bucket at the last level (which may then exceed BUCKET, still sorted,
 * still canonical); grinding such collisions costs an attacker ~2^32 work per
 * pair and only slows that bucket.
 *
 * Transient edits: nodes created under an `Edit` token may be mutated in place
 * by later operations with the same token, so a block that inserts 1,000 keys
 * copies each touched node once, not once per key. A token must not outlive
 * the block that created it.
 */
import { digestLatin1Text, TAG_TEXT, EMPTY_LATIN1 } from "./digest.js";

/** Ownership token of one batch of edits. */
export type Edit = { readonly id: number };
let editIds = 0;
/** A fresh token (one per block / per host-phase pass). */
export function newEdit(): Edit {
  return { id: ++editIds };
}

/** Most leaves of a bucket below the last level. */
export const BUCKET = 16;
const MAX_DEPTH = 16; // 64 bits / 4 bits per level

/*
 * Nodes and leaves are made by one object literal each (mkLeaf, mkBucket,
 * mkBranch) with every field set: a field added later (a cached hash, a
 * leaf's encoding) would give the object a second hidden class, and the
 * hashing and insert loops that see both slow down (measured: about a third
 * of a block's trie work). Literals rather than classes: V8 tracks where a
 * literal is allocated and, seeing that these objects survive (they are the
 * next state), allocates them straight in the old generation; class
 * instances were copied by every young collection they lived through
 * (measured on bench/execute.ts with state updates: 147 MB promoted by the
 * young collector per 240,000 inputs with classes, 97 MB with literals,
 * copySlots included).
 */

export interface Leaf<V> {
  readonly key: string;
  readonly h1: number;
  readonly h2: number;
  readonly value: V;
  /** The leaf's committed bytes as latin1 text, computed once (a leaf is replaced, never changed, when its value changes). */
  enc: string | undefined;
}

interface Bucket<V> {
  readonly kind: 0;
  /** Digest as latin1 text (strings need no backing store: thousands of them cost the collector little). */
  hash: string | undefined;
  /** Sorted by key (UTF-16 code units, as RFC 8785 sorts). */
  leaves: Array<Leaf<V>>;
  readonly edit: Edit | null;
}

interface Branch<V> {
  readonly kind: 1;
  hash: string | undefined;
  slots: Array<Node<V> | undefined>;
  /** Leaves in the whole subtree. */
  size: number;
  readonly edit: Edit | null;
}

function mkLeaf<V>(key: string, h1: number, h2: number, value: V): Leaf<V> {
  return { key, h1, h2, value, enc: undefined };
}

function mkBucket<V>(leaves: Array<Leaf<V>>, edit: Edit | null): Bucket<V> {
  return { kind: 0, hash: undefined, leaves, edit };
}

function mkBranch<V>(slots: Array<Node<V> | undefined>, size: number, edit: Edit | null): Branch<V> {
  return { kind: 1, hash: undefined, slots, size, edit };
}

type Node<V> = Bucket<V> | Branch<V>;

/** A trie: undefined when empty. Treat as opaque. */
export type Trie<V> = Node<V> | undefined;

/*
 * The position of the key last hashed: two independent 32-bit mixes of it
 * (cyrb53-style), 64 bits in all. Kept in two variables, not returned as a
 * pair: a pair per lookup and per write was garbage by the thousand per block.
 */
let P1 = 0;
let P2 = 0;

function position(key: string): void {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  // Signed: int32 values are small integers to V8, never boxed numbers (a box per leaf and per lookup otherwise).
  P1 = h1 | 0;
  P2 = h2 | 0;
}

function nibble(h1: number, h2: number, depth: number): number {
  return depth < 8 ? (h1 >>> (depth * 4)) & 15 : (h2 >>> ((depth - 8) * 4)) & 15;
}

const byKey = <V>(x: Leaf<V>, y: Leaf<V>): number => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0);

/** The value under `key`, or undefined. */
export function trieGet<V>(root: Trie<V>, key: string): V | undefined {
  if (root === undefined) return undefined;
  position(key);
  const h1 = P1;
  const h2 = P2;
  let node: Node<V> | undefined = root;
  let depth = 0;
  while (node !== undefined) {
    if (node.kind === 0) {
      const leaves = node.leaves;
      for (let i = 0; i < leaves.length; i++) if (leaves[i].key === key) return leaves[i].value;
      return undefined;
    }
    node = node.slots[nibble(h1, h2, depth)];
    depth++;
  }
  return undefined;
}

/** Number of keys. */
export function trieSize<V>(root: Trie<V>): number {
  return root === undefined ? 0 : root.kind === 0 ? root.leaves.length : root.size;
}

/** The subtree for `leaves` (all under one prefix) at `depth`, in canonical shape. */
function build<V>(leaves: Array<Leaf<V>>, depth: number, edit: Edit): Node<V> {
  if (leaves.length <= BUCKET || depth >= MAX_DEPTH) return mkBucket(leaves.sort(byKey), edit);
  const groups: Array<Array<Leaf<V>> | undefined> = new Array<Array<Leaf<V>> | undefined>(16);
  for (const l of leaves) (groups[nibble(l.h1, l.h2, depth)] ??= []).push(l);
  const slots = copySlots<V>([]);
  for (let i = 0; i < 16; i++) {
    const g = groups[i];
    slots[i] = g === undefined ? undefined : build(g, depth + 1, edit);
  }
  return mkBranch(slots, leaves.length, edit);
}

/**
 * A copy of a branch's 16 slots as an array literal: V8 tracks where literals
 * are allocated and, seeing that these survive (they are the next state's
 * nodes), allocates them straight in the old generation, where a copy made
 * by slice() was copied again by every young collection it lived through
 * (measured: a quarter fewer bytes promoted per block).
 */
function copySlots<V>(s: Array<Node<V> | undefined>): Array<Node<V> | undefined> {
  return [s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12], s[13], s[14], s[15]];
}

function ownBucket<V>(b: Bucket<V>, edit: Edit): Bucket<V> {
  if (b.edit === edit) {
    b.hash = undefined;
    return b;
  }
  return mkBucket(b.leaves.slice(), edit);
}

function ownBranch<V>(b: Branch<V>, edit: Edit): Branch<V> {
  if (b.edit === edit) {
    b.hash = undefined;
    return b;
  }
  return mkBranch(copySlots(b.slots), b.size, edit);
}

/** Index of `key` in sorted `leaves`, or -(insertion point) - 1. */
function find<V>(leaves: ReadonlyArray<Leaf<V>>, key: string): number {
  let lo = 0;
  let hi = leaves.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = leaves[mid].key;
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -lo - 1;
}

/*
 * What the running insert or delete did (nodes owned by the edit change in
 * place, so identity cannot tell). Module state, reset by each operation:
 * operations never nest, and an object per write was garbage by the thousand.
 */
let changed = false;
/** A key was added (insert) or removed (delete). */
let counted = false;
/** The value that was replaced or removed. */
let replaced: unknown = undefined;

/** Inserts or replaces. */
function insert<V>(node: Node<V> | undefined, leaf: Leaf<V>, depth: number, edit: Edit): Node<V> {
  if (node === undefined) {
    changed = counted = true;
    return mkBucket([leaf], edit);
  }
  if (node.kind === 0) {
    const leaves = node.leaves;
    const at = find(leaves, leaf.key);
    changed = true;
    if (at >= 0) {
      const old = leaves[at].value;
      replaced = old;
      if (old === leaf.value) {
        changed = false;
        return node;
      }
      const own = ownBucket(node, edit);
      own.leaves[at] = leaf;
      return own;
    }
    counted = true;
    const i = -at - 1;
    let own: Bucket<V>;
    if (node.edit === edit) {
      node.hash = undefined;
      // Shifted by hand: splice allocates the array of removed items it returns, one per insert.
      let j = leaves.length;
      leaves.push(leaf);
      for (; j > i; j--) leaves[j] = leaves[j - 1];
      leaves[i] = leaf;
      own = node;
    } else {
      // Copy and insert in one pass (a copy, then a splice, allocated the array twice).
      const n = leaves.length;
      const copy = new Array<Leaf<V>>(n + 1);
      for (let j = 0; j < i; j++) copy[j] = leaves[j];
      copy[i] = leaf;
      for (let j = i; j < n; j++) copy[j + 1] = leaves[j];
      own = mkBucket(copy, edit);
    }
    if (own.leaves.length > BUCKET && depth < MAX_DEPTH) return build(own.leaves, depth, edit);
    return own;
  }
  const i = nibble(leaf.h1, leaf.h2, depth);
  const next = insert(node.slots[i], leaf, depth + 1, edit);
  if (!changed) return node;
  const own = ownBranch(node, edit);
  own.slots[i] = next;
  if (counted) own.size++;
  return own;
}

/** A trie with `key` set to `value` (the given trie is unchanged unless it was created under `edit`). */
export function trieSet<V>(root: Trie<V>, key: string, value: V, edit: Edit): Trie<V> {
  position(key);
  changed = counted = false;
  replaced = undefined;
  return insert(root, mkLeaf(key, P1, P2, value), 0, edit);
}

/** The value the last trieSet or trieDelete replaced or removed (undefined for a new or absent key). */
export function trieReplaced<V>(): V | undefined {
  return replaced as V | undefined;
}

function collectLeaves<V>(node: Node<V> | undefined, out: Array<Leaf<V>>): void {
  if (node === undefined) return;
  if (node.kind === 0) for (const l of node.leaves) out.push(l);
  else for (const s of node.slots) collectLeaves(s, out);
}

function remove<V>(node: Node<V>, key: string, h1: number, h2: number, depth: number, edit: Edit): Node<V> | undefined {
  if (node.kind === 0) {
    const at = find(node.leaves, key);
    if (at < 0) return node;
    changed = counted = true;
    replaced = node.leaves[at].value;
    if (node.leaves.length === 1) return undefined;
    const own = ownBucket(node, edit);
    const leaves = own.leaves;
    for (let j = at + 1; j < leaves.length; j++) leaves[j - 1] = leaves[j];
    leaves.length--;
    return own;
  }
  const i = nibble(h1, h2, depth);
  const child = node.slots[i];
  if (child === undefined) return node;
  const next = remove(child, key, h1, h2, depth + 1, edit);
  if (!changed) return node;
  const size = node.size - 1;
  if (size <= BUCKET) {
    // Canonical shape: a subtree of at most BUCKET leaves is one bucket.
    const leaves: Array<Leaf<V>> = [];
    for (let j = 0; j < 16; j++) collectLeaves(j === i ? next : node.slots[j], leaves);
    return mkBucket(leaves.sort(byKey), edit);
  }
  const own = ownBranch(node, edit);
  own.slots[i] = next;
  own.size = size;
  return own;
}

/** A trie without `key`. */
export function trieDelete<V>(root: Trie<V>, key: string, edit: Edit): Trie<V> {
  changed = counted = false;
  replaced = undefined;
  if (root === undefined) return undefined;
  position(key);
  return remove(root, key, P1, P2, 0, edit);
}

/** Calls `f` for every leaf (in position order, then key order: not key order overall). */
export function trieForEach<V>(root: Trie<V>, f: (key: string, value: V) => void): void {
  if (root === undefined) return;
  if (root.kind === 0) {
    for (const l of root.leaves) f(l.key, l.value);
    return;
  }
  for (const s of root.slots) if (s !== undefined) trieForEach(s, f);
}

/**
 * How a leaf is committed: the bytes `u32 len(key) || utf8(key) || value
 * encoding`, as latin1 text. Called once per leaf, when its bucket is first
 * hashed, and kept on the leaf: rehashing a bucket after one of its keys
 * changed copies the other leaves' bytes instead of encoding them again.
 */
export type LeafEncoder<V> = (key: string, value: V) => string;

/**
 * Merkle root of the trie, as latin1 text. Only nodes changed since their
 * hash was last computed are rehashed (a changed node drops its cached hash),
 * so the cost follows what changed.
 *   bucket = H("statecell:cells:bucket:" || the leaves' bytes, by key)
 *   branch = H("statecell:cells:node:" || u16 occupancy map || child hashes in slot order)
 *   empty  = EMPTY
 */
export function trieRoot<V>(root: Trie<V>, enc: LeafEncoder<V>): string {
  if (root === undefined) return EMPTY_LATIN1;
  return nodeHash(root, enc);
}

function nodeHash<V>(node: Node<V>, enc: LeafEncoder<V>): string {
  if (node.hash !== undefined) return node.hash;
  // The node's bytes as one latin1 string, hashed in one call (digestLatin1Text). Joining
  // costs a string per piece, but copying the pieces into the buffer one character at a
  // time in JS took 18% more instructions per input (callgrind, bench/execute.ts with
  // state updates) for the garbage it saved.
  let bytes: string;
  if (node.kind === 0) {
    const leaves = node.leaves;
    bytes = TAG_TEXT.bucket;
    for (let i = 0; i < leaves.length; i++) {
      const l = leaves[i];
      let e = l.enc;
      if (e === undefined) l.enc = e = enc(l.key, l.value);
      bytes += e;
    }
  } else {
    const slots = node.slots;
    let map = 0;
    let children = "";
    for (let i = 0; i < 16; i++) {
      const s = slots[i];
      if (s === undefined) continue;
      map |= 1 << i;
      children += s.hash ?? nodeHash(s, enc);
    }
    bytes = TAG_TEXT.node + String.fromCharCode(map >>> 8, map & 255) + children;
  }
  const h = digestLatin1Text(bytes);
  node.hash = h;
  return h;
}

/** A trie of `entries` built in one go (canonical: the same as inserting them one by one). */
export function trieFrom<V>(entries: ReadonlyArray<readonly [string, V]>, edit: Edit): Trie<V> {
  if (entries.length === 0) return undefined;
  const leaves = entries.map(([key, value]) => {
    position(key);
    return mkLeaf(key, P1, P2, value);
  });
  return build(leaves, 0, edit);
}
