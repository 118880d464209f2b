/**
 * Deep freeze of plain JSON-shaped data, walked whole every time (a frozen
 * object's children are frozen too, even when it was frozen shallowly before):
 * what a caller keeps after freezing cannot change under it, and a writer that
 * tries throws (ES modules are strict). Costs a visit per value; callers on a
 * hot path whose values are frozen whole once and never partly (the state
 * trie's, runtime/cells/commitment.ts) stop at frozen containers instead.
 */
export function deepFreezeData<T>(v: T): T {
  if (typeof v === "object" && v !== null) {
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) deepFreezeData(v[i]);
    else for (const k of Object.keys(v)) deepFreezeData((v as Record<string, unknown>)[k]);
    if (!Object.isFrozen(v)) Object.freeze(v);
  }
  return v;
}
