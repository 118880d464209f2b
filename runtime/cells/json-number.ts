/**
 * Numbers in a submission's JSON text that a double cannot hold exactly.
 * JSON.parse rounds silently: `9007199254740993` becomes ...992 and passes
 * `type: integer`, `12345678901234567890123` becomes 1.2345678901234568e+22,
 * `1e-400` becomes 0. A validator must never accept a value other than the
 * one its sender wrote, so admission refuses, before parsing:
 * - integers (of any notation) beyond ±(2^53 - 1), where adding 1 may change
 *   nothing;
 * - decimals whose value is not the one the double prints back (the decimal
 *   digits of the text, without leading and trailing zeros, against those of
 *   the shortest round-trip form ECMAScript prints), which also catches
 *   underflow to 0.
 * `1.0`, `1e2`, `0.1` and `-2.5E-3` are exact and pass.
 */

/** Why the number token `token` (JSON number syntax) cannot be held exactly, or undefined. */
export function inexactNumberToken(token: string): string | undefined {
  const x = Number(token);
  if (!Number.isFinite(x)) return undefined; // 1e400: refused as a bad number after parsing
  if (Number.isInteger(x) && !Number.isSafeInteger(x)) return "is an integer beyond ±9007199254740991 (2^53 - 1)";
  // Short integers (the common case) are exact: skip the digit comparison.
  if (token.length <= 15 && !/[.eE]/.test(token)) return undefined;
  const written = decimalDigits(token);
  const held = decimalDigits(String(x));
  if (written.digits !== held.digits || written.exponent !== held.exponent) {
    return x === 0 ? "is too small to be told from 0" : `would be held as ${String(x)}`;
  }
  return undefined;
}

/**
 * The significant digits of a decimal text (no sign, no leading or trailing
 * zeros) and the power of ten of its first digit: `120.50` -> ("1205", 2),
 * `0.0012e3` -> ("12", 0). Zero is ("", 0).
 */
function decimalDigits(text: string): { digits: string; exponent: number } {
  let t = text[0] === "-" ? text.slice(1) : text;
  let exp = 0;
  const e = t.search(/[eE]/);
  if (e >= 0) {
    exp = Number(t.slice(e + 1));
    t = t.slice(0, e);
  }
  const dot = t.indexOf(".");
  const intPart = dot >= 0 ? t.slice(0, dot) : t;
  const frac = dot >= 0 ? t.slice(dot + 1) : "";
  let all = intPart + frac;
  // Position of the first digit relative to the point: intPart.length - 1.
  let first = intPart.length - 1 + exp;
  let lead = 0;
  while (lead < all.length && all[lead] === "0") lead++;
  first -= lead;
  all = all.slice(lead);
  let end = all.length;
  while (end > 0 && all[end - 1] === "0") end--;
  all = all.slice(0, end);
  return all === "" ? { digits: "", exponent: 0 } : { digits: all, exponent: first };
}
