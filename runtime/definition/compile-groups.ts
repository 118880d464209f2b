/**
 * `groups:` to GroupPlans: each group's validators and its threshold resolved
 * against the group's size (thresholds.ts). Malformed groups were reported by
 * the language check and are skipped here.
 */
import type { CompileContext } from "./compile-context.js";
import { entries, isObj } from "./compile-context.js";
import type { GroupPlan } from "./plan.js";
import { resolveThreshold } from "./thresholds.js";

/** The channel's groups by name; a group whose threshold is refused is left out (and reported). */
export function compileGroups(ctx: CompileContext): Record<string, GroupPlan> {
  const groups: Record<string, GroupPlan> = {};
  for (const [name, g] of entries(ctx.doc.groups)) {
    if (!isObj(g) || !Array.isArray(g.validators)) continue;
    const validators = g.validators.filter((v): v is string => typeof v === "string");
    const written = g.threshold;
    if (validators.length === 0 || (typeof written !== "number" && typeof written !== "string")) continue;
    const r = resolveThreshold(written, new Set(validators).size);
    if (!r.ok) {
      // Malformed thresholds were reported by the language check already.
      if (r.code !== "DEFINITION_BAD_VALUE") ctx.reporter.error(r.code, ["groups", name, "threshold"], `group "${name}": ${r.message}`, r.remedy);
      continue;
    }
    groups[name] = { name, validators, threshold: r.plan, ...(typeof g.description === "string" ? { description: g.description } : {}) };
  }
  return groups;
}
