/**
 * json-logic in the channel: rules, keys, conditions, state values and emit
 * mappings, checked with the channel's rule engine and compiled once. Problems
 * the rules module finds carry a path inside the expression; here that path is
 * appended to the expression's place in the document, so they point at the
 * exact line and column of the offending operator or `var`.
 */
import type { Json } from "../core/canonical.js";
import { isStatecellError } from "../core/errors.js";
import type { CompiledExpr, CompiledRule, RuleEngine, RuleProblem } from "../rules/index.js";
import type { DocPath, Reporter } from "./reporter.js";
import { closest } from "./suggest.js";

/** RULES_* codes as reported at load time: each its own DEFINITION_* code. */
const CODE_MAP: Record<string, string> = {
  RULES_UNKNOWN_OPERATOR: "DEFINITION_UNKNOWN_OPERATOR",
  RULES_UNKNOWN_ROOT: "DEFINITION_UNKNOWN_ROOT",
  RULES_FORBIDDEN_PATH: "DEFINITION_FORBIDDEN_PATH",
  RULES_UNKNOWN_PARAM: "DEFINITION_UNKNOWN_PARAM",
  RULES_BAD_ARGUMENTS: "DEFINITION_BAD_ARGUMENTS",
  RULES_TOO_DEEP: "DEFINITION_EXPRESSION_TOO_DEEP",
  RULES_TOO_LARGE: "DEFINITION_EXPRESSION_TOO_LARGE",
  RULES_BAD_TEMPLATE: "DEFINITION_BAD_TEMPLATE",
};

/** The DEFINITION_* code for a rules-module code. */
export function definitionCode(rulesCode: string): string {
  return CODE_MAP[rulesCode] ?? (rulesCode.startsWith("RULES_") ? "DEFINITION_BAD_EXPRESSION" : rulesCode);
}

/** The channel's expressions: checked, compiled, and their problems located in the document. */
export class Expressions {
  private readonly operators: ReadonlySet<string>;

  constructor(
    readonly engine: RuleEngine,
    private readonly reporter: Reporter,
  ) {
    this.operators = new Set(engine.operators);
  }

  /** True when `v` is an object with exactly one key that is an operator: an expression, not a mapping. */
  isExpression(v: Json): boolean {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
    const keys = Object.keys(v);
    return keys.length === 1 && this.operators.has(keys[0]);
  }

  private report(problems: RuleProblem[], path: DocPath): void {
    for (const p of problems) {
      this.reporter.error(definitionCode(p.code), [...path, ...p.path], `${p.message} (${p.code})`, p.remedy, {
        anchor: p.code === "RULES_UNKNOWN_OPERATOR" ? "key" : "value",
      });
    }
  }

  /** Checks and compiles a condition (json-logic truthiness). */
  rule(expr: Json, path: DocPath): CompiledRule | undefined {
    // compileRule runs the static check itself and throws with every problem
    // (payload.problems, each with its path), so checking first would do it twice.
    return this.guard(path, () => this.engine.compileRule(expr));
  }

  /** Checks and compiles an expression evaluating to a JSON value. */
  expr(expr: Json, path: DocPath): CompiledExpr | undefined {
    return this.guard(path, () => this.engine.compile(expr));
  }

  /**
   * A mapping: an object whose leaves are expressions or literals (an object
   * with exactly one key that is an operator is an expression). Lists map
   * element by element. Literal leaves are returned as they are (frozen).
   */
  mapping(value: Json, path: DocPath): CompiledExpr | undefined {
    if (this.isExpression(value)) return this.expr(value, path);
    if (Array.isArray(value)) {
      const parts = value.map((v, i) => this.mapping(v, [...path, i]));
      if (parts.some((p) => p === undefined)) return undefined;
      const fns = parts as CompiledExpr[];
      if (value.every((v) => !this.hasExpression(v))) return () => value;
      return (ctx) => fns.map((f) => f(ctx));
    }
    if (value !== null && typeof value === "object") {
      const keys = Object.keys(value);
      if (keys.length === 1 && Array.isArray(value[keys[0]])) {
        // `{ substring: [...] }` is almost surely a misspelt operator, not a one-field object.
        const guess = closest(keys[0], this.operators, this.reporter.suggestions);
        if (guess !== undefined) {
          this.reporter.warn(
            "DEFINITION_MAYBE_OPERATOR",
            [...path, keys[0]],
            `"${keys[0]}" is not an operator, so this is read as a literal field (did you mean the operator "${guess}"?)`,
            `write "${guess}" if you meant the operator`,
            { anchor: "key" },
          );
        }
      }
      const entries = keys.map((k) => [k, this.mapping(value[k], [...path, k])] as const);
      if (entries.some(([, f]) => f === undefined)) return undefined;
      if (!this.hasExpression(value)) return () => value;
      const fns = entries as ReadonlyArray<readonly [string, CompiledExpr]>;
      return (ctx) => {
        const out: { [k: string]: Json } = {};
        for (const [k, f] of fns) out[k] = f(ctx);
        return out;
      };
    }
    return () => value;
  }

  /** Checks a `{data.x}` message template; problems point inside the string when it is on one line. */
  template(text: string, path: DocPath): boolean {
    const problems = this.engine.checkTemplate(text);
    for (const p of problems) {
      const offset = typeof p.path[0] === "number" ? p.path[0] : 0;
      const base = this.reporter.locate(path);
      const quoted = /^["']/.test(this.reporter.source.split(/\r?\n/)[base.line - 1]?.slice(base.col - 1) ?? "");
      const single = base.endLine === base.line;
      const location = single ? { file: base.file, line: base.line, col: base.col + offset + (quoted ? 1 : 0) } : base;
      this.reporter.error(definitionCode(p.code), path, `${p.message} (${p.code})`, p.remedy, { location });
    }
    return problems.length === 0;
  }

  /** Every `var` path the expression reads (for warnings about `signer` and `token`). */
  varRoots(expr: Json, out: Set<string> = new Set()): Set<string> {
    if (Array.isArray(expr)) for (const e of expr) this.varRoots(e, out);
    else if (expr !== null && typeof expr === "object") {
      for (const [k, v] of Object.entries(expr)) {
        if (k === "var") {
          const p = Array.isArray(v) ? v[0] : v;
          if (typeof p === "string") out.add(p.split(".")[0]);
        }
        this.varRoots(v, out);
      }
    }
    return out;
  }

  private hasExpression(v: Json): boolean {
    if (this.isExpression(v)) return true;
    if (Array.isArray(v)) return v.some((x) => this.hasExpression(x));
    if (v !== null && typeof v === "object") return Object.values(v).some((x) => this.hasExpression(x));
    return false;
  }

  private guard<T>(path: DocPath, f: () => T): T | undefined {
    try {
      return f();
    } catch (e: unknown) {
      if (!isStatecellError(e)) throw e;
      const problems = e.payload.problems;
      if (Array.isArray(problems) && problems.length > 0) this.report(problems as RuleProblem[], path);
      else this.reporter.error(definitionCode(e.code), path, e.message, e.remedy ?? "fix the expression");
      return undefined;
    }
  }
}
