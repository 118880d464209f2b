/**
 * A cell's `operations:` to OperationPlans: each operation's schema, and its
 * own rules, key, state updates and emits (they apply after the cell's, which
 * every operation shares).
 */
import type { Json } from "../core/canonical.js";
import { entries, isObj, type CompileContext } from "./compile-context.js";
import { compileEmits } from "./compile-emits.js";
import { compileRules } from "./compile-rules.js";
import { compileStateUpdates } from "./compile-state.js";
import { compileAccepts } from "./compile-accepts.js";
import type { PipelineEdge } from "./pipeline.js";
import type { OperationPlan } from "./plan.js";
import type { DocPath } from "./reporter.js";

/** What an operation's rules share with the cell's. */
export interface OperationsOwner {
  cell: string;
  signed: boolean;
  /** The cell's rule names, with their indexes (an operation's rules must differ from them). */
  cellRules: ReadonlyMap<string, { op?: string; index: number }>;
}

/** The compiled operations in the order written, the pipeline edges of their emits, the schema names they accept, and false on any error. */
export function compileOperations(
  ctx: CompileContext,
  written: Json | undefined,
  base: DocPath,
  owner: OperationsOwner,
): { operations: Record<string, OperationPlan>; edges: PipelineEdge[]; schemaNames: string[]; ok: boolean } {
  const operations: Record<string, OperationPlan> = {};
  const edges: PipelineEdge[] = [];
  const schemaNames: string[] = [];
  let ok = true;
  for (const [name, o] of entries(written)) {
    if (!isObj(o)) {
      ok = false;
      continue;
    }
    const path = [...base, name];
    const accepts = compileAccepts(ctx, o.accepts, [...path, "accepts"], `operation "${name}" of cell "${owner.cell}"`, `of operation ${name} of cell ${owner.cell}`);
    if (accepts.schemaName !== undefined) schemaNames.push(accepts.schemaName);
    const rules = compileRules(ctx, o.rules, [...path, "rules"], { cell: owner.cell, op: name, signed: owner.signed, taken: new Map(), shared: owner.cellRules });
    const key = o.key !== undefined ? ctx.exprs.mapping(o.key, [...path, "key"]) : undefined;
    const state = compileStateUpdates(ctx, o.state, [...path, "state"]);
    const emits = compileEmits(ctx, o.emit, [...path, "emit"], owner.cell);
    edges.push(...emits.edges);
    if (!accepts.plan || !rules.ok || (o.key !== undefined && !key) || !state.ok || !emits.ok) {
      ok = false;
      continue;
    }
    operations[name] = {
      name,
      accepts: accepts.plan,
      rules: rules.rules,
      state: state.state,
      emit: emits.emit,
      location: ctx.reporter.locate(path, "key"),
      ...(typeof o.description === "string" ? { description: o.description } : {}),
      ...(accepts.schemaName !== undefined ? { schemaName: accepts.schemaName } : {}),
      ...(key ? { key, keySource: o.key as Json } : {}),
    };
  }
  return { operations, edges, schemaNames, ok };
}
