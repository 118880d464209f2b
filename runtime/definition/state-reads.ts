/**
 * State read but never written: a rule (or key, update value, emit) that
 * reads `state.NAME...` in a cell whose `state:` updates never write a
 * top-level NAME reads a value that is always missing, almost always a typo
 * of a name the updates write (`state.totls.{data.k}` for `totals`). Only
 * the fixed part of a path is compared, so computed paths are checked the
 * same way as plain ones; `state.records` holds the keyed records. A cell
 * whose state comes from a reduce hook (which may write anything), or with an
 * update whose path starts with a placeholder, is not checked.
 */
import type { Json } from "../core/canonical.js";
import { isObj, type CompileContext, type Obj } from "./compile-context.js";
import type { DocPath } from "./reporter.js";
import { parseStatePath } from "./state-path.js";
import { closest, listSome } from "./suggest.js";
import { varReads } from "./var-paths.js";

/** Warns (DEFINITION_UNWRITTEN_STATE) about every read of a top-level state name cell `name` never writes. */
export function checkStateReads(ctx: CompileContext, name: string, c: Obj, reduce: boolean): void {
  if (reduce) return;
  const base: DocPath = ["cells", name];
  const bodies: Array<{ body: Obj; at: DocPath }> = [{ body: c, at: base }];
  if (isObj(c.operations)) for (const [op, o] of Object.entries(c.operations)) if (isObj(o)) bodies.push({ body: o, at: [...base, "operations", op] });

  const written = new Set<string>();
  for (const { body } of bodies) {
    for (const u of Array.isArray(body.state) ? body.state : []) {
      if (!isObj(u)) continue;
      const text = ["set", "add", "append", "remove"].map((k) => u[k]).find((v) => typeof v === "string");
      if (typeof text !== "string") continue;
      const parsed = parseStatePath(text);
      if (!parsed.ok) continue;
      const first = parsed.parts[0];
      if (!("literal" in first)) return; // a computed top-level name: anything may be written
      written.add(first.literal);
    }
  }

  for (const { body, at } of bodies) {
    const expressions: Array<{ expr: Json; path: DocPath; what: string }> = [];
    if (body.key !== undefined) expressions.push({ expr: body.key, path: [...at, "key"], what: "the record key" });
    (Array.isArray(body.rules) ? body.rules : []).forEach((r, i) => {
      if (!isObj(r)) return;
      const what = typeof r.name === "string" ? `rule "${r.name}"` : `rule ${i + 1}`;
      for (const k of ["require", "when"] as const) if (r[k] !== undefined) expressions.push({ expr: r[k], path: [...at, "rules", i, k], what });
    });
    (Array.isArray(body.state) ? body.state : []).forEach((u, i) => {
      if (!isObj(u)) return;
      for (const k of ["value", "when"] as const) if (u[k] !== undefined) expressions.push({ expr: u[k], path: [...at, "state", i, k], what: `state update ${i + 1}` });
    });
    (Array.isArray(body.emit) ? body.emit : []).forEach((e, i) => {
      if (!isObj(e)) return;
      for (const k of ["when", "data"] as const) if (e[k] !== undefined) expressions.push({ expr: e[k], path: [...at, "emit", i, k], what: `emit ${i + 1}` });
    });
    for (const { expr, path, what } of expressions) {
      for (const read of varReads(expr)) {
        const [root, top] = read.parts;
        if (root === undefined || !("literal" in root) || root.literal !== "state" || top === undefined || !("literal" in top)) continue;
        if (top.literal === "records" || written.has(top.literal)) continue;
        const guess = closest(top.literal, written, ctx.reporter.suggestions);
        const fixed = guess === undefined ? undefined : `state.${guess}${read.text.slice(`state.${top.literal}`.length)}`;
        ctx.reporter.warn(
          "DEFINITION_UNWRITTEN_STATE",
          [...path, ...read.at],
          `${what} reads \`${read.text}\`, but no state update of cell "${name}" writes \`${top.literal}\`, so it is always missing${guess === undefined ? "" : ` (did you mean "${fixed}"?)`}`,
          guess !== undefined
            ? `write "${fixed}"`
            : written.size > 0
              ? `read a name the cell's \`state:\` updates write (${listSome(written)}), or \`state.records.KEY\` for a record`
              : "add a `state:` update that writes it, or read `state.records.KEY` for a record",
        );
      }
    }
  }
}
