/**
 * The `state` rules see while a block runs: the state as updated by the
 * earlier accepted inputs of the block. Building a fresh object per input
 * would cost the number of top-level fields per input; this read-only view
 * reads the pass's current user root and records trie on each access.
 * Expressions run synchronously and keep nothing, so a live view is exact.
 */
import type { Json } from "../core/canonical.js";
import { trieForEach, trieGet, type Trie } from "./hamt.js";

const hasOwn = Object.prototype.hasOwnProperty;

export interface LiveSource {
  user: Record<string, Json>;
  records: Trie<Json>;
}

/** A read-only view over `src` (its fields are read at every access). */
export function liveStateView(src: LiveSource): Json {
  const records = new Proxy({} as Record<string, Json>, {
    get: (t, k) => (typeof k === "string" ? trieGet(src.records, k) : Reflect.get(t, k)),
    has: (_t, k) => typeof k === "string" && trieGet(src.records, k) !== undefined,
    ownKeys: () => {
      const keys: string[] = [];
      trieForEach(src.records, (k) => keys.push(k));
      return keys;
    },
    getOwnPropertyDescriptor: (_t, k) => {
      if (typeof k !== "string") return undefined;
      const value = trieGet(src.records, k);
      return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });
  const has = (k: string): boolean => (k === "records" ? src.records !== undefined : hasOwn.call(src.user, k));
  return new Proxy({} as Record<string, Json>, {
    get: (t, k) => {
      if (typeof k !== "string") return Reflect.get(t, k);
      if (k === "records") return src.records === undefined ? undefined : records;
      return hasOwn.call(src.user, k) ? src.user[k] : undefined;
    },
    has: (_t, k) => typeof k === "string" && has(k),
    ownKeys: () => {
      const keys = Object.keys(src.user);
      if (src.records !== undefined) keys.push("records");
      return keys;
    },
    getOwnPropertyDescriptor: (_t, k) => {
      if (typeof k !== "string" || !has(k)) return undefined;
      const value = k === "records" ? records : src.user[k];
      return { value, writable: false, enumerable: true, configurable: true };
    },
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  }) as unknown as Json;
}
