/**
 * A plain, independent copy of a cell state (records copied out of their
 * view), for code that needs real objects: structuredClone, postMessage,
 * storage formats other than canonical JSON.
 */
import type { Json } from "../core/canonical.js";
import type { CellState } from "./types.js";
import { internalsOf } from "./commitment.js";
import { materializeRecords } from "./records-view.js";
import { jsonText } from "./wide-object.js";

/** Deep plain copy of `state` (cost: its size). */
export function plainState(state: CellState): { [key: string]: Json } {
  const s = internalsOf(state);
  const out = JSON.parse(jsonText(s.user)) as { [key: string]: Json };
  if (s.records !== undefined) out.records = JSON.parse(JSON.stringify(materializeRecords(s.records))) as Json;
  return out;
}
