/**
 * definition: channel YAML to a validated, compiled, frozen ChannelPlan; lint;
 * explain. Pure (no I/O): code files are read through the injected
 * `modules.readFile`, code is checked through the injected `modules.checkCode`.
 */
export * from "./plan.js";
export { loadChannel, loadTests, lintChannel, requireChannel, type LoadResult, type LoadModules } from "./load-channel.js";
export { explainChannel, type ExplainOptions } from "./explain.js";
export { resolveThreshold, quorumOf, minimumSafeQuorum } from "./thresholds.js";
export { CHANNEL_SCHEMA } from "./language-check.js";
export { DEFINITION_CODES, type DefinitionCode } from "./codes.js";
export { VERDICT_CODES } from "./verdict-codes.js";
export { MAX_FILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES, MAX_ALIAS_NODES } from "./parse-yaml.js";
export { DEFAULT_INPUT_LIMITS, DEFAULT_CODE_LIMITS, DEFAULT_OUTPUT_LIMITS, DEFAULT_BLOCK_LIMITS, MAX_CODE_CHECK_MS } from "./compile-channel.js";
