/**
 * The `var` paths an expression reads at its top level (not those inside an
 * iterator's per-item expression, which read the item), with where each is
 * inside the expression: what lint compares with the state a cell writes, and
 * what explain follows to the params a computed path reads. A path computed
 * by an expression (`{ var: { cat: [...] } }`) names nothing until it runs and
 * is not listed (the expressions inside it are walked).
 */
import type { Json } from "../core/canonical.js";
import { isComputedPath, parseStatePath, type RawPathPart } from "./state-path.js";

/** Iterators whose second argument is evaluated per item (the rules module's ITERATORS), and reduce. */
const PER_ITEM = new Set(["map", "filter", "all", "some", "none", "reduce"]);

/** One path read: as written, its parts, and the path of its `var` node inside the expression. */
export interface VarRead {
  text: string;
  /** Literal segments and placeholders (a plain path splits on every dot). */
  parts: readonly RawPathPart[];
  at: ReadonlyArray<string | number>;
}

/** Every top-level `var` path with a literal text in `expr`, in document order. */
export function varReads(expr: Json, out: VarRead[] = [], at: Array<string | number> = []): VarRead[] {
  if (Array.isArray(expr)) {
    expr.forEach((e, i) => varReads(e, out, [...at, i]));
    return out;
  }
  if (expr === null || typeof expr !== "object") return out;
  const keys = Object.keys(expr);
  if (keys.length !== 1) {
    for (const k of keys) varReads(expr[k], out, [...at, k]);
    return out;
  }
  const op = keys[0];
  const arg = expr[op];
  if (op === "preserve") return out;
  if (op === "var") {
    const path = Array.isArray(arg) ? arg[0] : arg;
    if (typeof path === "string") out.push({ text: path, parts: partsOf(path), at: [...at, "var", ...(Array.isArray(arg) ? [0] : [])] });
    else if (path !== undefined) varReads(path, out, [...at, "var", ...(Array.isArray(arg) ? [0] : [])]);
    if (Array.isArray(arg) && arg.length > 1) varReads(arg[1], out, [...at, "var", 1]);
    return out;
  }
  if (PER_ITEM.has(op) && Array.isArray(arg)) {
    // The list, and reduce's initial value, are read at the top level; the per-item expression is not.
    arg.forEach((a, i) => {
      if (i !== 1) varReads(a, out, [...at, op, i]);
    });
    return out;
  }
  varReads(arg, out, [...at, op]);
  return out;
}

/** A path's parts: a computed path as state updates write it, a plain one split on every dot. */
function partsOf(path: string): RawPathPart[] {
  if (!isComputedPath(path)) return path.split(".").map((literal) => ({ literal }));
  const parsed = parseStatePath(path);
  return parsed.ok ? parsed.parts : [];
}
