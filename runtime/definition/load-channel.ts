/**
 * The loader's entry points: channel YAML to a compiled, frozen ChannelPlan
 * (or the located problems that prevent it), tests files to TestPlans, and
 * lint. Pure: files are read through `modules.readFile`.
 */
import type { Json } from "../core/canonical.js";
import { StatecellError, isStatecellError, type Problem } from "../core/errors.js";
import { compileChannel, type LoadModules } from "./compile-channel.js";
import { checkChannelDocument, checkTestsDocument } from "./language-check.js";
import { parseYaml } from "./parse-yaml.js";
import type { ChannelPlan, TestPlan } from "./plan.js";
import { sortProblems, type Reporter } from "./reporter.js";
import { normaliseTests, targetsOfPlan } from "./tests-plan.js";
import { VERDICT_CODES } from "./verdict-codes.js";

export type { LoadModules } from "./compile-channel.js";

export interface LoadResult {
  /** Present when the file has no errors (warnings allowed). */
  plan?: ChannelPlan;
  /** Every problem of the file, errors and warnings, in file order. */
  problems: Problem[];
}

/**
 * Loads a channel file.
 *
 * @example
 * const { plan, problems } = loadChannel(text, { file: "channels/air-quality.yaml" },
 *   { readFile: (p) => (existsSync(p) ? readFileSync(p, "utf8") : undefined) });
 * @throws StatecellError DEFINITION_INTERNAL only on a bug in statecell; problems in the file are returned.
 */
export function loadChannel(source: string, opts: { file: string }, modules: LoadModules = {}): LoadResult {
  return guarded(opts.file, () => {
    const { reporter, value } = parseYaml(source, opts.file);
    if (value === undefined) return done(reporter);
    if (!isObject(value)) {
      reporter.error("DEFINITION_WRONG_TYPE", [], `a channel file is a mapping with channel, version, groups and cells; this one is ${kind(value)}`, "start from an example in channels/ (`channel: my-channel`, `version: 1`, `groups:`, `cells:`)");
      return done(reporter);
    }
    if (Object.keys(value).length > 0 && Object.keys(value).every((k) => k === "tests")) {
      reporter.error(
        "DEFINITION_NOT_A_CHANNEL",
        ["tests"],
        "this is a tests file (only `tests:`), not a channel",
        `load the channel it belongs to (${opts.file.replace(/\.test\.ya?ml$/, ".yaml")}); its NAME.test.yaml is read beside it`,
        { anchor: "key" },
      );
      return done(reporter);
    }
    checkChannelDocument(value, reporter);
    const plan = compileChannel(value, opts.file, reporter, modules);
    return { ...(plan && !reporter.hasErrors() ? { plan } : {}), problems: sortProblems(reporter.problems) };
  });
}

/**
 * Loads a NAME.test.yaml file (a top-level `tests:` list) against a loaded plan:
 * cells, operations, rule and refusal names and error codes are checked like
 * inline tests (`opts.verdictCodes` as in LoadModules).
 *
 * @example
 * const { tests, problems } = loadTests(text, { file: "channels/poll.test.yaml" }, plan);
 * explainChannel(plan, { format: "text", testsFile: { file: "channels/poll.test.yaml", tests } });
 */
export function loadTests(source: string, opts: { file: string; verdictCodes?: Iterable<string> }, plan: ChannelPlan): { tests: TestPlan[]; problems: Problem[] } {
  const result = guarded(opts.file, () => {
    const { reporter, value } = parseYaml(source, opts.file);
    if (value === undefined) return { tests: [], ...done(reporter) };
    if (!isObject(value)) {
      reporter.error("DEFINITION_WRONG_TYPE", [], `a tests file is a mapping with a \`tests:\` list; this one is ${kind(value)}`, "write `tests:` followed by a list of tests");
      return { tests: [], ...done(reporter) };
    }
    checkTestsDocument(value, reporter);
    const codes = new Set([...VERDICT_CODES, ...(opts.verdictCodes ?? [])]);
    const tests = normaliseTests(value.tests, ["tests"], reporter, targetsOfPlan(plan, codes));
    return { tests: reporter.hasErrors() ? [] : tests, problems: sortProblems(reporter.problems) };
  });
  return { tests: result.tests ?? [], problems: result.problems };
}

/** Every problem of a channel file (errors and warnings); empty when it is clean. */
export function lintChannel(source: string, opts: { file: string }, modules: LoadModules = {}): Problem[] {
  return loadChannel(source, opts, modules).problems;
}

/**
 * Loads a channel and throws DEFINITION_INVALID (with every problem in
 * `.problems`) when it has errors: for callers that cannot continue without a plan.
 */
export function requireChannel(source: string, opts: { file: string }, modules: LoadModules = {}): ChannelPlan {
  const { plan, problems } = loadChannel(source, opts, modules);
  if (plan) return plan;
  const errors = problems.filter((p) => p.severity === "error");
  const first = errors[0];
  throw new StatecellError("DEFINITION_INVALID", `${opts.file} has ${errors.length} error${errors.length === 1 ? "" : "s"}${first ? `; the first: ${first.message}` : ""}`, {
    remedy: first?.remedy ?? "fix the problems listed",
    location: first?.location ?? { file: opts.file, line: 1, col: 1 },
    problems,
  });
}

function done(reporter: Reporter): { problems: Problem[] } {
  return { problems: sortProblems(reporter.problems) };
}

function isObject(v: Json): v is { [k: string]: Json } {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function kind(v: Json): string {
  if (v === null) return "empty";
  if (Array.isArray(v)) return "a list";
  return `a ${typeof v}`;
}

/** Anything but a StatecellError escaping the loader is a bug; it is wrapped so callers see one error type, with a location. */
function guarded<T>(file: string, f: () => T): T {
  try {
    return f();
  } catch (e: unknown) {
    if (isStatecellError(e)) {
      if (e.location) throw e;
      throw new StatecellError(e.code, e.message, { remedy: e.remedy ?? "", location: { file, line: 1, col: 1 }, payload: e.payload, cause: e });
    }
    throw new StatecellError("DEFINITION_INTERNAL", `the loader failed on ${file}: ${e instanceof Error ? e.message : String(e)}`, {
      remedy: "this is a bug in statecell; please report it with the file",
      location: { file, line: 1, col: 1 },
      cause: e,
    });
  }
}
