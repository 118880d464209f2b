import type { Json } from "../core/canonical.js";

/** The roots a rule may read. Anything else at the start of a `var` path is an error. */
export const CONTEXT_ROOTS = ["data", "state", "block", "signer", "token", "channel"] as const;
export type ContextRoot = (typeof CONTEXT_ROOTS)[number];

/** What a rule sees while evaluating one input. All values are read-only copies. */
export interface RuleContext {
  data: Json;
  state: Json;
  block: { height: number; time: number; hash: string };
  signer: string | null;
  token: Json;
  channel: { name: string; version: number; hash: string; params: Json };
}

/** A compiled expression: evaluates to a JSON value. Throws RulesError (code RULES_*) on a runtime fault. */
export type CompiledExpr = (ctx: RuleContext) => Json;

/** A compiled rule: true when the input passes (json-logic truthiness). */
export type CompiledRule = (ctx: RuleContext) => boolean;

/** A compiled message or path template: `"{data.pm25} over 500"`. */
export interface CompiledTemplate {
  /** Literal text and placeholders, in order. */
  parts: ReadonlyArray<{ literal: string } | { path: string; expr: CompiledExpr }>;
  /** Fill placeholders from the context (missing values render as `null`). */
  render(ctx: RuleContext): string;
}

/** A static problem in an expression; `path` locates the offending node inside the expression. */
export interface RuleProblem {
  code: string;
  message: string;
  remedy: string;
  path: ReadonlyArray<string | number>;
}
