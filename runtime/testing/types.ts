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
  /**
   * With the run option `state`: every cell's state (plain JSON) when the test
   * ended, passed or failed, by cell in pipeline order.
   */
  state?: Record<string, Json>;
  /** With `state`: the public key hex of every signer name the run has used so far, for display (`$key:NAME`). */
  signers?: Record<string, string>;
}

/**
 * Exact counts of one rule, or of one named refusal of a cell's code hooks,
 * over every input of a run (submitted or emitted by an upstream cell).
 */
export interface RuleCoverage {
  channel: string;
  cell: string;
  /** The operation the rule belongs to; absent for a rule of the cell itself (shared by its operations). */
  op?: string;
  /** `rule`: a rule under `rules:`; `refusal`: a name under the cell's `code: { rejects: ... }`. */
  kind: "rule" | "refusal";
  /** The rule's or the refusal's name. */
  rule: string;
  /**
   * Inputs the rule let through (evaluated and held, or a `when:` that did not
   * apply); for a refusal, inputs the cell accepted.
   */
  accepted: number;
  /** Inputs the rule (or the refusal) rejected. */
  rejected: number;
  location?: SourceLocation;
}

/** Inputs of one operation of a cell with `operations:`, accepted and rejected (for any reason). */
export interface OperationCoverage {
  channel: string;
  cell: string;
  op: string;
  accepted: number;
  rejected: number;
}

export interface TestReport {
  tests: TestResult[];
  passed: number;
  failed: number;
  /** Problems of channels or test files that could not be loaded (errors and warnings). */
  problems: Problem[];
  /** How many of `problems` are errors; any error fails the run like a failed test. */
  errors: number;
  /** Per rule and refusal, in channel then pipeline order; per cell its rules, each operation's rules, its refusals. */
  coverage: RuleCoverage[];
  /** Per operation of the cells with `operations:`, in channel then pipeline then written order. */
  operations: OperationCoverage[];
  /** `channel cell/rule`, `channel cell/op/rule` or `channel cell/NAME (hook refusal)` of every row that no input rejected. */
  unrejected: string[];
}
