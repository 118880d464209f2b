/**
 * The eight comparison operators, with json-logic-engine 5.0.7's semantics but
 * not its generated code.
 *
 * Why: the engine compiles `{"==": [a, b]}` to
 * `((prev = a) == compareCheck(b, prev))` with one `prev` variable per
 * function. When `b` itself compiles to code that assigns `prev` (and, or, the
 * engine's var), `b` overwrites `a` before the comparison reads it:
 * `{"==": ["", {"if": [{"or": [0]}, "", "a"]}]}` compared "a" with 0 and threw.
 * Found by the differential test (test/unit/rules/differential.test.ts).
 * Here the operands are evaluated into arguments of a function, so nothing is
 * shared.
 *
 * Semantics kept from the engine (they differ from plain JavaScript and from
 * json-logic-js; see the differential test's header):
 *  - two strings, or a string and null, compare as they are;
 *  - otherwise both sides must be numbers or numeric text, else the comparison
 *    is a fault (RULES_RUNTIME naming the operator and both operands), never a
 *    silent false;
 *  - null next to a falsy value counts as that value (`null == 0` is true);
 *  - `===` and `!==` never convert.
 * Unlike the engine, every operand of a 3-way `<`/`<=` is evaluated, as
 * json-logic-js does.
 */
import type { StatecellError } from "../core/errors.js";
import { runtimeError } from "./json-result.js";
import { preview } from "./text.js";

const OPS: Readonly<Record<string, (a: unknown, b: unknown) => boolean>> = {
  // eslint-disable-next-line eqeqeq
  "==": (a, b) => a == b,
  "===": (a, b) => a === b,
  // eslint-disable-next-line eqeqeq
  "!=": (a, b) => a != b,
  "!==": (a, b) => a !== b,
  "<": (a, b) => (a as number) < (b as number),
  "<=": (a, b) => (a as number) <= (b as number),
  ">": (a, b) => (a as number) > (b as number),
  ">=": (a, b) => (a as number) >= (b as number),
};

/** The comparison operators this file implements. */
export const COMPARISON_OPERATORS = Object.keys(OPS);

/** The fault of comparing `a` with `b` (in the order written). */
function incomparable(op: string, a: unknown, b: unknown): StatecellError {
  return runtimeError(
    `${op} compares numbers (or numeric text), or text with text; got ${preview(a)} and ${preview(b)}`,
    "check that both sides are numbers (a schema with type: number is the usual fix), or compare text with text",
  );
}

/** json-logic-engine's guard: false for NaN and truthy objects (lists included), which no comparison accepts. */
function numberish(v: unknown): boolean {
  if (Number.isNaN(v)) return false;
  return !v || typeof v !== "object";
}

/**
 * The engine's compareCheck: validates `item` against `prev` (the operand
 * before it), possibly mapping null. `op` names the operator in the fault.
 */
function check(item: unknown, prev: unknown, op: string): unknown {
  if ((typeof item === "string" || item === null) && (typeof prev === "string" || prev === null)) return item;
  if (!numberish(item) || !numberish(prev)) throw incomparable(op, prev, item);
  if (Number.isNaN(+(item as number)) && prev !== null) throw incomparable(op, prev, item);
  if (Number.isNaN(+(prev as number))) throw incomparable(op, prev, item);
  if (prev === null && !item) return null;
  if (item === null && !prev) return 0;
  return item;
}

/**
 * Two-operand comparisons, one function literal per operator so each call site
 * stays monomorphic (a shared closure calling `OPS[op]` measured 3x slower).
 */
export const COMPARE_TWO: Readonly<Record<string, (a: unknown, b: unknown) => boolean>> = {
  // eslint-disable-next-line eqeqeq
  "==": (a, b) => a == check(b, a, "=="),
  "===": (a, b) => a === b,
  // eslint-disable-next-line eqeqeq
  "!=": (a, b) => a != check(b, a, "!="),
  "!==": (a, b) => a !== b,
  "<": (a, b) => (a as number) < (check(b, a, "<") as number),
  "<=": (a, b) => (a as number) <= (check(b, a, "<=") as number),
  ">": (a, b) => (a as number) > (check(b, a, ">") as number),
  ">=": (a, b) => (a as number) >= (check(b, a, ">=") as number),
};

// json-logic-engine splices only functions marked synchronous into compiled code.
for (const f of Object.values(COMPARE_TWO)) Object.defineProperty(f, Symbol.for("json_logic_sync"), { value: true });

/** A function comparing a chain of evaluated operands (`a OP b OP c`). */
export function comparator(op: string): (values: unknown[]) => boolean {
  const fn = OPS[op];
  const strict = op.length === 3;
  return (values) => {
    let prev = values[0];
    for (let i = 1; i < values.length; i++) {
      const cur = strict ? values[i] : check(values[i], prev, op);
      if (!fn(prev, cur)) return false;
      prev = cur;
    }
    return true;
  };
}
