/**
 * One cell of `cells:` to the parts of its CellPlan: group, what it accepts
 * (a schema, or its operations), record key, rules, state updates, emits,
 * code and limits, each from its own compiler; then the checks that need
 * several parts at once (state updates and a reduce hook, refusal names and
 * rule names, replays of signed inputs, state read but never written).
 */
import type { Json } from "../core/canonical.js";
import type { CodeFiles } from "./compile-code.js";
import { compileAccepts } from "./compile-accepts.js";
import { isObj, type CompileContext, type Obj } from "./compile-context.js";
import { compileEmits } from "./compile-emits.js";
import { compileCellLimits } from "./compile-limits.js";
import { compileOperations } from "./compile-operations.js";
import { compileRules } from "./compile-rules.js";
import { compileStateUpdates } from "./compile-state.js";
import type { PipelineEdge } from "./pipeline.js";
import type { CellPlan, CodePlan, OperationPlan, SchemaPlan } from "./plan.js";
import type { DocPath } from "./reporter.js";
import { checkStateReads } from "./state-reads.js";
import { didYouMean, listSome } from "./suggest.js";

/** A cell's plan before its place in the pipeline is known, and what it refers to. */
export interface CompiledCell {
  /** Undefined after an error in the cell. */
  cell?: Omit<CellPlan, "upstream" | "downstream" | "direct">;
  /** `direct: true` as written (a source takes direct submissions whatever it says). */
  directWritten: boolean;
  /** The pipeline edges of its emits and its operations' emits. */
  edges: PipelineEdge[];
  /** The group it names, and the named schemas it (or its operations) accepts: for the unused-name warnings. */
  group?: string;
  schemaNames: string[];
}

/** The fix DEFINITION_REPLAYABLE proposes: a key no second submission can have. */
export const REPLAY_KEY_FIX = "`key: { cat: [ { var: signer }, \"/\", { var: data.nonce } ] }`";

/** Compiles cell `name` (written `c`); `anyInput` is the schema a cell with operations accepts at its own level. */
export function compileCell(ctx: CompileContext, code: CodeFiles, name: string, c: Obj, anyInput: SchemaPlan | undefined): CompiledCell {
  const { reporter, names, exprs } = ctx;
  const base = ["cells", name];
  let ok = true;

  const group = typeof c.group === "string" ? c.group : undefined;
  if (group !== undefined && !names.groups.has(group)) {
    reporter.error(
      "DEFINITION_UNKNOWN_GROUP",
      [...base, "group"],
      `cell "${name}" names group "${group}", which is not defined${didYouMean(group, names.groups, reporter.suggestions)}`,
      names.groups.size ? `use one of: ${listSome(names.groups)}` : "define the group under `groups:`",
    );
    ok = false;
  }
  const signed = c.signed === true;
  const schemaNames: string[] = [];

  // What it accepts: a schema, or (with operations) anything at its own level.
  const hasOps = c.operations !== undefined;
  let accepts: SchemaPlan | undefined;
  let schemaName: string | undefined;
  if (hasOps) {
    accepts = anyInput;
    if (c.accepts !== undefined) {
      reporter.error(
        "DEFINITION_CONFLICTING_KEYS",
        [...base, "accepts"],
        `cell "${name}" has \`operations:\`, so it has no \`accepts\` of its own: each operation names the schema of its data`,
        "move `accepts:` into each operation (`operations: { NAME: { accepts: SCHEMA } }`)",
        { anchor: "key" },
      );
      ok = false;
    }
  } else if (c.accepts === undefined) {
    reporter.error(
      "DEFINITION_MISSING_KEY",
      base,
      `cell "${name}" is missing "accepts"`,
      "add `accepts:` (the name of a schema under `schemas`, or an inline JSON Schema), or `operations:` for a cell that takes several kinds of input",
      { anchor: "key" },
    );
    ok = false;
  } else {
    const a = compileAccepts(ctx, c.accepts, [...base, "accepts"], `cell "${name}"`, `of cell ${name}`);
    accepts = a.plan;
    schemaName = a.schemaName;
    if (schemaName !== undefined) schemaNames.push(schemaName);
  }

  const key = c.key !== undefined ? exprs.mapping(c.key, [...base, "key"]) : undefined;
  if (c.key !== undefined && !key) ok = false;
  const taken = new Map<string, { op?: string; index: number }>();
  const rules = compileRules(ctx, c.rules, [...base, "rules"], { cell: name, signed, taken });
  const state = compileStateUpdates(ctx, c.state, [...base, "state"]);
  const emits = compileEmits(ctx, c.emit, [...base, "emit"], name);
  const codePlan = c.code !== undefined ? code.compile(c.code, [...base, "code"]) : undefined;
  if (c.code !== undefined && !codePlan) ok = false;
  const ops = hasOps ? compileOperations(ctx, c.operations, [...base, "operations"], { cell: name, signed, cellRules: taken }) : undefined;
  if (ops) schemaNames.push(...ops.schemaNames);
  const edges = [...emits.edges, ...(ops?.edges ?? [])];
  if (!rules.ok || !state.ok || !emits.ok || (ops && !ops.ok)) ok = false;

  if (codePlan && !checkCodeAgrees(ctx, name, c, codePlan, ops?.operations)) ok = false;
  if (signed) warnReplays(ctx, name, c);
  checkStateReads(ctx, name, c, codePlan?.hooks.includes("reduce") ?? false);

  const result: CompiledCell = { directWritten: c.direct === true, edges, schemaNames, ...(group !== undefined ? { group } : {}) };
  if (!ok || !accepts || group === undefined) return result;
  return {
    ...result,
    cell: {
      name,
      group,
      accepts,
      signed,
      rules: rules.rules,
      state: state.state,
      emit: emits.emit,
      limits: compileCellLimits(c.limits),
      ...(typeof c.description === "string" ? { description: c.description } : {}),
      ...(schemaName !== undefined ? { schemaName } : {}),
      ...(key ? { key, keySource: c.key as Json } : {}),
      ...(codePlan ? { code: codePlan } : {}),
      ...(ops ? { operations: ops.operations } : {}),
    },
  };
}

/**
 * What a cell's code must agree with: a reduce hook keeps the state, so no
 * `state:` updates (of the cell or an operation); a refusal name is not also a
 * rule's name (a rejection names one or the other); and a declared refusal
 * the file never mentions is probably misspelt in one of them.
 */
function checkCodeAgrees(ctx: CompileContext, name: string, c: Obj, code: CodePlan, operations: Readonly<Record<string, OperationPlan>> | undefined): boolean {
  const { reporter } = ctx;
  const base = ["cells", name];
  let ok = true;
  if (code.hooks.includes("reduce")) {
    const lists: DocPath[] = [[...base, "state"], ...Object.keys(isObj(c.operations) ? c.operations : {}).map((op) => [...base, "operations", op, "state"])];
    const at = lists.find((p) => {
      const v = valueAt(c, p.slice(2));
      return Array.isArray(v) && v.length > 0;
    });
    if (at) {
      reporter.error("DEFINITION_STATE_AND_REDUCE", at, `cell "${name}" has \`state:\` updates and its code defines a \`reduce\` hook; a cell's state comes from one or the other`, "remove the `state:` list (and update state in reduce), or remove the reduce hook", { anchor: "key" });
      ok = false;
    }
  }
  const ruleNames = new Set<string>();
  for (const r of Array.isArray(c.rules) ? c.rules : []) if (isObj(r) && typeof r.name === "string") ruleNames.add(r.name);
  for (const op of Object.values(operations ?? {})) for (const r of op.rules) ruleNames.add(r.name);
  for (const refusal of Object.keys(code.rejects)) {
    const at = [...base, "code", "rejects", refusal];
    if (ruleNames.has(refusal)) {
      reporter.error("DEFINITION_DUPLICATE_NAME", at, `cell "${name}" has a rule and a code refusal both named "${refusal}"`, "rename the refusal (and what the hook returns) or the rule: a rejection names one or the other", { anchor: "key" });
      ok = false;
    } else if (/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(refusal) && ![`"${refusal}"`, `'${refusal}'`, `\`${refusal}\``].some((q) => code.source.includes(q))) {
      reporter.warn(
        "DEFINITION_UNUSED_REFUSAL",
        at,
        `code file "${code.path}" never writes the refusal "${refusal}" (as a quoted string), so no hook can return it`,
        `return \`{ reject: "${refusal}" }\` from the hook that refuses, or fix the name here or in the file`,
        { anchor: "key" },
      );
    }
  }
  return ok;
}

/** A signed cell (or operation) whose inputs have no record key accepts the same signed submission any number of times. */
function warnReplays(ctx: CompileContext, name: string, c: Obj): void {
  if (c.key !== undefined) return;
  const remedy = `add a key no second submission can have: on the signer and a nonce, ${REPLAY_KEY_FIX} (with a \`nonce\` the schema requires); a second input with the same key is refused`;
  if (!isObj(c.operations)) {
    ctx.reporter.warn(
      "DEFINITION_REPLAYABLE",
      ["cells", name, "signed"],
      `cell "${name}" is signed but has no \`key\`: anyone who sees a signed submission can submit it again, and it is accepted every time`,
      remedy,
    );
    return;
  }
  for (const [op, o] of Object.entries(c.operations)) {
    if (!isObj(o) || o.key !== undefined) continue;
    ctx.reporter.warn(
      "DEFINITION_REPLAYABLE",
      ["cells", name, "operations", op],
      `operation "${op}" of signed cell "${name}" has no \`key\` (and the cell has none): anyone who sees a signed submission can submit it again, and it is accepted every time`,
      remedy.replace("add a key", "add a key to the operation (or the cell)"),
      { anchor: "key" },
    );
  }
}

function valueAt(v: Json, path: DocPath): Json | undefined {
  let cur: Json | undefined = v;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as { [k: string]: Json })[seg as string];
  }
  return cur;
}
