/**
 * Wide objects: a user-state object with many keys (`latest.{data.sensor}`
 * over 100,000 sensors) kept as a persistent hash trie behind a read-only
 * object view. Copy-on-write of a plain object copies all its keys, so a
 * block that touches one key of a wide map would cost the map's size; a wide
 * object is copied in O(1) (a new view sharing the trie) and each write
 * copies only the trie path to that key.
 *
 * An object becomes wide the first time a block copies it while it holds
 * more than WIDE_THRESHOLD keys (that one copy costs its size, once). Views
 * behave like plain read-only objects for property reads, `in`,
 * hasOwnProperty, Object.keys, JSON.stringify and RFC 8785 (which sorts
 * keys); their key order is the trie's, not insertion order. They are not
 * frozen (a Proxy over an empty target cannot be) but refuse every write.
 */
import type { Json } from "../core/canonical.js";
import { newEdit, trieDelete, trieForEach, trieFrom, trieGet, trieReplaced, trieSet, type Edit, type Trie } from "./hamt.js";

/** Keys above which a copied object becomes wide (tests lower it to run every path through wide objects). */
export const wideSettings = { threshold: 256 };

interface Wide {
  trie: Trie<Json>;
  edit: Edit;
}

const wides = new WeakMap<object, Wide>();

/** The trie behind a wide view (its commitment structure, state-digest.ts). */
export function wideTrie(o: object): Trie<Json> {
  return wides.get(o)!.trie;
}

/** True for a view made here. */
export function isWide(o: object): boolean {
  return wides.has(o);
}

function view(st: Wide): Record<string, Json> {
  const read = (k: string): Json | undefined => trieGet(st.trie, k);
  const proxy = new Proxy({} as Record<string, Json>, {
    get: (t, k) => (typeof k === "string" ? read(k) : Reflect.get(t, k)),
    has: (_t, k) => typeof k === "string" && read(k) !== undefined,
    ownKeys: () => {
      const keys: string[] = [];
      trieForEach(st.trie, (k) => keys.push(k));
      return keys;
    },
    getOwnPropertyDescriptor: (_t, k) => {
      if (typeof k !== "string") return undefined;
      const value = read(k);
      return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
    preventExtensions: () => false,
  });
  wides.set(proxy, st);
  return proxy;
}

/**
 * Tries of frozen plain objects, built once: the digest of an object with
 * more than one bucket of keys is its trie's root (state-digest.ts), and the
 * first write to such an object turns it wide over that same trie, whose
 * hashes are then already known. A cache: dropping it changes nothing.
 */
const plainTries = new WeakMap<object, Trie<Json>>();

/** The canonical trie of a plain object's entries (memoised when the object is frozen). */
export function plainTrie(o: Record<string, Json>): Trie<Json> {
  const known = plainTries.get(o);
  if (known !== undefined) return known;
  const trie = trieFrom(Object.keys(o).map((k) => [k, o[k]] as const), newEdit());
  if (Object.isFrozen(o)) plainTries.set(o, trie);
  return trie;
}

/** A wide copy of a plain object (costs its size, once). */
export function wideFrom(o: Record<string, Json>, edit: Edit): Record<string, Json> {
  return view({ trie: plainTrie(o), edit });
}

/** An O(1) copy of a wide object that `edit`'s owner may write to. */
export function wideCopy(o: object, edit: Edit): Record<string, Json> {
  const st = wides.get(o)!;
  return view({ trie: st.trie, edit });
}

export function wideGet(o: object, key: string): Json | undefined {
  return trieGet(wides.get(o)!.trie, key);
}

/** Writes into a wide copy this pass owns. */
export function wideSet(o: object, key: string, value: Json): void {
  const st = wides.get(o)!;
  st.trie = trieSet(st.trie, key, value, st.edit);
}

/** wideSet that returns the value it replaced (undefined for a new key). */
export function wideSwap(o: object, key: string, value: Json): Json | undefined {
  const st = wides.get(o)!;
  st.trie = trieSet(st.trie, key, value, st.edit);
  return trieReplaced<Json>();
}

/** Deletes from a wide copy this pass owns. */
export function wideDelete(o: object, key: string): void {
  const st = wides.get(o)!;
  st.trie = trieDelete(st.trie, key, st.edit);
}

/**
 * JSON.stringify of a value of the state, the same text, but reading wide
 * objects straight from their tries: JSON.stringify reaches a wide view
 * through its Proxy traps (a key list, then a descriptor and a trie lookup
 * per key), which made a node's snapshot of a 3,000-key map about 6% of its
 * CPU at 200 inputs/s. Keys come in the order JSON.stringify takes them: the
 * trie's for a wide object, Object.keys' for a plain one.
 */
export function jsonText(v: Json): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  const st = wides.get(v);
  if (st !== undefined) {
    let out = "{";
    trieForEach(st.trie, (k, x) => {
      out += `${out.length === 1 ? "" : ","}${JSON.stringify(k)}:${jsonText(x)}`;
    });
    return `${out}}`;
  }
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += `${i === 0 ? "" : ","}${v[i] === undefined ? "null" : jsonText(v[i])}`;
    return `${out}]`;
  }
  let out = "{";
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, Json>)[k];
    if (x === undefined) continue;
    out += `${out.length === 1 ? "" : ","}${JSON.stringify(k)}:${jsonText(x)}`;
  }
  return `${out}}`;
}
