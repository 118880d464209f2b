/**
 * `statecell test FILE...`: the thin edge around runChannelTests. Loads each
 * channel (loadChannel), its inline tests and NAME.test.yaml beside it
 * (loadTests), creates a sandbox code runner per cell with `code:`, runs the
 * tests, disposes the runners, and merges the reports. File reading is
 * injected so the same function serves the CLI and in-memory tests.
 */
import { excerptAt, isStatecellError, type Problem } from "../core/errors.js";
import { loadChannel, loadTests } from "../definition/index.js";
import type { ChannelPlan, TestPlan } from "../definition/plan.js";
import { checkCode, createCodeRunner, type CodeRunner } from "../sandbox/index.js";
import { mergeReports, problemReport } from "./merge.js";
import { runChannelTests } from "./run.js";
import type { TestReport } from "./types.js";

export interface TestFilesIo {
  /** Reads a text file; undefined when it does not exist. */
  readFile(path: string): string | undefined;
  /** Creates a cell's code runner; defaults to the sandbox's (isolated-vm). Injected by tests. */
  createCodeRunner?: typeof createCodeRunner;
}

/** Which tests run, and what their results keep. */
export interface TestFilesOptions {
  /** Run only the tests whose name contains this text (ignoring case); the others are not run. */
  grep?: string;
  /** Keep each cell's state at the end of each test (TestResult.state). */
  state?: boolean;
  /** Called after each test ran (the CLI's progress). */
  onTest?: () => void;
}

/** `channels/poll.yaml` -> `channels/poll.test.yaml`. */
export function testFileOf(channelFile: string): string {
  return channelFile.replace(/(\.ya?ml)?$/, ".test.yaml");
}

/** True for a `NAME.test.yaml` (or `.test.yml`) file: tests of the channel beside it. */
export function isTestsFile(file: string): boolean {
  return /\.test\.ya?ml$/.test(file);
}

/**
 * The channel file a path stands for: a tests file `NAME.test.yaml` stands
 * for `NAME.yaml` beside it (`NAME.yml` when only that one exists); any other
 * path for itself.
 */
export function channelFileOf(file: string, readFile?: (path: string) => string | undefined): string {
  if (!isTestsFile(file)) return file;
  const yaml = file.replace(/\.test\.ya?ml$/, ".yaml");
  if (readFile === undefined || readFile(yaml) !== undefined) return yaml;
  const yml = file.replace(/\.test\.ya?ml$/, ".yml");
  return readFile(yml) !== undefined ? yml : yaml;
}

/**
 * Runs the tests of every channel file in `paths` (inline `tests:` and
 * NAME.test.yaml beside it). A tests file stands for its channel, and a
 * channel named twice (`channels/*.yaml` names both) runs once. Files that do
 * not load become `problems`.
 * @example const report = runTestFiles(["channels/poll.yaml"], { readFile: readTextFile });
 */
export function runTestFiles(paths: readonly string[], io: TestFilesIo, opts: TestFilesOptions = {}): TestReport {
  const reports: TestReport[] = [];
  for (const file of channelFilesOf(paths, io.readFile)) reports.push(runTestFile(file, io, opts));
  return mergeReports(reports);
}

/** `paths` with tests files replaced by their channels, each channel once, in the order first named. */
export function channelFilesOf(paths: readonly string[], readFile?: (path: string) => string | undefined): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of paths) {
    const file = channelFileOf(p, readFile);
    if (seen.has(file)) continue;
    seen.add(file);
    out.push(file);
  }
  return out;
}

function runTestFile(file: string, io: TestFilesIo, opts: TestFilesOptions): TestReport {
  const source = io.readFile(file);
  if (source === undefined) {
    return problemReport([
      {
        code: "TEST_FILE_NOT_FOUND",
        severity: "error",
        message: `cannot read ${file}`,
        remedy: "check the path; channel files end in .yaml",
        location: { file, line: 1, col: 1 },
      },
    ]);
  }
  const loaded = loadChannel(source, { file }, { readFile: (p) => io.readFile(p), checkCode });
  const problems: Problem[] = loaded.problems.filter((p) => p.severity === "error");
  if (!loaded.plan) return problemReport(problems);
  const plan = loaded.plan;
  let tests: TestPlan[] = [...plan.tests];
  const testFile = testFileOf(file);
  const testSource = testFile === file ? undefined : io.readFile(testFile);
  if (testSource !== undefined) {
    const t = loadTests(testSource, { file: testFile }, plan);
    problems.push(...t.problems.filter((p) => p.severity === "error"));
    tests.push(...t.tests);
  }
  if (problems.length > 0) return problemReport(problems);
  if (tests.length === 0) {
    return {
      ...problemReport([
        {
          code: "TEST_NO_TESTS",
          severity: "warning",
          message: `${file} has no tests`,
          remedy: `add tests under \`tests:\` or in ${testFile}`,
          location: { file, line: 1, col: 1 },
        },
      ]),
      errors: 0,
    };
  }
  if (opts.grep !== undefined) {
    const needle = opts.grep.toLowerCase();
    tests = tests.filter((t) => t.name.toLowerCase().includes(needle));
    // No test of this channel is asked for: nothing to run, and no sandbox to start.
    if (tests.length === 0) return problemReport([]);
  }
  const report = withRunners(plan, io.createCodeRunner ?? createCodeRunner, (code) => runChannelTests(plan, tests, { code }, { state: opts.state === true, ...(opts.onTest !== undefined ? { onTest: opts.onTest } : {}) }));
  const sources = new Map([[file, source]]);
  if (testSource !== undefined) sources.set(testFile, testSource);
  return withExcerpts(report, sources);
}

/** Adds the failing step's source line and caret to each failure, as lint shows problems. */
function withExcerpts(report: TestReport, sources: ReadonlyMap<string, string>): TestReport {
  for (const t of report.tests) {
    const loc = t.failure?.location;
    const text = loc ? sources.get(loc.file) : undefined;
    if (t.failure && loc && text !== undefined) {
      const excerpt = excerptAt(text, loc);
      if (excerpt !== "") t.failure.excerpt = excerpt;
    }
  }
  return report;
}

/**
 * Creates one code runner per cell with `code:` (one isolate each, as a node
 * hosts them), hands them to `f`, and always disposes them.
 */
function withRunners(
  plan: ChannelPlan,
  create: typeof createCodeRunner,
  f: (code: (cell: string) => CodeRunner | undefined) => TestReport,
): TestReport {
  const runners = new Map<string, CodeRunner>();
  try {
    for (const cell of plan.order) {
      const c = plan.cells[cell];
      if (!c.code) continue;
      try {
        runners.set(cell, create({ name: `${plan.channel}/${cell}`, source: c.code.source, file: c.code.resolved, limits: c.limits }));
      } catch (e) {
        if (!isStatecellError(e)) throw e;
        return problemReport(e.problems.map((p) => ({ ...p, location: p.location ?? { file: c.code!.resolved, line: 1, col: 1 } })));
      }
    }
    return f((cell) => runners.get(cell));
  } finally {
    for (const r of runners.values()) r.dispose();
  }
}
