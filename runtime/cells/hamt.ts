/**
 * A persistent hash trie (16-ary HAMT) from string keys to values, used for
 * the parts of a cell's state that must not be copied per block: the
 * user-state leaf map whose Merkle root is the user part of the state root,
 * and wide user objects (wide-object.ts). (Records use records-store.ts:
 * being insert-only, they can share one native Map, which is ~2x faster.)
 *
 * Why: a block must cost what it changed, not what the state holds. Plain
 * objects can only be copied whole; here an update copies the <= 16 nodes on
 * one path (O(log16 n)), and every earlier state keeps sharing the rest.
 *
 * Shape is canonical (a pure function of the key set, never of the history):
 * a subtree holding one leaf is that leaf, a subtree holding two or more is a
 * branch, and deletes collapse branches back. So two validators that reached
 * the same leaves by different paths compute the same Merkle root.
 *
 * Positions come from a fast 64-bit non-cryptographic hash of the key: the
 * position decides only the shape; what the root commits to is bound by leaf
 * hashes that include the full key. Keys that collide in all 64 bits share a
 * bucket kept sorted by key (still canonical); grinding such collisions costs
 * an attacker ~2^32 work per pair and only slows that bucket.
 *
 * Transient edits: nodes created under an `Edit` token may be mutated in place
 * by later operations with the same token, so a block that inserts 1,000 keys
 * copies each touched node once, not once per key. A token must not outlive
 * the block that created it.
 */
import { sha256, sha256Node, sha256Text, LEAF_TAG_TEXT, TAG, EMPTY } from "./digest.js";

/** Ownership token of one batch of edits. */
export type Edit = { readonly id: number };
let editIds = 0;
/** A fresh token (one per block / per host-phase pass). */
export function newEdit(): Edit {
  return { id: ++editIds };
}

export interface Leaf<V> {
  kind: 0;
  key: string;
  h1: number;
  h2: number;
  value: V;
  hash?: Uint8Array;
}
interface Branch<V> {
  kind: 1;
  slots: Array<Node<V> | undefined>;
  count: number;
  edit: Edit | null;
  hash?: Uint8Array;
}
interface Bucket<V> {
  kind: 2;
  leaves: Array<Leaf<V>>;
  edit: Edit | null;
  hash?: Uint8Array;
}
type Node<V> = Leaf<V> | Branch<V> | Bucket<V>;

/** A trie: undefined when empty. Treat as opaque. */
export type Trie<V> = Node<V> | undefined;

const MAX_DEPTH = 16; // 64 bits / 4 bits per level

/** Two independent 32-bit mixes of the key (cyrb53-style); 64 bits of position. */
function positionHash(key: string): [number, number] {
  let h1 = 0xdeadbeef ^ key.length;
  let h2 = 0x41c6ce57 ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

function nibble(h1: number, h2: number, depth: number): number {
  return depth < 8 ? (h1 >>> (depth * 4)) & 15 : (h2 >>> ((depth - 8) * 4)) & 15;
}

/** A key's position, computed once when a key is both looked up and inserted. */
export type Position = readonly [number, number];
export function keyPosition(key: string): Position {
  return positionHash(key);
}

/** The value under `key`, or undefined. */
export function trieGet<V>(root: Trie<V>, key: string, pos: Position = positionHash(key)): V | undefined {
  if (root === undefined) return undefined;
  const [h1, h2] = pos;
  let node: Node<V> | undefined = root;
  let depth = 0;
  while (node !== undefined) {
    if (node.kind === 0) return node.key === key ? node.value : undefined;
    if (node.kind === 2) {
      for (const l of node.leaves) if (l.key === key) return l.value;
      return undefined;
    }
    node = node.slots[nibble(h1, h2, depth)];
    depth++;
  }
  return undefined;
}

function branch<V>(edit: Edit): Branch<V> {
  return { kind: 1, slots: new Array<Node<V> | undefined>(16).fill(undefined), count: 0, edit };
}

function ownBranch<V>(b: Branch<V>, edit: Edit): Branch<V> {
  if (b.edit === edit) {
    b.hash = undefined;
    return b;
  }
  return { kind: 1, slots: b.slots.slice(), count: b.count, edit };
}

/** Two distinct leaves under one new subtree at `depth`. */
function join<V>(a: Leaf<V>, b: Leaf<V>, depth: number, edit: Edit): Node<V> {
  if (depth >= MAX_DEPTH) {
    return { kind: 2, leaves: a.key < b.key ? [a, b] : [b, a], edit };
  }
  const br = branch<V>(edit);
  const na = nibble(a.h1, a.h2, depth);
  const nb = nibble(b.h1, b.h2, depth);
  if (na === nb) {
    br.slots[na] = join(a, b, depth + 1, edit);
    br.count = 1;
  } else {
    br.slots[na] = a;
    br.slots[nb] = b;
    br.count = 2;
  }
  return br;
}

function insert<V>(node: Node<V> | undefined, leaf: Leaf<V>, depth: number, edit: Edit): Node<V> {
  if (node === undefined) return leaf;
  if (node.kind === 0) {
    if (node.key === leaf.key) return leaf;
    return join(node, leaf, depth, edit);
  }
  if (node.kind === 2) {
    const leaves = node.leaves.filter((l) => l.key !== leaf.key);
    leaves.push(leaf);
    leaves.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    return { kind: 2, leaves, edit };
  }
  const i = nibble(leaf.h1, leaf.h2, depth);
  const child = node.slots[i];
  const next = insert(child, leaf, depth + 1, edit);
  if (next === child) return node;
  const own = ownBranch(node, edit);
  if (child === undefined) own.count++;
  own.slots[i] = next;
  return own;
}

/** A trie with `key` set to `value` (the given trie is unchanged unless it was created under `edit`). */
export function trieSet<V>(root: Trie<V>, key: string, value: V, edit: Edit, pos: Position = positionHash(key)): Trie<V> {
  const [h1, h2] = pos;
  return insert(root, { kind: 0, key, h1, h2, value }, 0, edit);
}

function remove<V>(node: Node<V>, key: string, h1: number, h2: number, depth: number, edit: Edit): Node<V> | undefined {
  if (node.kind === 0) return node.key === key ? undefined : node;
  if (node.kind === 2) {
    const leaves = node.leaves.filter((l) => l.key !== key);
    if (leaves.length === node.leaves.length) return node;
    return leaves.length === 1 ? leaves[0] : { kind: 2, leaves, edit };
  }
  const i = nibble(h1, h2, depth);
  const child = node.slots[i];
  if (child === undefined) return node;
  const next = remove(child, key, h1, h2, depth + 1, edit);
  if (next === child) return node;
  const count = node.count - (next === undefined ? 1 : 0);
  if (count === 0) return undefined;
  if (count === 1) {
    // Canonical shape: a subtree holding a single leaf is that leaf.
    const only = next ?? node.slots.find((s, j) => s !== undefined && j !== i);
    if (only !== undefined && only.kind === 0) return only;
  }
  const own = ownBranch(node, edit);
  own.slots[i] = next;
  own.count = count;
  return own;
}

/** A trie without `key`. */
export function trieDelete<V>(root: Trie<V>, key: string, edit: Edit): Trie<V> {
  if (root === undefined) return undefined;
  const [h1, h2] = positionHash(key);
  return remove(root, key, h1, h2, 0, edit);
}

/** Calls `f` for every leaf (in position order, not key order). */
export function trieForEach<V>(root: Trie<V>, f: (key: string, value: V) => void): void {
  if (root === undefined) return;
  if (root.kind === 0) {
    f(root.key, root.value);
    return;
  }
  if (root.kind === 2) {
    for (const l of root.leaves) f(l.key, l.value);
    return;
  }
  for (const s of root.slots) if (s !== undefined) trieForEach(s, f);
}

/**
 * Merkle root of the trie. Only nodes changed since their hash was last
 * computed are rehashed (a changed node drops its cached hash), so the cost
 * follows what changed. `leafText` encodes a leaf (it must include the key).
 */
export function trieRoot<V>(root: Trie<V>, leafText: (key: string, value: V) => string): Uint8Array {
  if (root === undefined) return EMPTY;
  return nodeHash(root, leafText);
}

/** Leaf: H("statecell:cells:leaf:" || utf8(leafText)). Node: H(tag || 16-bit map || children). */
function nodeHash<V>(node: Node<V>, leafText: (key: string, value: V) => string): Uint8Array {
  if (node.hash !== undefined) return node.hash;
  let h: Uint8Array;
  if (node.kind === 0) {
    h = sha256Text(LEAF_TAG_TEXT + leafText(node.key, node.value));
  } else if (node.kind === 2) {
    h = sha256(TAG.bucket, ...node.leaves.map((l) => nodeHash(l, leafText)));
  } else {
    // A 16-bit occupancy map, then the children present: binds each child to its slot.
    const children: Uint8Array[] = [];
    let map = 0;
    for (let i = 0; i < 16; i++) {
      const s = node.slots[i];
      if (s === undefined) continue;
      map |= 1 << i;
      children.push(nodeHash(s, leafText));
    }
    h = sha256Node(TAG.node, map, children);
  }
  node.hash = h;
  return h;
}
