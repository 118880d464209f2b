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
export function varReads(expr: Json): VarRead[] {
  const out: VarRead[] = [];
  // One path, pushed and popped as the walk goes: a copy is made only for a `var` found.
  const at: Array<string | number> = [];
  const inside = (key: string | number, v: Json | undefined): void => {
    at.push(key);
    walk(v);
    at.pop();
  };
  const walk = (e: Json | undefined): void => {
    if (Array.isArray(e)) {
      for (let i = 0; i < e.length; i++) inside(i, e[i]);
      return;
    }
    if (e === null || e === undefined || typeof e !== "object") return;
    const keys = Object.keys(e);
    if (keys.length !== 1) {
      for (const k of keys) inside(k, e[k]);
      return;
    }
    const op = keys[0];
    const arg = e[op];
    if (op === "preserve") return;
    if (op === "var") {
      at.push("var");
      const list = Array.isArray(arg);
      const path = list ? arg[0] : arg;
      if (list) at.push(0);
      if (typeof path === "string") out.push({ text: path, parts: partsOf(path), at: [...at] });
      else walk(path);
      if (list) at.pop();
      if (list && arg.length > 1) inside(1, arg[1]);
      at.pop();
      return;
    }
    if (PER_ITEM.has(op) && Array.isArray(arg)) {
      // The list, and reduce's initial value, are read at the top level; the per-item expression is not.
      at.push(op);
      for (let i = 0; i < arg.length; i++) if (i !== 1) inside(i, arg[i]);
      at.pop();
      return;
    }
    inside(op, arg);
  };
  walk(expr);
  return out;
}

/** A path's parts: a computed path as state updates write it, a plain one split on every dot. */
function partsOf(path: string): RawPathPart[] {
  if (!isComputedPath(path)) return path.split(".").map((literal) => ({ literal }));
  const parsed = parseStatePath(path);
  return parsed.ok ? parsed.parts : [];
}
