/**
 * `state.records` as authors and rules see it: a read-only object view over
 * the persistent records trie. Records are write-once and grow without bound,
 * so copying them into a fresh plain object every block would make a block
 * cost the size of the state; the view costs nothing to create and a trie
 * lookup per read.
 *
 * It behaves like a frozen plain object for property reads, `in`,
 * Object.keys / hasOwnProperty (rules read own properties only),
 * JSON.stringify and RFC 8785 canonicalization (which sort keys themselves).
 * Writes throw. Code hooks get plain copies (materialize), never the view.
 */
import type { Json } from "../core/canonical.js";
import { trieGet, trieForEach, type Trie } from "./hamt.js";

const views = new WeakMap<object, Trie<Json>>();

/** A read-only object view of a records trie. */
export function recordsView(trie: Trie<Json>): { readonly [key: string]: Json } {
  const target: Record<string, Json> = {};
  const view = new Proxy(target, {
    get(t, key) {
      if (typeof key !== "string") return Reflect.get(t, key);
      return trieGet(trie, key);
    },
    has(_t, key) {
      return typeof key === "string" && trieGet(trie, key) !== undefined;
    },
    ownKeys() {
      const keys: string[] = [];
      trieForEach(trie, (k) => keys.push(k));
      return keys;
    },
    getOwnPropertyDescriptor(_t, key) {
      if (typeof key !== "string") return undefined;
      const value = trieGet(trie, key);
      if (value === undefined) return undefined;
      return { value, writable: false, enumerable: true, configurable: true };
    },
    set() {
      return false;
    },
    defineProperty() {
      return false;
    },
    deleteProperty() {
      return false;
    },
    setPrototypeOf() {
      return false;
    },
  });
  views.set(view, trie);
  return view;
}

/** The trie behind a view made by recordsView, or undefined for any other object. */
export function trieOfView(view: unknown): Trie<Json> | undefined {
  return typeof view === "object" && view !== null ? views.get(view) : undefined;
}

/** A plain-object copy of the records (key order: sorted, like canonical JSON). */
export function materializeRecords(trie: Trie<Json>): Record<string, Json> {
  const keys: string[] = [];
  trieForEach(trie, (k) => keys.push(k));
  keys.sort();
  const out: Record<string, Json> = {};
  for (const k of keys) Object.defineProperty(out, k, { value: trieGet(trie, k) as Json, enumerable: true, writable: true, configurable: true });
  return out;
}
