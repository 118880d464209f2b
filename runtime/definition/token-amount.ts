/**
 * Token amounts: whole numbers of base units, bigint inside, decimal strings
 * of base units on the wire ("1250"), and in YAML whole token units with at
 * most `decimals` digits after the point ("12.50" with 2 decimals = 1250 base
 * units). No float ever touches an amount: text is converted digit by digit.
 */

/** The name of a channel's built-in token cell: transfers, approvals and transferFroms are submitted to it. */
export const TOKEN_CELL = "token";

/** Most base units of any amount, balance or supply: 2^128 − 1 (39 digits), so a hostile number costs nothing to parse. */
export const MAX_AMOUNT = (1n << 128n) - 1n;
/** Most digits of an amount's text (MAX_AMOUNT has 39). */
export const MAX_AMOUNT_DIGITS = 39;

const BASE_UNITS = /^(0|[1-9][0-9]*)$/;

/** A wire amount (decimal string of base units, no sign, no leading zeros) as bigint, or undefined. */
export function parseBaseUnits(text: unknown): bigint | undefined {
  if (typeof text !== "string" || text.length === 0 || text.length > MAX_AMOUNT_DIGITS || !BASE_UNITS.test(text)) return undefined;
  const v = BigInt(text);
  return v <= MAX_AMOUNT ? v : undefined;
}

/** The wire text of a base-unit amount. */
export function formatBaseUnits(v: bigint): string {
  return v.toString(10);
}

const UNITS = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Whole-unit text ("12.5", "1000") with at most `decimals` digits after the
 * point, as base units; or why not. A JS number is accepted only through its
 * shortest printed form and only while that form is exact (a safe integer of
 * base units), so YAML `1000.5` works and `1e30` is refused.
 */
export function parseUnits(value: unknown, decimals: number): { value: bigint } | { problem: string } {
  let text: string;
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return { problem: "an amount is a non-negative number" };
    text = String(value);
    if (/e/i.test(text)) return { problem: `${text} is too large or too small to be written as a number; write it as a string of digits` };
    const probe = parseUnits(text, decimals);
    if ("value" in probe && probe.value > BigInt(Number.MAX_SAFE_INTEGER)) {
      return { problem: `${text} has more digits than a YAML number keeps exactly; write it in quotes ("${text}")` };
    }
    return probe;
  }
  if (typeof value !== "string") return { problem: "an amount is a number or a string of digits" };
  text = value;
  const m = UNITS.exec(text);
  if (!m || text.length > MAX_AMOUNT_DIGITS + 20) return { problem: `"${text.slice(0, 60)}" is not an amount: digits, and at most one point` };
  const frac = m[2] ?? "";
  if (frac.length > decimals) return { problem: `${text} has ${frac.length} digits after the point; the token has ${decimals}` };
  const v = BigInt(m[1] + frac.padEnd(decimals, "0"));
  if (v > MAX_AMOUNT) return { problem: `${text} is above the largest amount (${formatUnits(MAX_AMOUNT, decimals)})` };
  return { value: v };
}

/** Base units as whole-unit text with exactly `decimals` digits after the point ("1250" -> "12.50"). */
export function formatUnits(v: bigint, decimals: number): string {
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString(10).padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals);
  return `${neg ? "-" : ""}${whole}${decimals > 0 ? `.${frac}` : ""}`;
}
