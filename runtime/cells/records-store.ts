/**
 * Write-once records, shared between the states of one chain.
 *
 * Records only ever get added (never replaced or removed), and a chain of
 * states adds them in a line: block h+1 adds to what block h had. So all the
 * states of a chain can share ONE store: the keys and values in arrival
 * order, and a native Map from each key to its position. A state that has
 * seen `count` records sees exactly the entries at positions below `count`.
 * Adding a block's records costs a Map.set and two array pushes each, and
 * allocates nothing per record (measured: the persistent hash trie this
 * replaced spent ~2x longer per record and made a fifth of the block's time
 * garbage collection; an object per entry tagged with its version was still
 * one long-lived allocation per record), and every older state keeps seeing
 * exactly its own records.
 *
 * The one case the line does not cover is a fork: adding to a state that is
 * not the newest of its store (a second proposal executed on the same parent
 * in a later consensus round, or a replay from an older state). Then the
 * state's entries are copied into a new store first: O(records), on the rare
 * path only, and never visible in results.
 */
import type { Json } from "../core/canonical.js";

interface Store {
  /** Position of each key in `order`. */
  map: Map<string, number>;
  /**
   * Keys in the order they were added: the first `ref.count` are exactly what
   * `ref` sees, in arrival order, so a ledger reads a block's new records as
   * a slice, where walking the Map costs its size (~250 ms at 1M records, measured).
   */
  order: string[];
  /** Values, by position. */
  values: Json[];
}

/** A state's records: immutable; `undefined` stands for no records at all. */
export interface RecordsRef {
  readonly store: Store;
  /** Records this state sees: the store's first `count`. */
  readonly count: number;
}

/** The record under `key` as `ref` sees it. */
export function recordGet(ref: RecordsRef | undefined, key: string): Json | undefined {
  if (ref === undefined) return undefined;
  const at = ref.store.map.get(key);
  return at !== undefined && at < ref.count ? ref.store.values[at] : undefined;
}

/** Keys `ref` sees, in arrival order. */
export function recordKeys(ref: RecordsRef | undefined): string[] {
  return ref === undefined ? [] : ref.store.order.slice(0, ref.count);
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
    store = { map: new Map(), order: [], values: [] };
  } else if (ref.store.order.length === ref.count) {
    store = ref.store;
  } else {
    // A fork: copy what this state sees into a store of its own.
    const order = ref.store.order.slice(0, ref.count);
    const map = new Map<string, number>();
    for (let i = 0; i < order.length; i++) map.set(order[i], i);
    store = { map, order, values: ref.store.values.slice(0, ref.count) };
  }
  for (const [k, value] of added) {
    store.map.set(k, store.order.length);
    store.order.push(k);
    store.values.push(value);
  }
  return { store, count: store.order.length };
}
