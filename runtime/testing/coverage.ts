/**
 * Rule coverage, counted exactly from verdicts.
 *
 * Rules run in order and the first failing rule rejects (docs/execution.md),
 * the cell's rules first, then those of the input's operation (plan.ts,
 * OperationPlan), so a verdict says precisely which rules an input went
 * through:
 * - accepted: every rule of the cell and of its operation let it through
 *   (held, or did not apply: a rule whose `when:` is false neither holds nor
 *   rejects, and the verdict cannot tell the two apart);
 * - rejected by rule R (`code: CELL_RULE`, `rule: R`): the rules before R held,
 *   R rejected, the rules after R were never evaluated (they count neither way);
 * - rejected before the rules stage (admission, limits, schema, signature):
 *   no rule was evaluated;
 * - rejected after the rules stage (code validate hook, key uniqueness, code
 *   faults): every rule held.
 * A hook's named refusal (`code: { rejects: { NAME: ... } }`, a verdict
 * `CELL_CODE_REJECT` with `rule: NAME`) is counted like a rule: rejected by the
 * inputs it refused, accepted by the inputs the cell accepted (each went
 * through every hook without being refused); inputs refused otherwise count
 * for no refusal, since a verdict does not say which hooks ran.
 * No second evaluation of any rule is needed, so counts cannot drift from
 * what the executor actually decided.
 */
import type { CellPlan, ChannelPlan, RulePlan } from "../definition/plan.js";
import type { OperationCoverage, RuleCoverage } from "./types.js";

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

/** The rules an input of operation `op` goes through, in order: the cell's, then the operation's. */
export function rulesOf(cell: CellPlan, op?: string): readonly RulePlan[] {
  const operation = op !== undefined && cell.operations && Object.prototype.hasOwnProperty.call(cell.operations, op) ? cell.operations[op] : undefined;
  return operation ? [...cell.rules, ...operation.rules] : cell.rules;
}

/** True when `v` is a hook's named refusal that `cell` declares. */
export function isNamedRefusal(cell: CellPlan, v: VerdictLike): boolean {
  if (v.accepted || v.code !== "CELL_CODE_REJECT" || v.rule === undefined) return false;
  const rejects = cell.code?.rejects;
  return rejects !== undefined && Object.prototype.hasOwnProperty.call(rejects, v.rule);
}

/**
 * How a verdict went through the rules of a cell and of its operation `op`
 * (the cell's rules then the operation's, as `rulesOf` lists them): how many
 * held (the first `held` rules, in order), and the index of the one that rejected.
 */
export function ruleOutcome(cell: CellPlan, v: VerdictLike, op?: string): { held: number; rejectedBy?: number } {
  const rules = rulesOf(cell, op);
  if (v.accepted) return { held: rules.length };
  // A hook runs after every rule: its refusal, named or not, means they all held.
  if (v.code === "CELL_CODE_REJECT") return { held: rules.length };
  if (v.rule !== undefined) {
    // A rejection naming a rule: CELL_RULE, or a fault while evaluating it.
    const i = rules.findIndex((r) => r.name === v.rule);
    // A rule name the plan does not know cannot be attributed; count nothing rather than guess.
    return i < 0 ? { held: 0 } : { held: i, rejectedBy: i };
  }
  if (v.code !== undefined && BEFORE_RULES.has(v.code)) return { held: 0 };
  return { held: rules.length };
}

/** Counts of one row. */
interface Counts {
  accepted: number;
  rejected: number;
}

/** Accumulates exact per-rule, per-refusal and per-operation counts over a run. */
export class CoverageCounter {
  private readonly counts = new Map<string, Counts>();
  private readonly ops = new Map<string, Counts>();
  /** Per cell (`cell`) and per operation (`cell/op`): the counts of its rules in evaluation order, built once. */
  private readonly lists = new Map<string, Counts[]>();

  constructor(private readonly plan: ChannelPlan) {
    for (const cell of plan.order) {
      const c = plan.cells[cell];
      for (const r of c.rules) this.counts.set(ruleKey(cell, undefined, r.name), { accepted: 0, rejected: 0 });
      const shared = c.rules.map((r) => this.counts.get(ruleKey(cell, undefined, r.name))!);
      this.lists.set(cell, shared);
      for (const [op, o] of Object.entries(c.operations ?? {})) {
        this.ops.set(`${cell}/${op}`, { accepted: 0, rejected: 0 });
        for (const r of o.rules) this.counts.set(ruleKey(cell, op, r.name), { accepted: 0, rejected: 0 });
        this.lists.set(`${cell}/${op}`, [...shared, ...o.rules.map((r) => this.counts.get(ruleKey(cell, op, r.name))!)]);
      }
      for (const name of Object.keys(c.code?.rejects ?? {})) this.counts.set(refusalKey(cell, name), { accepted: 0, rejected: 0 });
    }
  }

  /** Count one verdict of an input of `cellName`, submitted as operation `op` (when its cell has operations). */
  record(cellName: string, v: VerdictLike, op?: string): void {
    if (!Object.prototype.hasOwnProperty.call(this.plan.cells, cellName)) return;
    const cell = this.plan.cells[cellName];
    const known = op !== undefined && cell.operations !== undefined && Object.prototype.hasOwnProperty.call(cell.operations, op);
    const { held, rejectedBy } = ruleOutcome(cell, v, known ? op : undefined);
    const list = this.lists.get(known ? `${cellName}/${op}` : cellName)!;
    for (let i = 0; i < held; i++) list[i].accepted++;
    if (rejectedBy !== undefined) list[rejectedBy].rejected++;
    if (v.accepted) {
      for (const name of Object.keys(cell.code?.rejects ?? {})) this.counts.get(refusalKey(cellName, name))!.accepted++;
    } else if (isNamedRefusal(cell, v)) {
      this.counts.get(refusalKey(cellName, v.rule!))!.rejected++;
    }
    if (known) {
      const c = this.ops.get(`${cellName}/${op}`)!;
      if (v.accepted) c.accepted++;
      else c.rejected++;
    }
  }

  /** Counts per rule and refusal: per cell in pipeline order, its rules, each operation's rules, then its hook's refusals. */
  result(): RuleCoverage[] {
    const out: RuleCoverage[] = [];
    const row = (cell: string, op: string | undefined, kind: RuleCoverage["kind"], rule: string, key: string, location: RuleCoverage["location"]): void => {
      const c = this.counts.get(key)!;
      out.push({
        channel: this.plan.channel,
        cell,
        ...(op !== undefined ? { op } : {}),
        kind,
        rule,
        accepted: c.accepted,
        rejected: c.rejected,
        ...(location ? { location } : {}),
      });
    };
    for (const cell of this.plan.order) {
      const c = this.plan.cells[cell];
      for (const r of c.rules) row(cell, undefined, "rule", r.name, ruleKey(cell, undefined, r.name), r.location);
      for (const [op, o] of Object.entries(c.operations ?? {})) {
        for (const r of o.rules) row(cell, op, "rule", r.name, ruleKey(cell, op, r.name), r.location);
      }
      for (const name of Object.keys(c.code?.rejects ?? {})) row(cell, undefined, "refusal", name, refusalKey(cell, name), undefined);
    }
    return out;
  }

  /** Inputs accepted and rejected per operation, for the cells with operations, in pipeline then written order. */
  operations(): OperationCoverage[] {
    const out: OperationCoverage[] = [];
    for (const cell of this.plan.order) {
      for (const op of Object.keys(this.plan.cells[cell].operations ?? {})) {
        const c = this.ops.get(`${cell}/${op}`)!;
        out.push({ channel: this.plan.channel, cell, op, accepted: c.accepted, rejected: c.rejected });
      }
    }
    return out;
  }
}

// Cell, operation and rule names are lowercase letters, digits and dashes (the language schema): "/" and ":" cannot collide.
function ruleKey(cell: string, op: string | undefined, rule: string): string {
  return op === undefined ? `${cell}/${rule}` : `${cell}/${op}/${rule}`;
}

function refusalKey(cell: string, name: string): string {
  return `${cell}:${name}`;
}

/**
 * How a coverage row is named in reports: `channel cell/rule`, `channel
 * cell/op/rule` for an operation's rule, `channel cell/NAME (hook refusal)`.
 */
export function coverageLabel(c: Pick<RuleCoverage, "channel" | "cell" | "op" | "kind" | "rule">): string {
  if (c.kind === "refusal") return `${c.channel} ${c.cell}/${c.rule} (hook refusal)`;
  return c.op === undefined ? `${c.channel} ${c.cell}/${c.rule}` : `${c.channel} ${c.cell}/${c.op}/${c.rule}`;
}

/** The label of every rule and refusal no input rejected. */
export function unrejectedRules(coverage: readonly RuleCoverage[]): string[] {
  return coverage.filter((c) => c.rejected === 0).map(coverageLabel);
}
