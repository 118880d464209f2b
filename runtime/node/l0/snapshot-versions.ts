/**
 * Which definition a channel's snapshot names, and how far its cell heads may
 * reach, across governed upgrades (docs/l0.md, "Upgrades on the nodes").
 *
 * An upgrade has two heights, fixed before either is reached: the block
 * height in the new channel file (`activation: H`: blocks below H of every
 * cell run the old version, blocks from H on the new one) and the snapshot
 * height in the upgrade record L0 scheduled (`atHeight: A`: snapshots below A
 * name the old definition, from A on the new one). The record approves the
 * new definition's hash, so it approves H with it. What ties them together:
 *
 * - a snapshot below A names no cell head at or above H, so no block the new
 *   version decided is ever certified under the old definition's name (the
 *   proposer names the head at H - 1 of a cell that is further on);
 * - from A on, snapshots name the new definition, whatever their heads: the
 *   new file itself says that blocks below H are its predecessor's.
 *
 * A version L0 has not scheduled (no `atSnapshot`, as on a network without
 * L0) changes neither: snapshots go on naming the version before it.
 * Pure: the node's versions are the input.
 */

/** A version of a channel as its snapshots see it: the first is in force from block 1. */
export interface SnapshotVersion {
  hash: string;
  /** The block height from which it is in force (1 for the first). */
  activation: number;
  /** The snapshot height from which L0 holds it in force, when L0 scheduled it. */
  atSnapshot?: number;
}

/** The definition hash snapshot `height` names: the last version L0 holds in force at that height, else the first. */
export function definitionAt(versions: readonly SnapshotVersion[], height: number): string {
  let best: SnapshotVersion | undefined;
  for (const v of versions.slice(1)) {
    if (v.atSnapshot === undefined || v.atSnapshot > height) continue;
    if (best === undefined || v.atSnapshot >= best.atSnapshot!) best = v;
  }
  return (best ?? versions[0]).hash;
}

/**
 * The highest cell head snapshot `height` may name (the block before the
 * first activation L0 has scheduled above it), or undefined when no scheduled
 * version is still ahead of it.
 */
export function headCapAt(versions: readonly SnapshotVersion[], height: number): number | undefined {
  let cap: number | undefined;
  for (const v of versions.slice(1)) {
    if (v.atSnapshot === undefined || v.atSnapshot <= height) continue;
    cap = Math.min(cap ?? Infinity, v.activation - 1);
  }
  return cap;
}

/** The block heights whose heads a snapshot may have to name exactly (the last block before each scheduled activation). */
export function boundaryHeights(versions: readonly SnapshotVersion[]): Set<number> {
  const out = new Set<number>();
  for (const v of versions.slice(1)) if (v.atSnapshot !== undefined && v.activation > 1) out.add(v.activation - 1);
  return out;
}
