/** `snapshots:` to a SnapshotsPlan: the certifying group and one interval (blocks or seconds). */
import { isObj, type CompileContext } from "./compile-context.js";
import type { SnapshotsPlan } from "./plan.js";
import { didYouMean, listSome } from "./suggest.js";

/** The snapshots plan, or undefined when none is written (or after a problem). */
export function compileSnapshots(ctx: CompileContext): SnapshotsPlan | undefined {
  const { doc, reporter, names } = ctx;
  if (!isObj(doc.snapshots) || typeof doc.snapshots.group !== "string") return undefined;
  const s = doc.snapshots;
  const group = s.group as string;
  const every = typeof s.every === "number" ? s.every : undefined;
  const seconds = typeof s.seconds === "number" ? s.seconds : undefined;
  if (!names.groups.has(group)) {
    reporter.error("DEFINITION_UNKNOWN_GROUP", ["snapshots", "group"], `snapshots name group "${group}", which is not defined${didYouMean(group, names.groups, reporter.suggestions)}`, `use one of: ${listSome(names.groups)}`);
    return undefined;
  }
  if (every !== undefined && seconds !== undefined) {
    reporter.error("DEFINITION_CONFLICTING_KEYS", ["snapshots", "seconds"], "snapshots have both `every` (blocks) and `seconds`", "keep one of them", { anchor: "key" });
    return undefined;
  }
  if (every === undefined && seconds === undefined) {
    reporter.error("DEFINITION_MISSING_KEY", ["snapshots"], "snapshots need `every: N` (blocks) or `seconds: N`", "add `every: 10` or `seconds: 60`", { anchor: "key" });
    return undefined;
  }
  return { group, ...(every !== undefined ? { every } : { seconds: seconds as number }) };
}

/** The group the snapshots name as written (used, even when the snapshots have another problem). */
export function snapshotsGroup(ctx: CompileContext): string | undefined {
  const s = ctx.doc.snapshots;
  return isObj(s) && typeof s.group === "string" ? s.group : undefined;
}
