import type { Json } from "../core/canonical.js";

/**
 * The roots a rule may read. Anything else at the start of a `var` path is an error.
 *
 *   data      the input
 *   state     the cell's state before this input (read-only)
 *   block     height, time (unix ms, from the block header), hash
 *   signer    the public key that signed the input (hex), or null
 *   token     token balances (null while the channel has no token)
 *   channel   name, version, hash, params
 *   source    `source.cell`: the upstream cell the input was emitted by, null for a direct submission
 *   op        the operation the input was submitted as, null for a cell without operations
 */
export const CONTEXT_ROOTS = ["data", "state", "block", "signer", "token", "channel", "source", "op"] as const;
export type ContextRoot = (typeof CONTEXT_ROOTS)[number];

/** What a rule sees while evaluating one input. All values are read-only copies. */
export interface RuleContext {
  data: Json;
  state: Json;
  block: { height: number; time: number; hash: string };
  signer: string | null;
  token: Json;
  channel: { name: string; version: number; hash: string; params: Json };
  /**
   * Where the input came from: `cell` is the upstream cell that emitted it, or
   * null for a direct submission. Filled by the cells module; absent reads as
   * null (`source.cell` is then null). Set it (and `op`) on every context, so
   * that all contexts have one shape and compiled paths stay fast.
   */
  source?: { cell: string | null };
  /** The operation the input was submitted as, or null for a cell without operations (absent reads as null). */
  op?: string | null;
}

/** A compiled expression: evaluates to a JSON value. Throws RulesError (code RULES_*) on a runtime fault. */
export type CompiledExpr = (ctx: RuleContext) => Json;

/** A compiled rule: true when the input passes (json-logic truthiness). */
export type CompiledRule = (ctx: RuleContext) => boolean;

/** A compiled message or path template: `"{data.pm25} over 500"`. */
export interface CompiledTemplate {
  /** Literal text and placeholders, in order. */
  parts: ReadonlyArray<{ literal: string } | { path: string; expr: CompiledExpr }>;
  /**
   * Fill placeholders from the context (missing values render as `null`).
   * For messages: each placeholder renders at most 256 code points and the
   * whole text at most 1,024, cut between code points and ended with "…";
   * objects and lists render as canonical JSON (RFC 8785) as far as the cap.
   * Never throws, and never encodes more than it shows.
   */
  render(ctx: RuleContext): string;
}

/** A static problem in an expression; `path` locates the offending node inside the expression. */
export interface RuleProblem {
  code: string;
  message: string;
  remedy: string;
  path: ReadonlyArray<string | number>;
}

/** Options of a rule engine (one engine per channel). */
export interface RuleEngineOptions {
  /**
   * The channel's `params`, when known. Used by `describe` to show the value
   * next to a `channel.params.X` path, and by `check` to flag params that the
   * channel does not define (RULES_UNKNOWN_PARAM).
   */
  params?: Json;
}

/** Options of a static check. */
export interface CheckOptions {
  /**
   * The roots `var` paths may start with at the top level (default: all of
   * CONTEXT_ROOTS). A record key, for example, might allow only `data` and `signer`.
   */
  roots?: readonly string[];
}

/**
 * A channel's rule engine: compiles json-logic once, evaluates it many times.
 * Operators live in this engine only; nothing is registered globally.
 */
export interface RuleEngine {
  /** Compiles an expression. Throws StatecellError (first problem's code, all problems in `.problems`) if `check` finds problems. */
  compile(expr: Json, opts?: CheckOptions): CompiledExpr;
  /** Compiles a rule: the truthiness of the expression (json-logic truthiness: false, 0, "", null and [] are false). */
  compileRule(expr: Json, opts?: CheckOptions): CompiledRule;
  /** Static problems of an expression, each with the JSON path of the offending node. Never throws. */
  check(expr: Json, opts?: CheckOptions): RuleProblem[];
  /** Plain English for auditors; falls back to compact JSON for what it cannot phrase. */
  describe(expr: Json): string;
  /** Compiles a `{data.x}` template. Throws StatecellError (RULES_BAD_TEMPLATE, RULES_FORBIDDEN_PATH, RULES_UNKNOWN_ROOT) on a bad template. */
  compileTemplate(text: string, opts?: CheckOptions): CompiledTemplate;
  /** Static problems of a template; `path` is `[characterOffset]` in the text. Never throws. */
  checkTemplate(text: string, opts?: CheckOptions): RuleProblem[];
  /** Every operator this engine knows, sorted. */
  readonly operators: readonly string[];
}
