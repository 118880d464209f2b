/**
 * What a channel test run reports. Plain JSON-able values, so `--format json`
 * is the report itself and tools never parse the text form.
 */
import type { Json } from "../core/canonical.js";
import type { Problem, SourceLocation } from "../core/errors.js";

/** Why one expectation of a test did not hold. Codes are listed in docs/errors.md ("testing"). */
export interface TestFailure {
  /**
   * `TEST_VERDICT` (wrong accept/reject), `TEST_STATE` (state does not match),
   * `TEST_EMITS` (outputs of an input do not match), `TEST_BAD_STEP` (a step
   * the runner cannot carry out: unknown cell, time going backwards, ...),
   * `TEST_ERROR` (the channel faulted: an exception out of execution).
   */
  code: string;
  /** One line: what was expected and what happened. */
  message: string;
  /** Index of the failing step in the test (0-based). */
  step: number;
  /** Where the failing step (or the test) is written. */
  location?: SourceLocation;
  /** Path of the first difference, e.g. `totals.cen.count` or `[0].data.pm25`; "" is the whole value. */
  path?: string;
  /** The expected value at `path` (the expectation as written, `$key:` already resolved). */
  expected?: Json;
  /** The actual value at `path`; absent when the path does not exist in the actual value. */
  actual?: Json;
  /** True when the actual value has nothing at `path`. */
  missing?: boolean;
  /** The whole actual value that was compared (state, outputs), for context. */
  actualWhole?: Json;
  /** The actual verdict, for `TEST_VERDICT`. */
  verdict?: VerdictSummary;
  /** The step's source line with a caret, when the runner had the file's text (runTestFiles). */
  excerpt?: string;
}

/** A verdict as the test report shows it. */
export interface VerdictSummary {
  accepted: boolean;
  code?: string;
  rule?: string;
  message?: string;
  path?: string;
}

export interface TestResult {
  channel: string;
  /** The channel file the test belongs to. */
  file: string;
  name: string;
  location?: SourceLocation;
  passed: boolean;
  /** The first failed expectation; a test stops there (later steps build on the failed one). */
  failure?: TestFailure;
}

/** Exact counts of one rule over every input of a run (submitted or emitted by an upstream cell). */
export interface RuleCoverage {
  channel: string;
  cell: string;
  rule: string;
  /** Inputs for which the rule was evaluated and held. */
  accepted: number;
  /** Inputs the rule rejected. */
  rejected: number;
  location?: SourceLocation;
}

export interface TestReport {
  tests: TestResult[];
  passed: number;
  failed: number;
  /** Problems of channels or test files that could not be loaded (errors and warnings). */
  problems: Problem[];
  /** How many of `problems` are errors; any error fails the run like a failed test. */
  errors: number;
  /** Per rule, in channel then pipeline then rule order. */
  coverage: RuleCoverage[];
  /** `channel cell/rule` of every rule that no input rejected. */
  unrejected: string[];
}
