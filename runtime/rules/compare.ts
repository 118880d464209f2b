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
 *    is a fault (RULES_RUNTIME), never a silent false;
 *  - null next to a falsy value counts as that value (`null == 0` is true);
 *  - `===` and `!==` never convert.
 * Unlike the engine, every operand of a 3-way `<`/`<=` is evaluated, as
 * json-logic-js does.
 */

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

/** json-logic-engine's guard, thrown as NaN like the engine so the fault maps to RULES_RUNTIME alike. */
function numberish(v: unknown): unknown {
  if (Number.isNaN(v)) throw Number.NaN;
  if (!v) return v;
  if (typeof v === "object") throw Number.NaN;
  return v;
}

/** The engine's compareCheck: validates `item` against `prev`, possibly mapping null. */
function check(item: unknown, prev: unknown, strict: boolean): unknown {
  if (strict || ((typeof item === "string" || item === null) && (typeof prev === "string" || prev === null))) return item;
  if (Number.isNaN(+(numberish(item) as number)) && prev !== null) throw Number.NaN;
  if (Number.isNaN(+(numberish(prev) as number))) throw Number.NaN;
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
  "==": (a, b) => a == check(b, a, false),
  "===": (a, b) => a === b,
  // eslint-disable-next-line eqeqeq
  "!=": (a, b) => a != check(b, a, false),
  "!==": (a, b) => a !== b,
  "<": (a, b) => (a as number) < (check(b, a, false) as number),
  "<=": (a, b) => (a as number) <= (check(b, a, false) as number),
  ">": (a, b) => (a as number) > (check(b, a, false) as number),
  ">=": (a, b) => (a as number) >= (check(b, a, false) as number),
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
      const cur = check(values[i], prev, strict);
      if (!fn(prev, cur)) return false;
      prev = cur;
    }
    return true;
  };
}
