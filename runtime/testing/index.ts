/**
 * testing: the channel test runner behind `statecell test`.
 *
 *   runChannelTests(plan, tests, modules?, { state? }) -> TestReport    pure except for sandboxed code
 *   runTestFiles(paths, { readFile }, { grep?, state? }) -> TestReport  loads channels and NAME.test.yaml
 *   formatTestReport(report, { format, coverage })          text or JSON
 *
 * Semantics of steps, block boundaries and coverage: docs/errors.md ("testing").
 */
export * from "./types.js";
export { runChannelTests, testBlockHeader, BASE_TIME, BLOCK_INTERVAL, type RunModules, type TestRunOptions } from "./run.js";
export { runTestFiles, testFileOf, isTestsFile, channelFileOf, channelFilesOf, type TestFilesIo, type TestFilesOptions } from "./files.js";
export { formatTestReport, formatFailure, formatState, summaryLine, type FormatOptions } from "./format.js";
export { mergeReports, problemReport } from "./merge.js";
export { firstMismatch, describeMismatch, ABSENT, type Mismatch } from "./match.js";
export { ruleOutcome, rulesOf, isNamedRefusal, CoverageCounter, coverageLabel, unrejectedRules, RULE_STAGE_CODES } from "./coverage.js";
export { shortenForDisplay, shortKey } from "./show-state.js";
export { testSubmission } from "./engine.js";
export { TestKeys } from "./keys.js";
