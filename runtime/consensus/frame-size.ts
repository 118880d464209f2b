/**
 * A bounded size check for untrusted frames. A proposal's value is
 * canonicalized and hashed before its signature can be checked, so a stranger
 * could make a node encode 50 MiB for free (3 s per frame measured on the
 * 2-core machine); this walk refuses such a frame after looking at about
 * `limit` bytes' worth of it, and never encodes anything.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * True when the RFC 8785 encoding of `value` is certainly longer than `limit`
 * bytes. The estimate is a lower bound (a string counts its UTF-16 length,
 * which UTF-8 never undercuts; a number counts 1), so a value that fits is
 * never refused; the walk stops as soon as the estimate passes the limit, so
 * it reads O(limit) values whatever the value's size, depth or cycles (every
 * visit adds at least one byte; an array's length counts before its items).
 * One exception: the engine lists an object's keys all at once before the
 * first (0.45 us per key measured on a 60k-key object), a cost the sender
 * already paid to build or parse that object. Values JSON cannot encode count
 * 1 byte: hashing them fails later, and the frame is dropped as malformed.
 * @example exceedsJsonSize({ tag: "x".repeat(2e6) }, 1_048_576) // true
 */
export function exceedsJsonSize(value: unknown, limit: number): boolean {
  return jsonSizeEstimate(value, limit) > limit;
}

/**
 * The lower bound `exceedsJsonSize` compares with `limit`: exact for what it
 * walked to the end, and some number above `limit` as soon as the walk knows
 * the value is larger (it then stops). A sender that keeps the estimate of
 * what it sends within a receiver's limit is never refused by that receiver's
 * `exceedsJsonSize` (catch-up responses are packed this way).
 * @example jsonSizeEstimate({ a: "xy" }, 100) // 10, as long as `{"a":"xy"}`
 */
export function jsonSizeEstimate(value: unknown, limit: number): number {
  // `size` counts what was seen; every value still on the stack will add at least 1 byte.
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    switch (typeof v) {
      case "string":
        size += v.length + 2;
        break;
      case "boolean":
        size += v ? 4 : 5;
        break;
      case "object":
        if (v === null) {
          size += 4;
        } else if (Array.isArray(v)) {
          // Brackets and commas first: a long array is refused before any item is read.
          size += v.length === 0 ? 2 : v.length + 1;
          if (size + stack.length + v.length > limit) return size + stack.length + v.length;
          for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
        } else {
          size += 2;
          let first = true;
          for (const k in v) {
            if (!hasOwn.call(v, k)) continue;
            size += k.length + (first ? 3 : 4); // "k": and the comma before every member but the first
            first = false;
            stack.push((v as Record<string, unknown>)[k]);
            if (size + stack.length > limit) return size + stack.length;
          }
        }
        break;
      default:
        size += 1; // a number's shortest form; what JSON cannot encode fails to hash later
    }
    if (size + stack.length > limit) return size + stack.length;
  }
  return size;
}
