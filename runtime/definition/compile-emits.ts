/**
 * An `emit:` list to EmitPlans and the pipeline edges they make. An emit to a
 * cell with operations names the operation its output is submitted as
 * (`op: mint`); an emit to a cell without operations names none.
 */
import type { Json } from "../core/canonical.js";
import { isObj, warnTokenRead, type CompileContext } from "./compile-context.js";
import type { PipelineEdge } from "./pipeline.js";
import type { EmitPlan } from "./plan.js";
import { checkOperation } from "./check-operation.js";
import type { DocPath } from "./reporter.js";
import { didYouMean, listSome } from "./suggest.js";

/** The compiled emits of cell `cell`, the pipeline edges they make, and false when any had an error. */
export function compileEmits(ctx: CompileContext, list: Json | undefined, base: DocPath, cell: string): { emit: EmitPlan[]; edges: PipelineEdge[]; ok: boolean } {
  const { reporter, exprs, names } = ctx;
  const emit: EmitPlan[] = [];
  const edges: PipelineEdge[] = [];
  let ok = true;
  const fail = (): void => {
    ok = false;
  };
  (Array.isArray(list) ? list : []).forEach((e, i) => {
    const path = [...base, i];
    if (!isObj(e) || typeof e.to !== "string") return fail();
    if (e.to === cell) {
      reporter.error("DEFINITION_EMIT_SELF", [...path, "to"], `cell "${cell}" emits to itself`, "emit to another cell; to remember a value, use a `state:` update");
      return fail();
    }
    if (!names.cells.has(e.to)) {
      reporter.error("DEFINITION_UNKNOWN_CELL", [...path, "to"], `cell "${cell}" emits to "${e.to}", which is not a cell${didYouMean(e.to, names.cells, reporter.suggestions)}`, `use one of: ${listSome(names.cells, { exclude: cell }) || "(no other cells)"}`);
      return fail();
    }
    edges.push({ from: cell, to: e.to, path: [...path, "to"] });
    const op = typeof e.op === "string" ? e.op : undefined;
    if (!checkOperation(reporter, names.operations, e.to, op, path, `an emit to cell "${e.to}"`)) fail();
    const plan: EmitPlan = { to: e.to, ...(op !== undefined ? { op } : {}), location: reporter.locate(path) };
    if (e.when !== undefined) {
      const when = exprs.rule(e.when, [...path, "when"]);
      if (!when) return fail();
      Object.assign(plan, { when: (c: Parameters<typeof when>[0]) => when(c), whenSource: e.when });
      warnTokenRead(ctx, e.when, [...path, "when"]);
    }
    if (e.data !== undefined) {
      const data = exprs.mapping(e.data, [...path, "data"]);
      if (!data) return fail();
      Object.assign(plan, { data, dataSource: e.data });
    }
    emit.push(plan);
  });
  return { emit, edges, ok };
}
