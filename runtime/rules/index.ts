/**
 * rules: safe json-logic for channel rules, keys, state paths and emit mappings.
 *
 * CONTRACT (implemented by the rules module; the definition and cells modules
 * build on exactly these exports):
 *
 *   createRuleEngine(opts?) -> RuleEngine   one per channel; never the global registry
 *   engine.check(expr, opts?) -> RuleProblem[]   static checks, with the path inside expr
 *   engine.compile(expr) -> CompiledExpr     compiled once at load (json-logic-engine)
 *   engine.compileRule(expr) -> CompiledRule truthiness of the expression
 *   engine.describe(expr) -> string          plain English for explain
 *   engine.compileTemplate(text) -> CompiledTemplate   "{data.x}" placeholders
 *   CONTEXT_ROOTS                            data, state, block, signer, token, channel
 */
export * from "./types.js";
export * from "./engine.js";
