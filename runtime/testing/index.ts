/**
 * testing: the channel test runner behind `statecell test`.
 *
 *   runChannelTests(plan, tests, modules?) -> TestReport    pure except for sandboxed code
 *   runTestFiles(paths, { readFile }) -> TestReport          loads channels and NAME.test.yaml
 *   formatTestReport(report, { format, coverage })          text or JSON
 *
 * Semantics of steps, block boundaries and coverage: docs/errors.md ("testing").
 */
export * from "./types.js";
export { runChannelTests, testBlockHeader, BASE_TIME, BLOCK_INTERVAL, type RunModules } from "./run.js";
export { runTestFiles, testFileOf, type TestFilesIo } from "./files.js";
export { formatTestReport, formatFailure, summaryLine, type FormatOptions } from "./format.js";
export { mergeReports } from "./merge.js";
export { firstMismatch, describeMismatch, ABSENT, type Mismatch } from "./match.js";
export { ruleOutcome, CoverageCounter, unrejectedRules, RULE_STAGE_CODES } from "./coverage.js";
export { TestKeys } from "./keys.js";
