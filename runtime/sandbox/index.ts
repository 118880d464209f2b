/**
 * sandbox: code hooks (validate, transform, reduce) in isolated-vm.
 * Cells reach it through `modules.code`; see docs/sandbox.md.
 */
export * from "./types.js";
export { createBlockBudget, createCodeRunner } from "./runner.js";
export { checkCode } from "./check-code.js";
export {
  DEFAULT_LIMITS,
  MAX_MEMORY_MB,
  MAX_TIME_MS,
  MIN_MEMORY_MB,
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_STATE_CHARS,
  DEFAULT_BLOCK_TIME_MS,
  MAX_BLOCK_TIME_MS,
  DEFAULT_MAX_RECORD_READS,
  STATE_CHARS_PER_MB,
} from "./limits.js";
export { TIMEOUT_AGREE_FRACTION, TIMEOUT_GRACE_FACTOR, PROPOSER_CAP_FLOOR, blockBudgetAgrees, blockLimitMs, itemTiming, type ItemTiming } from "./timeout-policy.js";
