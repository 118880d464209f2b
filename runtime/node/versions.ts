/**
 * The versions of a hosted channel across upgrades at a height: what the
 * ledger keeps of each (the channel file's text and code, its activation
 * height), how a stored version is loaded again without its files, which
 * versions a restarted node runs, and what an upgrade at a height may change.
 * docs/operators.md, "Upgrades at a height".
 */
import { posix } from "node:path";
import { canonicalString, type Json } from "../core/canonical.js";
import { formatProblem } from "../core/errors.js";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import type { StoredVersion } from "../ledger/index.js";
import { checkCode } from "../sandbox/index.js";

/** A channel definition as text: the file's name, its text and its code files by the path the file writes. */
export interface DefinitionText {
  file: string;
  source: string;
  code: Record<string, string>;
}

/** The definition text of `plan`, loaded from `source` (the text the plan was loaded from). */
export function definitionText(plan: ChannelPlan, source: string): DefinitionText {
  const code: Record<string, string> = {};
  for (const c of Object.values(plan.cells)) if (c.code !== undefined) code[posix.normalize(c.code.path.replace(/\\/g, "/"))] = c.code.source;
  return { file: posix.basename(plan.file.replace(/\\/g, "/")), source, code };
}

const STORED_DIR = "/statecell-ledger";

/** Loads a stored version from its text alone; a string says why it does not load, or hashes to another definition. */
export function planOfStored(v: StoredVersion): ChannelPlan | string {
  const dir = posix.join(STORED_DIR, v.channel);
  const r = loadChannel(v.source, { file: posix.join(dir, v.file) }, { readFile: (p) => (p.startsWith(`${dir}/`) ? v.code[p.slice(dir.length + 1)] : undefined), checkCode });
  if (r.plan === undefined) return r.problems.filter((p) => p.severity === "error").slice(0, 5).map((p) => formatProblem(p)).join("; ");
  if (r.plan.hash !== v.hash) return `it hashes to ${r.plan.hash.slice(0, 12)}, not the stored ${v.hash.slice(0, 12)}`;
  return r.plan;
}

/** A version with the height it is in force from. */
export interface VersionAt {
  from: number;
  plan: ChannelPlan;
  /** The snapshot height from which L0 holds it in force, when L0 scheduled it. */
  atSnapshot?: number;
}

/**
 * The versions in force, by height: the first from 1, each later one from
 * its activation. At one height the higher version wins (a node file naming
 * a version without `activation:` runs it from genesis, as before upgrades at
 * a height existed).
 */
export function versionsInForce(versions: readonly VersionAt[]): VersionAt[] {
  const sorted = [...versions].sort((a, b) => a.from - b.from || a.plan.version - b.plan.version);
  const out: VersionAt[] = [];
  for (const v of sorted) {
    const last = out[out.length - 1];
    if (last === undefined) out.push({ ...v, from: 1 });
    else if (v.from <= last.from) out[out.length - 1] = { ...v, from: last.from };
    else out.push(v);
  }
  return out;
}

/**
 * Why `next` cannot follow `base` at a height, or undefined when it can. An
 * upgrade at a height changes rules, schemas, state updates, emits' data,
 * code and limits; it keeps the cells, the pipeline, the groups (validators
 * and thresholds), the snapshot group and the token, because each cell's
 * consensus group and its deliveries run on across the boundary.
 */
export function upgradeShapeProblem(base: ChannelPlan, next: ChannelPlan): string | undefined {
  const same = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same([...base.order].sort(), [...next.order].sort())) return `its cells (${next.order.join(", ")}) are not the running version's (${base.order.join(", ")})`;
  for (const name of base.order) {
    const a = base.cells[name];
    const b = next.cells[name];
    if (a.group !== b.group) return `cell ${name} moves from group ${a.group} to ${b.group}`;
    if (!same([...a.upstream].sort(), [...b.upstream].sort()) || !same([...a.downstream].sort(), [...b.downstream].sort())) return `cell ${name} is linked to other cells than before`;
  }
  for (const [g, grp] of Object.entries(base.groups)) {
    const h = next.groups[g];
    if (h === undefined || !same(grp.validators, h.validators) || grp.threshold.quorum !== h.threshold.quorum) return `group ${g} has other validators or another threshold`;
  }
  if (base.snapshots?.group !== next.snapshots?.group) return "the snapshot group changes";
  if ((base.token === undefined) !== (next.token === undefined)) return "the token is added or removed";
  // The token cell runs on with the configuration it started with (its host is not versioned): only its description may change.
  if (base.token !== undefined && next.token !== undefined) {
    const { description: _a, ...a } = base.token;
    const { description: _b, ...b } = next.token;
    if (canonicalString(a as unknown as Json) !== canonicalString(b as unknown as Json)) return "the token's declaration changes (group, genesis, supply, fee, fees, rewards or pending policy)";
  }
  return undefined;
}
