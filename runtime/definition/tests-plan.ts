/**
 * Channel tests (inline `tests:` or NAME.test.yaml) normalised to TestPlan:
 * the single-submission form (`submit` + `expect`) becomes one submit step, so
 * the runner knows one shape. Cell, operation, rule, refusal and code names
 * are checked here so a typo fails at lint time, with its line, rather than
 * as a puzzling test failure.
 */
import { TOKEN_CELL } from "./token-amount.js";
import type { Json } from "../core/canonical.js";
import { checkOperation } from "./check-operation.js";
import type { ChannelPlan, TestExpectation, TestPlan, TestStep } from "./plan.js";
import type { DocPath, Reporter } from "./reporter.js";
import { closest, didYouMean, listSome } from "./suggest.js";

type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** What a test may name in one cell: its rules, its code's declared refusals, its operations and their rules. */
export interface CellTargets {
  rules: ReadonlySet<string>;
  refusals: ReadonlySet<string>;
  /** Each operation's own rules; absent for a cell without operations. */
  operations?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** What tests may refer to: each cell's targets, and the error codes a verdict can carry. */
export interface TestTargets {
  cells: ReadonlyMap<string, CellTargets>;
  codes: ReadonlySet<string>;
}

/** An error code a test may expect instead of a rule name (CELL_SCHEMA, SANDBOX_TIMEOUT, ...). */
const ERROR_CODE = /^[A-Z][A-Z0-9]*_[A-Z0-9_]+$/;

/** The targets of a channel document as written (tests are checked even when cells have errors). */
export function targetsOfDocument(doc: Obj, codes: ReadonlySet<string>): TestTargets {
  const names = (list: Json | undefined): Set<string> => new Set((Array.isArray(list) ? list : []).flatMap((r) => (isObj(r) && typeof r.name === "string" ? [r.name] : [])));
  const cells = new Map<string, CellTargets>();
  for (const [name, c] of Object.entries(isObj(doc.cells) ? doc.cells : {})) {
    if (!isObj(c)) {
      cells.set(name, { rules: new Set(), refusals: new Set() });
      continue;
    }
    const refusals = new Set(isObj(c.code) && isObj(c.code.rejects) ? Object.keys(c.code.rejects) : []);
    const operations = isObj(c.operations) ? new Map(Object.entries(c.operations).map(([op, o]) => [op, names(isObj(o) ? o.rules : undefined)])) : undefined;
    cells.set(name, { rules: names(c.rules), refusals, ...(operations ? { operations } : {}) });
  }
  // The built-in token cell: no rules of its own; tests expect its TOKEN_* codes.
  if (isObj(doc.token) && !cells.has(TOKEN_CELL)) cells.set(TOKEN_CELL, { rules: new Set(), refusals: new Set() });
  return { cells, codes };
}

/** The targets of a loaded plan (for NAME.test.yaml). */
export function targetsOfPlan(plan: ChannelPlan, codes: ReadonlySet<string>): TestTargets {
  const cells = new Map<string, CellTargets>();
  for (const c of Object.values(plan.cells)) {
    const operations = c.operations ? new Map(Object.values(c.operations).map((o) => [o.name, new Set(o.rules.map((r) => r.name))])) : undefined;
    cells.set(c.name, { rules: new Set(c.rules.map((r) => r.name)), refusals: new Set(Object.keys(c.code?.rejects ?? {})), ...(operations ? { operations } : {}) });
  }
  if (plan.token && !cells.has(TOKEN_CELL)) cells.set(TOKEN_CELL, { rules: new Set(), refusals: new Set() });
  return { cells, codes };
}

/** What one normalisation checks against. */
interface Checking {
  reporter: Reporter;
  targets: TestTargets;
  /** Each cell's operation names (cells without are absent). */
  operations: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Normalises `tests` found at `base` (e.g. ["tests"]); reports problems; skips tests that do not parse. */
export function normaliseTests(list: Json | undefined, base: DocPath, reporter: Reporter, targets: TestTargets): TestPlan[] {
  if (!Array.isArray(list)) return [];
  const operations = new Map<string, ReadonlySet<string>>();
  for (const [name, t] of targets.cells) if (t.operations) operations.set(name, new Set(t.operations.keys()));
  const k: Checking = { reporter, targets, operations };
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
      const step = submitStep(t, path, k);
      steps = step ? [step] : undefined;
    } else {
      if (!Array.isArray(t.steps)) return;
      const parsed = t.steps.map((s, j) => parseStep(s, [...path, "steps", j], k));
      if (parsed.every((s): s is TestStep => s !== undefined)) steps = parsed;
    }
    if (steps) out.push({ name: t.name, steps, location });
  });
  return out;
}

function parseStep(s: Json, path: DocPath, k: Checking): TestStep | undefined {
  const { reporter } = k;
  if (!isObj(s)) return undefined;
  const kinds = (["submit", "block", "state"] as const).filter((key) => key in s);
  if (kinds.length === 0) {
    reporter.error("DEFINITION_MISSING_KEY", path, "a test step needs one of `submit`, `block` or `state`", "add `submit: { cell, data }`, `block: {}` or `state: { cell, match }`");
    return undefined;
  }
  if (kinds.length > 1) {
    reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, kinds[1]], `a test step has both \`${kinds[0]}\` and \`${kinds[1]}\``, "split it into two steps", { anchor: "key" });
    return undefined;
  }
  const location = reporter.locate(path);
  if (kinds[0] === "submit") return submitStep(s, path, k);
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
  if (!checkCell(st.cell, [...path, "state", "cell"], k)) return undefined;
  return { kind: "state", cell: st.cell, match: st.match ?? null, location };
}

function submitStep(s: Obj, path: DocPath, k: Checking): TestStep | undefined {
  const { reporter } = k;
  const sub = s.submit;
  if (!isObj(sub) || typeof sub.cell !== "string") return undefined;
  const op = typeof sub.op === "string" ? sub.op : undefined;
  const cellOk = checkCell(sub.cell, [...path, "submit", "cell"], k);
  const opOk = cellOk && checkOperation(reporter, k.operations, sub.cell, op, [...path, "submit"], `the submission to cell "${sub.cell}"`);
  const expect = expectation(s.expect, sub.cell, opOk ? op : undefined, [...path, "expect"], k);
  if (!cellOk || !opOk || expect === null) return undefined;
  const step: TestStep = {
    kind: "submit",
    cell: sub.cell,
    ...(op !== undefined ? { op } : {}),
    data: sub.data ?? null,
    location: reporter.locate([...path, "submit"]),
    ...(typeof sub.signer === "string" ? { signer: sub.signer } : {}),
    ...(expect ? { expect } : {}),
  };
  if (Array.isArray(s.emits)) {
    s.emits.forEach((e, j) => {
      if (!isObj(e) || typeof e.to !== "string") return;
      const at = [...path, "emits", j];
      if (checkCell(e.to, [...at, "to"], k) && typeof e.op === "string") checkOperation(reporter, k.operations, e.to, e.op, at, `the expected output to cell "${e.to}"`);
    });
    return { ...step, outputs: s.emits };
  }
  return step;
}

/** undefined: no expectation; null: a reported problem. */
function expectation(v: Json | undefined, cell: string, op: string | undefined, path: DocPath, k: Checking): TestExpectation | undefined | null {
  const { reporter } = k;
  if (v === undefined) return undefined;
  if (v === "accepted") return { accepted: true };
  if (!isObj(v) || typeof v.rejected !== "string") return null;
  const target = k.targets.cells.get(cell);
  const name = v.rejected;
  if (!target) return { rejected: name };
  const opRules = op !== undefined ? target.operations?.get(op) : undefined;
  if (target.rules.has(name) || target.refusals.has(name) || opRules?.has(name)) return { rejected: name };
  if (ERROR_CODE.test(name)) {
    if (k.targets.codes.has(name)) return { rejected: name };
    const guess = closest(name, k.targets.codes, reporter.suggestions);
    reporter.error(
      "DEFINITION_UNKNOWN_CODE",
      [...path, "rejected"],
      `no verdict carries the code "${name}"${guess === undefined ? "" : ` (did you mean "${guess}"?)`}, so this test can never pass`,
      guess !== undefined ? `write "${guess}"` : "expect a code a verdict carries (docs/errors.md, sections cells and sandbox), e.g. CELL_SCHEMA, or a rule name",
    );
    return null;
  }
  // Names a rejection of this submission can carry: the cell's rules, the operation's, the code's refusals.
  const candidates = [...target.rules, ...(opRules ?? []), ...target.refusals];
  const hint = didYouMean(name, candidates, reporter.suggestions);
  const owner = op !== undefined ? `neither cell "${cell}" nor its operation "${op}" has` : `cell "${cell}" has no`;
  const what = target.refusals.size > 0 ? "rule or code refusal" : "rule";
  reporter.error(
    "DEFINITION_UNKNOWN_RULE",
    [...path, "rejected"],
    `${owner}${op !== undefined ? " a" : ""} ${what} "${name}"${hint}`,
    candidates.length > 0 ? `expect one of: ${listSome(candidates)}, or an error code such as CELL_SCHEMA` : "expect an error code such as CELL_SCHEMA; the cell has no rules",
  );
  return null;
}

function checkCell(name: string, path: DocPath, k: Checking): boolean {
  const cells = k.targets.cells;
  if (cells.has(name)) return true;
  // With no cells at all, the missing `cells:` is already reported; naming every test's cell adds noise.
  if (cells.size === 0) return false;
  k.reporter.error("DEFINITION_UNKNOWN_CELL", path, `there is no cell "${name}"${didYouMean(name, cells.keys(), k.reporter.suggestions)}`, `use one of: ${listSome(cells)}`);
  return false;
}
