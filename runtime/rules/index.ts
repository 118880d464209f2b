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
 *   CONTEXT_ROOTS                            data, state, block, signer, token, channel, source, op
 *   parseComputedPath(text) -> ParsedPath    `a.{data.x}.b` as literal segments and placeholders:
 *                                            the one definition of a segment, for var reads and state-update writes
 *   placeholderSegment(value) -> string | undefined   the segment a placeholder's value fills (undefined: none)
 */
export * from "./types.js";
export * from "./engine.js";
export { FORBIDDEN_SEGMENTS, MAX_PLACEHOLDERS, isComputedPath, parseComputedPath, placeholderSegment, type ParsedPath, type PathPart } from "./paths.js";
