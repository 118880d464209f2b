/**
 * Which cells of a channel read the token (docs/token.md, "What rules of
 * other cells read"). A cell that reads it commits, in each block, the token
 * height and root its rules read (consensus/cell-application.ts); a cell that
 * does not keeps the block value it always had, byte for byte, so its old
 * ledgers and test vectors still hold.
 *
 * The answer is an over-approximation, never an under-one: a cell that might
 * read the token counts as reading it, because one that reads it without
 * committing the head would let validators at different token heights decide
 * differently. It reads the token when the channel has one and any of these
 * holds, in the cell or any of its operations:
 * - a `var` (or `missing`, `missing_some`) path whose root is `token`, whose
 *   root is a placeholder, or that is empty (the whole context);
 * - a `var` path computed by an expression (it names nothing until it runs);
 * - a `{placeholder}` in a path (a var path's or a state update's) whose
 *   own path's root is `token`;
 * - a rule message with a `{token...}` placeholder (messages are never
 *   hashed, but a client should read the same balance the rule read);
 * - code whose source mentions `token` (hooks' view of it is the sandbox's).
 * Pure; computed once per plan and cell.
 */
import type { Json } from "../core/canonical.js";
import type { CellPlan, ChannelPlan, EmitPlan, OperationPlan, RulePlan, StateUpdatePlan } from "../definition/plan.js";

const cache = new WeakMap<ChannelPlan, Map<string, boolean>>();
const PATH_OPS = new Set(["var", "missing", "missing_some"]);
const PLACEHOLDER = /\{([^{}]*)\}/g;

/** Whether cell `cellName` of `plan` reads the token (false for a channel without one, or an unknown cell). */
export function cellReadsToken(plan: ChannelPlan, cellName: string): boolean {
  if (plan.token === undefined || !Object.prototype.hasOwnProperty.call(plan.cells, cellName)) return false;
  let byCell = cache.get(plan);
  if (byCell === undefined) cache.set(plan, (byCell = new Map()));
  let r = byCell.get(cellName);
  if (r === undefined) byCell.set(cellName, (r = readsToken(plan.cells[cellName])));
  return r;
}

/** The cells of `plan` that read the token, in pipeline order. */
export function tokenReadingCells(plan: ChannelPlan): string[] {
  return plan.order.filter((c) => cellReadsToken(plan, c));
}

function readsToken(cell: CellPlan): boolean {
  if (cell.code !== undefined && /token/.test(cell.code.source)) return true;
  const parts: Array<{ rules: readonly RulePlan[]; key?: Json; state: readonly StateUpdatePlan[]; emit: readonly EmitPlan[] }> = [
    { rules: cell.rules, key: cell.keySource, state: cell.state, emit: cell.emit },
    ...Object.values(cell.operations ?? {}).map((o: OperationPlan) => ({ rules: o.rules, key: o.keySource, state: o.state, emit: o.emit })),
  ];
  for (const p of parts) {
    for (const r of p.rules) if (exprReads(r.require) || exprReads(r.whenSource) || /\{\s*token\b/.test(r.message)) return true;
    if (exprReads(p.key)) return true;
    for (const u of p.state) {
      if (exprReads(u.valueSource) || exprReads(u.whenSource)) return true;
      for (const part of u.pathParts) if ("source" in part && pathReads(part.source)) return true;
    }
    for (const e of p.emit) if (exprReads(e.whenSource) || exprReads(e.dataSource)) return true;
  }
  return false;
}

/** Whether a path as written reads the token (its root, or a placeholder's root). */
function pathReads(path: string): boolean {
  const root = path.split(".")[0].trim();
  if (root === "" || root === "token" || root.startsWith("{")) return true;
  for (const m of path.matchAll(PLACEHOLDER)) if (pathReads(m[1])) return true;
  return false;
}

/** Whether an expression may read the token. */
function exprReads(e: Json | undefined): boolean {
  if (e === undefined || e === null || typeof e !== "object") return false;
  if (Array.isArray(e)) return e.some(exprReads);
  const keys = Object.keys(e);
  if (keys.length === 1 && keys[0] === "preserve") return false;
  for (const k of keys) {
    const arg = e[k];
    if (keys.length === 1 && PATH_OPS.has(k)) {
      const list = Array.isArray(arg) ? arg : [arg];
      // var: [path, default]; missing: [paths...]; missing_some: [count, [paths...]].
      const paths = k === "var" ? list.slice(0, 1) : k === "missing_some" ? (Array.isArray(list[1]) ? list[1] : [list[1]]) : list;
      for (const p of paths) {
        if (typeof p === "string") {
          if (pathReads(p)) return true;
        } else if (typeof p === "number") continue;
        else if (p === null || p === undefined) {
          if (k === "var") return true; // { var: null } reads the whole context
        } else return true; // computed: may name anything
      }
      if (k === "var" && list.length > 1 && exprReads(list[1] as Json)) return true;
      continue;
    }
    if (exprReads(arg)) return true;
  }
  return false;
}
