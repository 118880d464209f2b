/**
 * Write-once records, shared between the states of one chain.
 *
 * Records only ever get added (never replaced or removed), and a chain of
 * states adds them in a line: block h+1 adds to what block h had. So all the
 * states of a chain can share ONE native Map whose entries are tagged with the
 * version that added them; a state at version v sees the entries tagged <= v.
 * Adding a block's records costs a Map.set each (measured: the persistent
 * hash trie this replaced spent ~2x longer per record and made a fifth of
 * the block's time garbage collection), and every older state keeps seeing
 * exactly its own records.
 *
 * The one case the line does not cover is a fork: adding to a state that is
 * not the newest of its store (a second proposal executed on the same parent
 * in a later consensus round, or a replay from an older state). Then the
 * state's entries are copied into a new store first: O(records), on the rare
 * path only, and never visible in results.
 */
import type { Json } from "../core/canonical.js";

interface Entry {
  value: Json;
  version: number;
}

interface Store {
  map: Map<string, Entry>;
  /**
   * Keys in the order they were added. Entries are added version after
   * version, so the first `ref.count` keys are exactly what `ref` sees, in
   * arrival order: a ledger reads a block's new records as a slice, where
   * walking the Map costs its size (~250 ms at 1M records, measured).
   */
  order: string[];
  /** Version of the newest state that added to this store. */
  head: number;
}

/** A state's records: immutable; `undefined` stands for no records at all. */
export interface RecordsRef {
  readonly store: Store;
  readonly version: number;
  readonly count: number;
}

/** The record under `key` as `ref` sees it. */
export function recordGet(ref: RecordsRef | undefined, key: string): Json | undefined {
  if (ref === undefined) return undefined;
  const e = ref.store.map.get(key);
  return e !== undefined && e.version <= ref.version ? e.value : undefined;
}

/** Keys `ref` sees, in arrival order. */
export function recordKeys(ref: RecordsRef | undefined): string[] {
  const keys: string[] = [];
  if (ref === undefined) return keys;
  for (const [k, e] of ref.store.map) if (e.version <= ref.version) keys.push(k);
  return keys;
}

/** Keys `ref` sees from arrival position `from` on, in arrival order (cost: how many there are). */
export function recordKeysFrom(ref: RecordsRef | undefined, from: number): string[] {
  if (ref === undefined || from >= ref.count) return [];
  return ref.store.order.slice(Math.max(0, from), ref.count);
}

/**
 * A ref that sees `ref`'s records plus `added` (keys new to `ref`, in order).
 * `ref` itself keeps seeing exactly what it saw.
 */
export function recordsAppend(ref: RecordsRef | undefined, added: ReadonlyMap<string, Json>): RecordsRef | undefined {
  if (added.size === 0) return ref;
  let store: Store;
  if (ref === undefined) {
    store = { map: new Map(), order: [], head: 0 };
  } else if (ref.store.head === ref.version) {
    store = ref.store;
  } else {
    // A fork: copy what this state sees into a store of its own.
    store = { map: new Map(), order: ref.store.order.slice(0, ref.count), head: ref.version };
    for (const [k, e] of ref.store.map) if (e.version <= ref.version) store.map.set(k, e);
  }
  const version = store.head + 1;
  for (const [k, value] of added) {
    store.map.set(k, { value, version });
    store.order.push(k);
  }
  store.head = version;
  return { store, version, count: (ref?.count ?? 0) + added.size };
}
