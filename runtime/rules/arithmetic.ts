/**
 * The arithmetic operators (+ - * / % min max), with json-logic-engine
 * 5.0.7's semantics but statecell's checks and messages.
 *
 * Why not the library's: its generated code throws NaN or a TypeError that
 * names neither the operator nor the value, and it returns integers beyond
 * ±(2^53 − 1), where doubles are no longer exact (2^53 + 1 == 2^53): a
 * balance or a count would silently be off by one. Here every result is
 * checked by `exact` and every fault is a RULES_RUNTIME that names the
 * operator and what was wrong.
 *
 * Semantics kept from the engine (the differential test compares them with
 * json-logic-js, differences listed there):
 *  - an operand counts as a number: numbers as they are; null, false and ""
 *    as 0; true as 1; text as JavaScript converts it ("12" is 12, " 1e3 " is
 *    1000; text that is not a number is a fault); a list or an object is a fault;
 *  - `+` of nothing is 0; `-` of one operand negates it; `/` and `%` by 0 are faults;
 *  - `+`, `-` and `*` written with one argument that is not a list (`+: {var: xs}`)
 *    work on the items of the list it evaluates to (a non-list counts as one operand);
 *  - `min` and `max` take numbers only (not numeric text, not null).
 */
import { inexactNumber, runtimeError } from "./json-result.js";
import { preview } from "./text.js";

/** The largest integer a double holds exactly, and every integer below it: 2^53 − 1. */
export const MAX_EXACT_INTEGER = Number.MAX_SAFE_INTEGER;

/** `r` if it is a number within ±(2^53 − 1); otherwise the fault of `op` (RULES_RUNTIME). */
export function exact(op: string, r: number): number {
  if (r <= MAX_EXACT_INTEGER && r >= -MAX_EXACT_INTEGER) return r;
  throw inexactNumber(`the result of ${op}`, r);
}

function notNumber(op: string, v: unknown, i: number): never {
  throw runtimeError(
    `${op} takes numbers or numeric text; argument ${i + 1} is ${preview(v)}`,
    "check the value is a number before computing with it (a schema with type: number is the usual fix)",
  );
}

/** One operand as a number, as the engine coerces it. */
function operand(op: string, v: unknown, i: number): number {
  if (typeof v === "number") return v;
  if (v === null || v === false || v === "") return 0;
  if (v === true) return 1;
  if (typeof v === "string") {
    const n = +v;
    if (n === n) return n; // not NaN
  }
  return notNumber(op, v, i);
}

function byZero(op: string): never {
  throw runtimeError(`${op} by zero`, `make sure the divisor is not 0 before dividing, e.g. with if: [{"!=": [divisor, 0]}, ..., ...]`);
}

/** `+` over a list of operands. */
export function plus(args: readonly unknown[]): number {
  if (args.length === 0) return 0;
  let r = operand("+", args[0], 0);
  for (let i = 1; i < args.length; i++) r += operand("+", args[i], i);
  return exact("+", r);
}

/** `+` of two operands (the common case, compiled to a direct call). */
export function plus2(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") {
    const r = a + b; // the common case, kept small enough to be inlined
    if (r <= MAX_EXACT_INTEGER && r >= -MAX_EXACT_INTEGER) return r;
  }
  return exact("+", operand("+", a, 0) + operand("+", b, 1));
}

/** `*` over a list of operands. */
export function times(args: readonly unknown[]): number {
  if (args.length === 0) return 1;
  let r = operand("*", args[0], 0);
  for (let i = 1; i < args.length; i++) r *= operand("*", args[i], i);
  return exact("*", r);
}

/** `*` of two operands. */
export function times2(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") {
    const r = a * b; // the common case, kept small enough to be inlined
    if (r <= MAX_EXACT_INTEGER && r >= -MAX_EXACT_INTEGER) return r;
  }
  return exact("*", operand("*", a, 0) * operand("*", b, 1));
}

/** `-` over a list of operands: the negation of one, or the first minus the others. */
export function minus(args: readonly unknown[]): number {
  if (args.length === 0) {
    throw runtimeError("- needs at least one number, got an empty list", "give - one number to negate, or two to subtract");
  }
  let r = operand("-", args[0], 0);
  if (args.length === 1) return exact("-", -r);
  for (let i = 1; i < args.length; i++) r -= operand("-", args[i], i);
  return exact("-", r);
}

/** `-` of two operands. */
export function minus2(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") {
    const r = a - b; // the common case, kept small enough to be inlined
    if (r <= MAX_EXACT_INTEGER && r >= -MAX_EXACT_INTEGER) return r;
  }
  return exact("-", operand("-", a, 0) - operand("-", b, 1));
}

/** `/` of two operands (check refuses other counts). */
export function divide2(a: unknown, b: unknown): number {
  const n = operand("/", a, 0);
  const d = operand("/", b, 1);
  if (d === 0) byZero("/ (division)");
  return exact("/", n / d);
}

/** `/` over a list: one operand is 1 divided by it, two divide. */
export function divide(args: readonly unknown[]): number {
  return args.length === 1 ? divide2(1, args[0]) : divide2(args[0], args[1]);
}

/** `%` of two operands: the remainder, with the sign of the dividend (JavaScript's %). */
export function modulo2(a: unknown, b: unknown): number {
  const n = operand("%", a, 0);
  const d = operand("%", b, 1);
  if (d === 0) byZero("% (remainder)");
  return exact("%", n % d);
}

/** `%` over a list (check requires two). */
export function modulo(args: readonly unknown[]): number {
  return modulo2(args[0], args[1]);
}

function strictNumber(op: string, v: unknown, i: number): number {
  if (typeof v === "number") return v;
  throw runtimeError(`${op} takes numbers only; argument ${i + 1} is ${preview(v)}`, `convert text with + first ({"+": [text]}), or check the values are numbers`);
}

/** `min` over a list of numbers. */
export function min(args: readonly unknown[]): number {
  if (args.length === 0) throw runtimeError("min needs at least one number, got none", "give min one or more numbers");
  let r = strictNumber("min", args[0], 0);
  for (let i = 1; i < args.length; i++) {
    const x = strictNumber("min", args[i], i);
    if (x < r) r = x;
  }
  return exact("min", r);
}

/** `max` over a list of numbers. */
export function max(args: readonly unknown[]): number {
  if (args.length === 0) throw runtimeError("max needs at least one number, got none", "give max one or more numbers");
  let r = strictNumber("max", args[0], 0);
  for (let i = 1; i < args.length; i++) {
    const x = strictNumber("max", args[i], i);
    if (x > r) r = x;
  }
  return exact("max", r);
}

/** `+`, `-` or `*` of one argument that is not written as a list: the items of the list it evaluates to, or that one value. */
export function spread(op: "+" | "-" | "*", v: unknown): number {
  if (Array.isArray(v)) return op === "+" ? plus(v) : op === "-" ? minus(v) : times(v);
  if (op === "*") {
    throw runtimeError(`* of a single value needs a list of numbers, got ${preview(v)}`, "write *: [a, b] to multiply, or give * a list");
  }
  return op === "+" ? exact("+", operand("+", v, 0)) : exact("-", -operand("-", v, 0));
}

/** The arithmetic operators: the list form, and the two-operand form where there is one. */
export const ARITHMETIC: Readonly<Record<string, { list: (args: readonly unknown[]) => number; two?: (a: unknown, b: unknown) => number }>> = {
  "+": { list: plus, two: plus2 },
  "-": { list: minus, two: minus2 },
  "*": { list: times, two: times2 },
  "/": { list: divide, two: divide2 },
  "%": { list: modulo, two: modulo2 },
  min: { list: min },
  max: { list: max },
};

// json-logic-engine splices only functions marked synchronous into compiled code.
for (const f of [plus, plus2, times, times2, minus, minus2, divide, divide2, modulo, modulo2, min, max]) {
  Object.defineProperty(f, Symbol.for("json_logic_sync"), { value: true });
}
