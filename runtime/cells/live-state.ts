/**
 * The `state` rules see while a block runs: the state as updated by the
 * earlier accepted inputs of the block. Building a fresh object per input
 * would cost the number of top-level fields per input; this read-only view
 * reads the pass's current user root and records on each access.
 * Expressions run synchronously and keep nothing, so a live view is exact.
 */
import type { Json } from "../core/canonical.js";
import type { RecordsRef } from "./records-store.js";
import { recordsView } from "./records-view.js";

const hasOwn = Object.prototype.hasOwnProperty;

export interface LiveSource {
  user: Record<string, Json>;
  /** Records at the block start. */
  records: RecordsRef | undefined;
  /** Records added by this pass so far, in order. */
  added: Map<string, Json>;
}

/** A read-only view over `src` (its fields are read at every access). */
export function liveStateView(src: LiveSource): Json {
  const records = recordsView(undefined, { added: src.added, ref: () => src.records });
  const hasRecords = (): boolean => src.records !== undefined || src.added.size > 0;
  const has = (k: string): boolean => (k === "records" ? hasRecords() : hasOwn.call(src.user, k));
  return new Proxy({} as Record<string, Json>, {
    get: (t, k) => {
      if (typeof k !== "string") return Reflect.get(t, k);
      if (k === "records") return hasRecords() ? records : undefined;
      return hasOwn.call(src.user, k) ? src.user[k] : undefined;
    },
    has: (_t, k) => typeof k === "string" && has(k),
    ownKeys: () => {
      const keys = Object.keys(src.user);
      if (hasRecords()) keys.push("records");
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
