/**
 * `state.records` as authors and rules see it: a read-only object view over
 * a state's records (records-store.ts). Records are write-once and grow
 * without bound, so copying them into a fresh plain object every block would
 * make a block cost the size of the state; the view costs nothing to create
 * and a Map lookup per read.
 *
 * It behaves like a frozen plain object for property reads, `in`,
 * Object.keys / hasOwnProperty (rules read own properties only),
 * JSON.stringify and RFC 8785 canonicalization (which sort keys themselves).
 * Writes throw. Code hooks get plain copies (materializeRecords), never the view.
 */
import type { Json } from "../core/canonical.js";
import { recordGet, recordKeys, type RecordsRef } from "./records-store.js";

const views = new WeakMap<object, RecordsRef>();

/** A read-only object view of records; `extra` (new records of a running block) is consulted first. */
export function recordsView(ref: RecordsRef | undefined, extra?: { added: ReadonlyMap<string, Json>; ref: () => RecordsRef | undefined }): { readonly [key: string]: Json } {
  const target: Record<string, Json> = {};
  const current = (): RecordsRef | undefined => (extra ? extra.ref() : ref);
  const read = (key: string): Json | undefined => (extra !== undefined && extra.added.has(key) ? extra.added.get(key) : recordGet(current(), key));
  const view = new Proxy(target, {
    get(t, key) {
      if (typeof key !== "string") return Reflect.get(t, key);
      return read(key);
    },
    has(_t, key) {
      return typeof key === "string" && read(key) !== undefined;
    },
    ownKeys() {
      const keys = recordKeys(current());
      if (extra) for (const k of extra.added.keys()) keys.push(k);
      return keys;
    },
    getOwnPropertyDescriptor(_t, key) {
      if (typeof key !== "string") return undefined;
      const value = read(key);
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
  if (ref !== undefined && extra === undefined) views.set(view, ref);
  return view;
}

/** The records behind a view made by recordsView, or undefined for any other object. */
export function refOfView(view: unknown): RecordsRef | undefined {
  return typeof view === "object" && view !== null ? views.get(view) : undefined;
}

/** A plain-object copy of the records (key order: sorted, like canonical JSON). */
export function materializeRecords(ref: RecordsRef | undefined): Record<string, Json> {
  const keys = recordKeys(ref).sort();
  const out: Record<string, Json> = {};
  for (const k of keys) Object.defineProperty(out, k, { value: recordGet(ref, k) as Json, enumerable: true, writable: true, configurable: true });
  return out;
}
