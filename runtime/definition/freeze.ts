/**
 * Deep freeze of plain data (objects and arrays). Functions and class
 * instances are left as they are: ajv's compiled validators set `.errors` on
 * themselves at every call, and compiled rules keep their own evaluation state.
 */
export function deepFreeze<T>(value: T): T {
  const seen = new Set<object>();
  const walk = (v: unknown): void => {
    if (v === null || typeof v !== "object" || seen.has(v)) return;
    const proto = Object.getPrototypeOf(v) as unknown;
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return;
    seen.add(v);
    for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k]);
    Object.freeze(v);
  };
  walk(value);
  return value;
}
