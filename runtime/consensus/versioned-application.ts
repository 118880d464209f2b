/**
 * One cell's application across versions of its channel: each block is built,
 * validated, applied and hashed by the version in force at its height, so
 * blocks below an upgrade's activation height are the old version's and blocks
 * from it on the new one's, on every validator, on catch-up and when a ledger
 * is replayed (docs/operators.md, "Upgrades at a height"). The chain state
 * (cell state, outputs counted) passes unchanged from one version to the next.
 * Versions may be added while the group runs (a staged upgrade), only above
 * every height already decided, so no block changes meaning once built.
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { CellApplication } from "./cell-application.js";

/** A version of the cell's application, in force from block height `from`. */
export interface ApplicationVersion {
  from: number;
  app: CellApplication;
}

export interface VersionedApplication extends CellApplication {
  /** The application in force at block `height`. */
  at(height: number): CellApplication;
  /** Adds a version in force from `from` (above every version already there). */
  stage(version: ApplicationVersion): void;
}

/** The height a block value names, or 0 when it names none (a hostile value: the first version judges it). */
function heightOf(value: Json): number {
  const h = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as { height?: unknown }).height : undefined;
  return typeof h === "number" && Number.isSafeInteger(h) ? h : 0;
}

/**
 * @throws StatecellError CONSENSUS_VERSION_ORDER when versions are not in increasing order of `from`, or none is given
 */
export function versionedApplication(versions: readonly ApplicationVersion[]): VersionedApplication {
  const list: ApplicationVersion[] = [];
  const stage = (v: ApplicationVersion): void => {
    const last = list[list.length - 1];
    if (!Number.isSafeInteger(v.from) || v.from < 1 || (last !== undefined && v.from <= last.from)) {
      throw new StatecellError("CONSENSUS_VERSION_ORDER", `a version in force from height ${String(v.from)} cannot follow one in force from ${String(last?.from)}`, { remedy: "add versions in increasing order of their activation heights" });
    }
    list.push(v);
  };
  for (const v of versions) stage(v);
  if (list.length === 0) throw new StatecellError("CONSENSUS_VERSION_ORDER", "a versioned application needs at least one version", { remedy: "give the version in force from height 1" });
  const at = (height: number): CellApplication => {
    for (let i = list.length - 1; i > 0; i--) if (height >= list[i].from) return list[i].app;
    return list[0].app;
  };
  return {
    at,
    stage,
    buildValue: (ctx) => at(ctx.height).buildValue(ctx),
    validateValue: (ctx, value) => at(ctx.height).validateValue(ctx, value),
    valueId: (value) => at(heightOf(value)).valueId(value),
    applyValue: (state, value) => at(state.height + 1).applyValue(state, value),
    remainingInputs: (pending, value) => at(heightOf(value)).remainingInputs?.(pending, value) ?? [],
    verdictsOf: (value) => at(heightOf(value)).verdictsOf(value),
    outputsOf: (value) => at(heightOf(value)).outputsOf(value),
  };
}
