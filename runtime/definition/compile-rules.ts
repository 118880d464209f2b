/**
 * A `rules:` list (of a cell, or of one of its operations) to RulePlans: each
 * rule's condition, its `when`, its message template and its plain-English
 * reading. Names are unique among the rules that can reject one input (a
 * cell's rules and the rules of one operation), since rejections, tests and
 * coverage refer to a rule by its name.
 */
import type { Json } from "../core/canonical.js";
import { isObj, warnTokenRead, type CompileContext } from "./compile-context.js";
import type { RulePlan } from "./plan.js";
import type { DocPath } from "./reporter.js";

/** Where the rules are and what they belong to. */
export interface RulesOwner {
  /** The cell's name. */
  cell: string;
  /** The operation's name, for an operation's rules. */
  op?: string;
  /** True when the cell is signed (rules reading `signer` are warned about otherwise). */
  signed: boolean;
  /** The rule names compiled here, with their indexes (filled in). */
  taken: Map<string, { op?: string; index: number }>;
  /** For an operation's rules: the cell's rule names, which reject the same inputs (read, not copied, for each operation). */
  shared?: ReadonlyMap<string, { op?: string; index: number }>;
}

/** The compiled rules, and false when any rule had an error. */
export function compileRules(ctx: CompileContext, list: Json | undefined, base: DocPath, owner: RulesOwner): { rules: RulePlan[]; ok: boolean } {
  const { reporter, exprs } = ctx;
  const rules: RulePlan[] = [];
  let ok = true;
  const whose = owner.op === undefined ? `cell "${owner.cell}"` : `operation "${owner.op}" of cell "${owner.cell}"`;
  (Array.isArray(list) ? list : []).forEach((r, i) => {
    if (!isObj(r) || typeof r.name !== "string") {
      ok = false;
      return;
    }
    const path = [...base, i];
    const prior = owner.taken.get(r.name) ?? owner.shared?.get(r.name);
    if (prior !== undefined) {
      const message =
        prior.op === owner.op
          ? `${whose} has two rules named "${r.name}" (rules ${prior.index + 1} and ${i + 1})`
          : `rule ${i + 1} of ${whose} is named "${r.name}", like rule ${prior.index + 1} of the cell, which applies to every operation`;
      reporter.error("DEFINITION_DUPLICATE_NAME", [...path, "name"], message, "give each rule of a cell its own name; tests and rejections refer to it");
      ok = false;
    } else owner.taken.set(r.name, { ...(owner.op !== undefined ? { op: owner.op } : {}), index: i });
    if (r.require === undefined) {
      ok = false;
      return;
    }
    const compiled = exprs.rule(r.require, [...path, "require"]);
    const message = typeof r.message === "string" ? r.message : `rule ${r.name} failed`;
    const templateOk = typeof r.message === "string" ? exprs.template(r.message, [...path, "message"]) : true;
    const when = r.when !== undefined ? exprs.rule(r.when, [...path, "when"]) : undefined;
    if (!compiled || !templateOk || (r.when !== undefined && !when)) {
      ok = false;
      return;
    }
    rules.push({
      name: r.name,
      require: r.require,
      message,
      compiled,
      english: exprs.engine.describe(r.require),
      location: reporter.locate(path),
      ...(typeof r.description === "string" ? { description: r.description } : {}),
      ...(when ? { when, whenSource: r.when as Json } : {}),
    });
    // The roots an expression reads are needed only for these two warnings: walked once, and only when one can apply.
    if (ctx.hasToken && owner.signed) return;
    for (const key of ["require", "when"] as const) {
      const expr = r[key];
      if (expr === undefined) continue;
      const roots = exprs.varRoots(expr);
      if (!ctx.hasToken && roots.has("token")) warnTokenRead(ctx, expr, [...path, key]);
      if (!owner.signed && roots.has("signer")) {
        reporter.warn(
          "DEFINITION_SIGNER_UNSIGNED",
          [...path, key],
          `rule "${r.name}" reads \`signer\`${key === "when" ? " in its `when`" : ""}, but cell "${owner.cell}" is not signed: signer is null whenever the sender did not sign`,
          "add `signed: true` to the cell",
        );
      }
    }
  });
  return { rules, ok };
}
