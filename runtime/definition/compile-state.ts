/**
 * A `state:` list to StateUpdatePlans: the operation, its path split into
 * literal segments and compiled placeholders (state-path.ts: each placeholder
 * fills exactly one segment, as a rule's `{ var: "state.x.{data.k}" }` reads
 * it), the value and the condition.
 */
import type { Json } from "../core/canonical.js";
import { isObj, warnTokenRead, type CompileContext } from "./compile-context.js";
import type { StateUpdatePlan } from "./plan.js";
import type { DocPath } from "./reporter.js";
import { FORBIDDEN_SEGMENTS, parseStatePath } from "./state-path.js";

const OPS = ["set", "add", "append", "remove"] as const;

/** The compiled updates, and false when any had an error. */
export function compileStateUpdates(ctx: CompileContext, list: Json | undefined, base: DocPath): { state: StateUpdatePlan[]; ok: boolean } {
  const state: StateUpdatePlan[] = [];
  let ok = true;
  (Array.isArray(list) ? list : []).forEach((u, i) => {
    const compiled = stateUpdate(ctx, u, [...base, i]);
    if (compiled) state.push(compiled);
    else ok = false;
  });
  return { state, ok };
}

function stateUpdate(ctx: CompileContext, u: Json, path: DocPath): StateUpdatePlan | undefined {
  const { reporter, exprs } = ctx;
  if (!isObj(u)) return undefined;
  const ops = OPS.filter((k) => k in u);
  if (ops.length === 0) {
    reporter.error("DEFINITION_MISSING_KEY", path, "a state update needs one of `set`, `add`, `append` or `remove`", "write e.g. `- set: latest.{data.sensor}` with a `value:`");
    return undefined;
  }
  if (ops.length > 1) {
    reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, ops[1]], `a state update has both \`${ops[0]}\` and \`${ops[1]}\``, "write one update per list item", { anchor: "key" });
    return undefined;
  }
  const op = ops[0];
  const text = u[op];
  if (typeof text !== "string") return undefined;
  // `add` without a value adds 1 (README.md "Records and state"); set and append need one.
  if ((op === "set" || op === "append") && u.value === undefined) {
    reporter.error("DEFINITION_MISSING_KEY", [...path, op], `\`${op}: ${text}\` needs a \`value:\``, "add `value:` (json-logic or a literal)", { anchor: "key" });
    return undefined;
  }
  if (op === "remove" && u.value !== undefined) {
    reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, "value"], "`remove` takes no `value`", "drop the `value:`", { anchor: "key" });
    return undefined;
  }
  const parsed = parseStatePath(text);
  if (!parsed.ok) {
    reporter.error("DEFINITION_BAD_PATH", [...path, op], parsed.message, "write dotted segments, each a name or one `{placeholder}`, e.g. `totals.{data.district}.count`");
    return undefined;
  }
  const first = parsed.parts[0];
  if ("literal" in first && first.literal === "records") {
    reporter.error("DEFINITION_RECORDS_PATH", [...path, op], `state path "${text}" starts with \`records\`, which holds the cell's keyed records`, "use another top-level name (e.g. `latest`, `totals`); records are written by `key:`");
    return undefined;
  }
  let ok = true;
  const pathParts: StateUpdatePlan["pathParts"][number][] = [];
  for (const part of parsed.parts) {
    if ("literal" in part) {
      if (FORBIDDEN_SEGMENTS.has(part.literal)) {
        reporter.error("DEFINITION_FORBIDDEN_KEY", [...path, op], `state path "${text}" has the segment "${part.literal}"`, "rename the segment");
        ok = false;
      }
      pathParts.push({ literal: part.literal });
    } else {
      const expr = exprs.expr({ var: part.placeholder }, [...path, op]);
      if (!expr) ok = false;
      else pathParts.push({ expr, source: part.placeholder });
    }
  }
  let value;
  if (u.value !== undefined) {
    value = exprs.mapping(u.value, [...path, "value"]);
    if (!value) ok = false;
    else warnTokenRead(ctx, u.value, [...path, "value"]);
  }
  let when;
  if (u.when !== undefined) {
    const rule = exprs.rule(u.when, [...path, "when"]);
    if (!rule) ok = false;
    else when = (c: Parameters<typeof rule>[0]) => rule(c);
  }
  if (!ok) return undefined;
  return {
    op,
    path: text,
    pathParts,
    location: reporter.locate(path),
    ...(value ? { value, valueSource: u.value as Json } : {}),
    ...(when ? { when, whenSource: u.when as Json } : {}),
  };
}
