/**
 * The error codes a verdict can carry, which tests may expect
 * (`expect: { rejected: CELL_SCHEMA }`): what admission and block execution
 * refuse an input with (docs/errors.md, "cells" and "sandbox"; RULES_RUNTIME
 * for a rule that fails at run time). A code a test expects that no verdict
 * carries can never match, so lint reports it with the closest of these.
 * Codes that are thrown at callers (CELL_NO_CODE_RUNNER, CELL_BAD_STATE,
 * CELL_NO_COMMITMENT) are not verdicts and are not listed. A caller whose
 * modules report codes not listed here passes them as `verdictCodes`.
 */
export const VERDICT_CODES: readonly string[] = [
  "CELL_RULE",
  "CELL_SCHEMA",
  "CELL_TOO_LARGE",
  "CELL_TOO_DEEP",
  "CELL_NOT_JSON",
  "CELL_BAD_NUMBER",
  "CELL_BAD_TEXT",
  "CELL_OUTPUT_LIMIT",
  "CELL_DUPLICATE_JSON_KEY",
  "CELL_FORBIDDEN_KEY",
  "CELL_DUPLICATE_KEY",
  "CELL_BAD_KEY",
  "CELL_BAD_PATH",
  "CELL_BAD_VALUE",
  "CELL_BAD_OUTPUT",
  "CELL_STATE_CONFLICT",
  "CELL_CODE_REJECT",
  "CELL_EXPRESSION_FAULT",
  "CELL_UNSIGNED",
  "CELL_BAD_SIGNATURE",
  "CELL_BAD_SUBMISSION",
  "CELL_UNKNOWN_CELL",
  "CELL_NOT_A_SOURCE",
  "SANDBOX_TIMEOUT",
  "SANDBOX_MEMORY",
  "SANDBOX_THROW",
  "SANDBOX_OUTPUT",
  "SANDBOX_BLOCK_BUDGET",
  "SANDBOX_STATE_TOO_LARGE",
  // The built-in token cell's refusals (runtime/token, docs/token.md).
  "TOKEN_BAD_SUBMISSION",
  "TOKEN_BAD_ACCOUNT",
  "TOKEN_AMOUNT",
  "TOKEN_NOT_SIGNED_BY_SOURCE",
  "TOKEN_SAME_ACCOUNT",
  "TOKEN_BAD_NONCE",
  "TOKEN_INSUFFICIENT_BALANCE",
  "TOKEN_ALLOWANCE_EXCEEDED",
  "TOKEN_ALLOWANCE_EXPIRED",
  "TOKEN_FEE",
  "RULES_RUNTIME",
];
