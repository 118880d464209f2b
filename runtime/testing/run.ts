/**
 * The channel test runner: plays each test's steps against fresh cell states
 * through the real admission and block execution, and compares verdicts,
 * outputs and state with what the test expects.
 *
 * Semantics (README, "Tests"):
 * - submissions wait in their cell until a block boundary: a `block` step, a
 *   `state` step (which closes the block first) or the end of the test;
 * - at a boundary every cell with pending inputs executes one block, in
 *   pipeline order (plan.order); outputs are delivered to the downstream cell
 *   as inputs of the same boundary, so a whole pipeline settles in one tick
 *   (after the downstream cell's own submissions, in pipeline then emit order);
 * - a cell without pending inputs makes no block: heights count the blocks of
 *   each cell (1, 2, ...), like a cell's own chain;
 * - block time: the `block` step's time, else 1700000000000 + height*1000, but
 *   never earlier than the cell's previous block + 1000 (an explicit time set
 *   ahead would otherwise make the next default time go backwards);
 *   block hash: hashJson("test-block", { channel, cell, height }).
 * A test stops at its first failed expectation: later steps build on it.
 */
import type { Json } from "../core/canonical.js";
import { isStatecellError } from "../core/errors.js";
import { hashJson } from "../core/hash.js";
import type { ChannelPlan, TestPlan, TestStep } from "../definition/plan.js";
import type { CodeRunner } from "../sandbox/index.js";
import { CoverageCounter, unrejectedRules } from "./coverage.js";
import type { BlockOutput, CellState } from "../cells/index.js";
import { createEngine, type EngineInput, type EngineVerdict } from "./engine.js";
import { TestKeys } from "./keys.js";
import { TestTokenCell } from "./token-cell.js";
import { TOKEN_CELL } from "../token/index.js";
import { describeMismatch, firstMismatch } from "./match.js";
import type { TestFailure, TestReport, TestResult, VerdictSummary } from "./types.js";

/** Base of default block times: 2023-11-14T22:13:20Z. */
export const BASE_TIME = 1_700_000_000_000;
/** Default spacing of block times, ms. */
export const BLOCK_INTERVAL = 1000;

/** Collaborators of a run. */
export interface RunModules {
  /** The code runner of a cell that has `code:`; created and disposed by the caller. */
  code?: (cell: string) => CodeRunner | undefined;
}

/** What a run reports beyond verdicts. */
export interface TestRunOptions {
  /** Keep every cell's state at the end of each test in `TestResult.state` (`statecell test --state`). */
  state?: boolean;
  /** Called after each test ran (the CLI's progress). */
  onTest?: () => void;
}

/** The block header of test block `height` of `cell`: deterministic, so reruns are identical. */
export function testBlockHeader(
  plan: Pick<ChannelPlan, "channel">,
  cell: string,
  height: number,
  time: number,
  prevHash?: string,
): { height: number; time: number; hash: string; prevHash?: string } {
  const hash = hashJson("test-block", { channel: plan.channel, cell, height });
  return prevHash === undefined ? { height, time, hash } : { height, time, hash, prevHash };
}

/**
 * Run `tests` against `plan`. Each test starts from a fresh state in every cell.
 * Never throws for a failing channel: faults become TEST_ERROR failures.
 */
export function runChannelTests(plan: ChannelPlan, tests: readonly TestPlan[], modules: RunModules = {}, options: TestRunOptions = {}): TestReport {
  const coverage = new CoverageCounter(plan);
  const keys = new TestKeys();
  const results: TestResult[] = tests.map((t) => {
    const { result, states, token } = runOne(plan, t, modules, keys, coverage);
    options.onTest?.();
    if (!options.state) return result;
    const engine = createEngine(plan);
    const state: Record<string, Json> = {};
    for (const c of plan.order) state[c] = engine.plain(states.get(c)!);
    if (token) state[TOKEN_CELL] = token.plain();
    return { ...result, state, signers: keys.known() };
  });
  const cov = coverage.result();
  const passed = results.filter((r) => r.passed).length;
  return {
    tests: results,
    passed,
    failed: results.length - passed,
    problems: [],
    errors: 0,
    coverage: cov,
    operations: coverage.operations(),
    unrejected: unrejectedRules(cov),
  };
}

/** One pending input of a cell, the operation it is submitted as, and the submit step it came from (none for emitted inputs). */
interface Pending {
  input: EngineInput;
  op?: string;
  step?: number;
}

/** What a submit step produced, known at the boundary that executed it. */
interface Outcome {
  verdict: EngineVerdict;
  outputs: BlockOutput[];
}

/** A test's result, and the cells' states where it ended. */
function runOne(
  plan: ChannelPlan,
  test: TestPlan,
  modules: RunModules,
  keys: TestKeys,
  coverage: CoverageCounter,
): { result: TestResult; states: ReadonlyMap<string, CellState>; token?: TestTokenCell } {
  const states = new Map<string, CellState>();
  const token = plan.token ? new TestTokenCell(plan, keys) : undefined;
  const result = playSteps(plan, test, modules, keys, coverage, states, token);
  return { result, states, ...(token ? { token } : {}) };
}

function playSteps(plan: ChannelPlan, test: TestPlan, modules: RunModules, keys: TestKeys, coverage: CoverageCounter, states: Map<string, CellState>, token?: TestTokenCell): TestResult {
  const engine = createEngine(plan, modules.code, token ? () => token.view() : undefined);
  /** Submissions to the token cell in the open block, with their step. */
  let tokenPending: Array<{ sub: Json; step: number }> = [];
  const heights = new Map<string, number>();
  const times = new Map<string, number>();
  const hashes = new Map<string, string>();
  for (const c of plan.order) {
    states.set(c, engine.initialState(c));
    heights.set(c, 0);
  }
  let pending = new Map<string, Pending[]>();
  /** Submit steps of the open block, in step order, with what admission said. */
  let open: Array<{ index: number; step: Extract<TestStep, { kind: "submit" }>; admission?: EngineVerdict }> = [];
  const outcomes = new Map<number, Outcome>();

  const base = { channel: plan.channel, file: plan.file, name: test.name, ...(test.location ? { location: test.location } : {}) };
  const fail = (f: TestFailure): TestResult => ({ ...base, passed: false, failure: f });

  /** Execute every cell with pending inputs; then check the open submit steps. */
  const boundary = (stepIndex: number, step: TestStep | undefined, time?: number): TestFailure | null => {
    const where = step?.location ?? test.location;
    // The token cell first, so the other cells of this boundary read balances after its block.
    if (token && tokenPending.length > 0) {
      const t = Math.max(time ?? BASE_TIME + (token.height + 1) * BLOCK_INTERVAL, token.time + 1);
      const verdicts = token.execute(tokenPending.map((p) => p.sub), t);
      verdicts.forEach((v, i) => outcomes.set(tokenPending[i].step, { verdict: v, outputs: [] }));
      tokenPending = [];
    }
    for (const cell of plan.order) {
      const queue = pending.get(cell);
      if (!queue || queue.length === 0) continue;
      pending.delete(cell);
      const height = heights.get(cell)! + 1;
      const prevTime = times.get(cell);
      let t = time ?? BASE_TIME + height * BLOCK_INTERVAL;
      if (time === undefined && prevTime !== undefined) t = Math.max(t, prevTime + BLOCK_INTERVAL);
      if (prevTime !== undefined && t < prevTime) {
        return {
          code: "TEST_BAD_STEP",
          message: `block time ${t} of ${cell} is earlier than its previous block (${prevTime}); block times never go backwards`,
          step: stepIndex,
          ...(where ? { location: where } : {}),
        };
      }
      const header = testBlockHeader(plan, cell, height, t, hashes.get(cell));
      let result;
      try {
        result = engine.execute(cell, states.get(cell)!, queue.map((p) => p.input), header);
      } catch (e) {
        const code = isStatecellError(e) ? ` (${e.code})` : "";
        return {
          code: "TEST_ERROR",
          message: `executing block ${height} of ${cell} failed${code}: ${(e as Error).message}`,
          step: stepIndex,
          ...(where ? { location: where } : {}),
        };
      }
      heights.set(cell, height);
      times.set(cell, t);
      hashes.set(cell, header.hash);
      states.set(cell, result.state);
      result.verdicts.forEach((v, i) => {
        coverage.record(cell, v, queue[i].op);
        const s = queue[i].step;
        if (s !== undefined) outcomes.set(s, { verdict: v, outputs: result.outputs[i] ?? [] });
      });
      for (const outs of result.outputs) {
        for (const o of outs) {
          if (!hasCell(plan, o.to)) continue; // the loader refuses unknown targets; nothing to deliver to
          const list = pending.get(o.to) ?? [];
          list.push({ input: engine.emitted(o), ...(o.op !== undefined ? { op: o.op } : {}) });
          pending.set(o.to, list);
        }
      }
    }
    pending = new Map();
    const toCheck = open;
    open = [];
    for (const s of toCheck) {
      const outcome = s.admission ? { verdict: s.admission, outputs: [] } : outcomes.get(s.index);
      if (!outcome) continue;
      const f = checkSubmit(s.index, s.step, outcome, keys);
      if (f) return f;
    }
    return null;
  };

  for (let i = 0; i < test.steps.length; i++) {
    const step = test.steps[i];
    const where = step.location ?? test.location;
    const isToken = token !== undefined && (step.kind === "submit" || step.kind === "state") && step.cell === TOKEN_CELL;
    if (isToken && step.kind === "submit") {
      const data = keys.substitute(step.data);
      tokenPending.push({ sub: token.submission(data, step.signer === undefined ? null : keys.pair(step.signer)), step: i });
      open.push({ index: i, step });
      continue;
    }
    if (!isToken && (step.kind === "submit" || step.kind === "state") && !hasCell(plan, step.cell)) {
      return fail({
        code: "TEST_BAD_STEP",
        message: `the channel has no cell "${step.cell}"; cells are ${plan.order.join(", ")}`,
        step: i,
        ...(where ? { location: where } : {}),
      });
    }
    if (step.kind === "submit") {
      const data = keys.substitute(step.data);
      const signer = step.signer === undefined ? null : keys.pair(step.signer);
      const admitted = engine.admit(step.cell, data, signer, step.op);
      if ("verdict" in admitted) {
        coverage.record(step.cell, admitted.verdict, step.op);
        open.push({ index: i, step, admission: admitted.verdict });
      } else {
        open.push({ index: i, step });
        const list = pending.get(step.cell) ?? [];
        list.push({ input: admitted.input, step: i, ...(step.op !== undefined ? { op: step.op } : {}) });
        pending.set(step.cell, list);
      }
      continue;
    }
    const f = boundary(i, step, step.kind === "block" ? step.time : undefined);
    if (f) return fail(f);
    if (step.kind === "state") {
      const expected = keys.substitute(step.match);
      const actual = isToken ? token.plain() : engine.plain(states.get(step.cell)!);
      const m = firstMismatch(expected, actual);
      if (m) {
        return fail({
          code: "TEST_STATE",
          message: `state of ${step.cell}: ${describeMismatch(m)}`,
          step: i,
          ...(where ? { location: where } : {}),
          path: m.path,
          expected: m.expected,
          ...(m.actual === undefined ? { missing: true } : { actual: m.actual }),
          actualWhole: actual,
        });
      }
    }
  }
  const f = boundary(test.steps.length - 1, test.steps[test.steps.length - 1]);
  if (f) return fail(f);
  return { ...base, passed: true };
}

/** Own cells only: `plan.cells["constructor"]` must not count as a cell. */
function hasCell(plan: ChannelPlan, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(plan.cells, name);
}

function checkSubmit(index: number, step: Extract<TestStep, { kind: "submit" }>, outcome: Outcome, keys: TestKeys): TestFailure | null {
  const where = step.location ? { location: step.location } : {};
  const v = outcome.verdict;
  if (step.expect) {
    const want = "rejected" in step.expect ? step.expect.rejected : null;
    const ok = want === null ? v.accepted : !v.accepted && (v.rule === want || v.code === want);
    if (!ok) {
      const wanted = want === null ? "accepted" : `rejected: ${want}`;
      const got = v.accepted ? "accepted" : `rejected: ${v.rule ?? v.code}`;
      return {
        code: "TEST_VERDICT",
        message: `expected ${wanted}, got ${got}${v.accepted ? "" : ` (${v.message})`}`,
        step: index,
        ...where,
        verdict: summarize(v),
      };
    }
  }
  if (step.outputs !== undefined) {
    const expected = keys.substitute(step.outputs);
    // An output to a cell with operations shows its `op`, so a test can expect it (`emits: [{ to, op, data }]`).
    const actual = outcome.outputs.map((o) => (o.op === undefined ? { to: o.to, data: o.data } : { to: o.to, op: o.op, data: o.data })) as Json;
    const m = firstMismatch(expected, actual);
    if (m) {
      return {
        code: "TEST_EMITS",
        message: `outputs of this input: ${describeMismatch(m)}`,
        step: index,
        ...where,
        path: m.path,
        expected: m.expected,
        ...(m.actual === undefined ? { missing: true } : { actual: m.actual }),
        actualWhole: actual,
        ...(v.accepted ? {} : { verdict: summarize(v) }),
      };
    }
  }
  return null;
}

function summarize(v: EngineVerdict): VerdictSummary {
  if (v.accepted) return { accepted: true };
  return {
    accepted: false,
    code: v.code,
    ...(v.rule !== undefined ? { rule: v.rule } : {}),
    message: v.message,
    ...(v.path !== undefined ? { path: v.path } : {}),
  };
}
