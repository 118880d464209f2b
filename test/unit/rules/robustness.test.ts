/**
 * The engine on arbitrary input: `check`, `describe` and `checkTemplate` never
 * throw; `compile` throws only StatecellError; a compiled expression throws
 * only RULES_RUNTIME and otherwise returns a JSON value.
 */
import { describe, it, expect } from "vitest";
import fc from "fast-check";
import type { Json } from "../../../runtime/core/canonical.js";
import { assertJson } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { createRuleEngine } from "../../../runtime/rules/index.js";
import { ctxWith } from "./context.js";

const rules = createRuleEngine({ params: { max: 1 } });

/** Expression-shaped values: operator keys (known, near-miss and hostile), paths, literals. */
const exprish: fc.Arbitrary<Json> = fc.letrec<{ e: Json }>((tie) => ({
  e: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
    fc.constantFrom("data.a", "data.xs", "", "state", "__proto__", "data.constructor", "../x", 0, 1.5, null, true),
    fc
      .tuple(
        fc.constantFrom(...rules.operators, "log", "toString", "__proto__", "constructor", "val", "statecell:work", "stratsWith"),
        fc.oneof(fc.array(tie("e"), { maxLength: 4 }), tie("e")),
      )
      .map(([op, args]) => JSON.parse(JSON.stringify({ [op]: args })) as Json),
  ),
})).e;

const data = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>;

describe("robustness on arbitrary input", () => {
  it("check, describe and checkTemplate never throw", () => {
    fc.assert(
      fc.property(exprish, fc.string({ maxLength: 30 }), (expr, text) => {
        const problems = rules.check(expr);
        for (const p of problems) {
          expect(p.code).toMatch(/^RULES_[A-Z_]+$/);
          expect(Array.isArray(p.path)).toBe(true);
          expect(p.remedy.length).toBeGreaterThan(0);
        }
        expect(typeof rules.describe(expr)).toBe("string");
        expect(Array.isArray(rules.checkTemplate(text))).toBe(true);
      }),
      { numRuns: 1500, seed: 42 },
    );
  });

  it("compile throws only StatecellError, exactly when check reports; evaluation yields JSON or RULES_RUNTIME", () => {
    let compiled = 0;
    fc.assert(
      fc.property(exprish, data, (expr, input) => {
        const problems = rules.check(expr);
        let f: ((ctx: ReturnType<typeof ctxWith>) => Json) | undefined;
        try {
          f = rules.compile(expr);
        } catch (e: unknown) {
          expect(e).toBeInstanceOf(StatecellError);
          expect((e as StatecellError).code).toBe(problems[0]?.code);
          return;
        }
        expect(problems).toEqual([]);
        compiled++;
        try {
          const out = f(ctxWith({ a: input, xs: [input, 1, "s"] }));
          assertJson(out);
        } catch (e: unknown) {
          expect(e).toBeInstanceOf(StatecellError);
          expect((e as StatecellError).code).toBe("RULES_RUNTIME");
        }
      }),
      { numRuns: 1500, seed: 43 },
    );
    expect(compiled).toBeGreaterThan(300); // the generator does reach evaluation
  });
});
