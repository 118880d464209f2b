/**
 * Rule coverage, counted exactly from verdicts.
 *
 * Rules run in order and the first failing rule rejects (BRIEF "Block
 * execution semantics"), so a verdict says precisely which rules an input
 * went through:
 * - accepted: every rule of the cell was evaluated and held;
 * - rejected by rule R (`code: CELL_RULE`, `rule: R`): the rules before R held,
 *   R rejected, the rules after R were never evaluated (they count neither way);
 * - rejected before the rules stage (admission, limits, schema, signature):
 *   no rule was evaluated;
 * - rejected after the rules stage (code validate hook, key uniqueness, code
 *   faults): every rule held.
 * No second evaluation of any rule is needed, so counts cannot drift from
 * what the executor actually decided.
 */
import type { CellPlan, ChannelPlan } from "../definition/plan.js";
import type { RuleCoverage } from "./types.js";

/** A verdict as cells returns it (only the fields coverage needs). */
export interface VerdictLike {
  accepted: boolean;
  code?: string;
  rule?: string;
}

/**
 * Rejection codes by the stage of cells that raises them (runtime/cells:
 * admit.ts, then executeBlock: limits -> schema -> rules -> validate hook ->
 * key -> updates -> emits -> reduce/transform hooks). `before`: no rule was
 * evaluated; `after`: every rule held. A unit test fails when cells raises a
 * code listed in neither, so a new stage cannot skew the counts silently.
 * Codes in neither list count as `after`.
 */
export const RULE_STAGE_CODES = {
  before: [
    "CELL_UNKNOWN_CELL",
    "CELL_NOT_A_SOURCE",
    "CELL_UNKNOWN_OP",
    "CELL_TOO_LARGE",
    "CELL_TOO_DEEP",
    "CELL_NOT_JSON",
    "CELL_BAD_NUMBER",
    "CELL_BAD_TEXT",
    "CELL_FORBIDDEN_KEY",
    "CELL_DUPLICATE_JSON_KEY",
    "CELL_UNSIGNED",
    "CELL_BAD_SUBMISSION",
    "CELL_BAD_SIGNATURE",
    "CELL_SCHEMA",
  ],
  after: [
    "CELL_CODE_REJECT",
    "CELL_BAD_KEY",
    "CELL_DUPLICATE_KEY",
    "CELL_BAD_PATH",
    "CELL_BAD_VALUE",
    "CELL_STATE_CONFLICT",
    "CELL_EXPRESSION_FAULT",
    "CELL_BAD_OUTPUT",
    "CELL_OUTPUT_LIMIT",
    "SANDBOX_TIMEOUT",
    "SANDBOX_MEMORY",
    "SANDBOX_THROW",
    "SANDBOX_OUTPUT",
  ],
} as const;

const BEFORE_RULES: ReadonlySet<string> = new Set(RULE_STAGE_CODES.before);

/**
 * How a verdict went through a cell's rules: how many held (the first `held`
 * rules, in order), and the index of the one that rejected.
 */
export function ruleOutcome(cell: CellPlan, v: VerdictLike): { held: number; rejectedBy?: number } {
  if (v.accepted) return { held: cell.rules.length };
  if (v.rule !== undefined) {
    // A rejection naming a rule: CELL_RULE, or a fault while evaluating it.
    const i = cell.rules.findIndex((r) => r.name === v.rule);
    // A rule name the plan does not know cannot be attributed; count nothing rather than guess.
    return i < 0 ? { held: 0 } : { held: i, rejectedBy: i };
  }
  if (v.code !== undefined && BEFORE_RULES.has(v.code)) return { held: 0 };
  return { held: cell.rules.length };
}

/** Accumulates exact per-rule counts over a run. */
export class CoverageCounter {
  private readonly counts = new Map<string, { accepted: number; rejected: number }>();

  constructor(private readonly plan: ChannelPlan) {
    for (const cell of plan.order) {
      for (const r of plan.cells[cell].rules) this.counts.set(`${cell}/${r.name}`, { accepted: 0, rejected: 0 });
    }
  }

  /** Count one verdict of an input of `cellName`. */
  record(cellName: string, v: VerdictLike): void {
    if (!Object.prototype.hasOwnProperty.call(this.plan.cells, cellName)) return;
    const cell = this.plan.cells[cellName];
    const { held, rejectedBy } = ruleOutcome(cell, v);
    for (let i = 0; i < held; i++) this.counts.get(`${cellName}/${cell.rules[i].name}`)!.accepted++;
    if (rejectedBy !== undefined) this.counts.get(`${cellName}/${cell.rules[rejectedBy].name}`)!.rejected++;
  }

  /** Counts per rule, in pipeline order then rule order. */
  result(): RuleCoverage[] {
    const out: RuleCoverage[] = [];
    for (const cell of this.plan.order) {
      for (const r of this.plan.cells[cell].rules) {
        const c = this.counts.get(`${cell}/${r.name}`)!;
        out.push({
          channel: this.plan.channel,
          cell,
          rule: r.name,
          accepted: c.accepted,
          rejected: c.rejected,
          ...(r.location ? { location: r.location } : {}),
        });
      }
    }
    return out;
  }
}

/** `channel cell/rule` of every rule no input rejected. */
export function unrejectedRules(coverage: readonly RuleCoverage[]): string[] {
  return coverage.filter((c) => c.rejected === 0).map((c) => `${c.channel} ${c.cell}/${c.rule}`);
}
