/**
 * Channel tests (inline `tests:` or NAME.test.yaml) normalised to TestPlan:
 * the single-submission form (`submit` + `expect`) becomes one submit step, so
 * the runner knows one shape. Cell and rule names are checked here so a typo
 * fails at lint time, with its line, rather than as a puzzling test failure.
 */
import type { Json } from "../core/canonical.js";
import type { TestExpectation, TestPlan, TestStep } from "./plan.js";
import type { DocPath, Reporter } from "./reporter.js";
import { didYouMean, listSome } from "./suggest.js";

type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** What tests may refer to: each cell and its rule names. */
export type CellRules = ReadonlyMap<string, ReadonlySet<string>>;

/** An error code a test may expect instead of a rule name (CELL_SCHEMA, SANDBOX_TIMEOUT, ...). */
const ERROR_CODE = /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/;

/** Normalises `tests` found at `base` (e.g. ["tests"]); reports problems; skips tests that do not parse. */
export function normaliseTests(list: Json | undefined, base: DocPath, reporter: Reporter, cells: CellRules): TestPlan[] {
  if (!Array.isArray(list)) return [];
  const out: TestPlan[] = [];
  const names = new Map<string, number>();
  list.forEach((t, i) => {
    const path = [...base, i];
    if (!isObj(t) || typeof t.name !== "string") return;
    const first = names.get(t.name);
    if (first !== undefined) {
      reporter.error("DEFINITION_DUPLICATE_NAME", [...path, "name"], `test "${t.name}" is also test ${first + 1}`, "give each test its own name");
    } else names.set(t.name, i);
    const location = reporter.locate(path, "key");
    const hasSingle = t.submit !== undefined;
    const hasSteps = t.steps !== undefined;
    if (hasSingle && hasSteps) {
      reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, "steps"], `test "${t.name}" has both \`submit\` and \`steps\``, "use `submit` + `expect` for one submission, or `steps` for a sequence", { anchor: "key" });
      return;
    }
    if (!hasSingle && !hasSteps) {
      reporter.error("DEFINITION_MISSING_KEY", path, `test "${t.name}" has neither \`submit\` nor \`steps\``, "add `submit: { cell, data }` and `expect: accepted`, or a `steps:` list", { anchor: "key" });
      return;
    }
    let steps: TestStep[] | undefined;
    if (hasSingle) {
      const step = submitStep(t, path, reporter, cells);
      steps = step ? [step] : undefined;
    } else {
      if (!Array.isArray(t.steps)) return;
      const parsed = t.steps.map((s, j) => parseStep(s, [...path, "steps", j], reporter, cells));
      if (parsed.every((s): s is TestStep => s !== undefined)) steps = parsed;
    }
    if (steps) out.push({ name: t.name, steps, location });
  });
  return out;
}

function parseStep(s: Json, path: DocPath, reporter: Reporter, cells: CellRules): TestStep | undefined {
  if (!isObj(s)) return undefined;
  const kinds = (["submit", "block", "state"] as const).filter((k) => k in s);
  if (kinds.length === 0) {
    reporter.error("DEFINITION_MISSING_KEY", path, "a test step needs one of `submit`, `block` or `state`", "add `submit: { cell, data }`, `block: {}` or `state: { cell, match }`");
    return undefined;
  }
  if (kinds.length > 1) {
    reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, kinds[1]], `a test step has both \`${kinds[0]}\` and \`${kinds[1]}\``, "split it into two steps", { anchor: "key" });
    return undefined;
  }
  const location = reporter.locate(path);
  if (kinds[0] === "submit") return submitStep(s, path, reporter, cells);
  for (const extra of ["expect", "emits"] as const) {
    if (extra in s) {
      reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, extra], `\`${extra}\` belongs to a \`submit\` step, not a \`${kinds[0]}\` step`, `move \`${extra}\` under the submit step it checks`, { anchor: "key" });
      return undefined;
    }
  }
  if (kinds[0] === "block") {
    const b = s.block;
    const time = isObj(b) && typeof b.time === "number" ? b.time : undefined;
    return time === undefined ? { kind: "block", location } : { kind: "block", time, location };
  }
  const st = s.state;
  if (!isObj(st) || typeof st.cell !== "string") return undefined;
  if (!checkCell(st.cell, [...path, "state", "cell"], reporter, cells)) return undefined;
  return { kind: "state", cell: st.cell, match: st.match ?? null, location };
}

function submitStep(s: Obj, path: DocPath, reporter: Reporter, cells: CellRules): TestStep | undefined {
  const sub = s.submit;
  if (!isObj(sub) || typeof sub.cell !== "string") return undefined;
  const cellOk = checkCell(sub.cell, [...path, "submit", "cell"], reporter, cells);
  const expect = expectation(s.expect, sub.cell, [...path, "expect"], reporter, cells);
  if (!cellOk || expect === null) return undefined;
  const step: TestStep = {
    kind: "submit",
    cell: sub.cell,
    data: sub.data ?? null,
    location: reporter.locate([...path, "submit"]),
    ...(typeof sub.signer === "string" ? { signer: sub.signer } : {}),
    ...(expect ? { expect } : {}),
  };
  if (Array.isArray(s.emits)) {
    s.emits.forEach((e, k) => {
      if (isObj(e) && typeof e.to === "string") checkCell(e.to, [...path, "emits", k, "to"], reporter, cells);
    });
    return { ...step, outputs: s.emits };
  }
  return step;
}

/** undefined: no expectation; null: a reported problem. */
function expectation(v: Json | undefined, cell: string, path: DocPath, reporter: Reporter, cells: CellRules): TestExpectation | undefined | null {
  if (v === undefined) return undefined;
  if (v === "accepted") return { accepted: true };
  if (!isObj(v) || typeof v.rejected !== "string") return null;
  const rules = cells.get(cell);
  const name = v.rejected;
  if (rules && !rules.has(name) && !ERROR_CODE.test(name)) {
    const hint = didYouMean(name, rules, reporter.suggestions);
    reporter.error(
      "DEFINITION_UNKNOWN_RULE",
      [...path, "rejected"],
      `cell "${cell}" has no rule "${name}"${hint}`,
      rules.size > 0 ? `expect one of the cell's rules (${listSome(rules)}) or an error code such as CELL_SCHEMA` : "expect an error code such as CELL_SCHEMA; the cell has no rules",
    );
    return null;
  }
  return { rejected: name };
}

function checkCell(name: string, path: DocPath, reporter: Reporter, cells: CellRules): boolean {
  if (cells.has(name)) return true;
  // With no cells at all, the missing `cells:` is already reported; naming every test's cell adds noise.
  if (cells.size === 0) return false;
  reporter.error("DEFINITION_UNKNOWN_CELL", path, `there is no cell "${name}"${didYouMean(name, cells.keys(), reporter.suggestions)}`, `use one of: ${listSome(cells)}`);
  return false;
}
