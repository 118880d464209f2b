/**
 * The simulator's replicated application: a small key/value counter with a
 * state root. A block value carries ordered inputs, their verdicts and the
 * resulting root, like the cells module's blocks; validators re-execute and
 * refuse a value whose verdicts or root differ. Deterministic and cheap.
 */
import type { Json } from "../../runtime/core/canonical.js";
import { hashJson } from "../../runtime/core/hash.js";
import type { Application } from "../../runtime/consensus/types.js";

export interface KvInput {
  id: string;
  key: string;
  add: number;
}

export interface KvState {
  height: number;
  time: number;
  root: string;
  kv: Readonly<Record<string, number>>;
}

export interface KvValue {
  height: number;
  time: number;
  prevHash: string;
  inputs: KvInput[];
  verdicts: Array<"ok" | "reject">;
  root: string;
}

export const KV_GENESIS: KvState = { height: 0, time: 0, root: hashJson("sim-state", {}), kv: {} };
const MAX_INPUTS = 32;
const ids = new WeakMap<object, string>();
const VALUE_KEYS = ["height", "inputs", "prevHash", "root", "time", "verdicts"];

function isInput(x: unknown): x is KvInput {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
  const o = x as Record<string, unknown>;
  return Object.keys(o).length === 3 && typeof o.id === "string" && o.id.length <= 32 && typeof o.key === "string" && o.key.length <= 8 && Number.isSafeInteger(o.add);
}

/** Executes inputs in order: an input that would take its key below 0 or above 1000 is rejected. */
export function execute(state: KvState, inputs: readonly KvInput[]): { kv: Record<string, number>; verdicts: Array<"ok" | "reject">; root: string } {
  const kv: Record<string, number> = { ...state.kv };
  const verdicts: Array<"ok" | "reject"> = [];
  for (const i of inputs) {
    const next = (kv[i.key] ?? 0) + i.add;
    if (next < 0 || next > 1000) verdicts.push("reject");
    else {
      kv[i.key] = next;
      verdicts.push("ok");
    }
  }
  return { kv, verdicts, root: hashJson("sim-state", kv) };
}

export const kvApp: Application<KvState> = {
  buildValue({ height, prevHash, time, state, pending }) {
    const inputs = (pending as unknown as KvInput[]).slice(0, MAX_INPUTS);
    const r = execute(state, inputs);
    // Block time is the proposer's clock, kept strictly increasing so a skewed clock cannot go back.
    const value: KvValue = { height, time: Math.max(Math.floor(time), state.time + 1), prevHash, inputs, verdicts: r.verdicts, root: r.root };
    return value as unknown as Json;
  },
  validateValue({ height, prevHash, state }, value) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const v = value as Record<string, unknown>;
    const keys = Object.keys(v).sort();
    if (keys.length !== VALUE_KEYS.length || keys.some((k, i) => k !== VALUE_KEYS[i])) return false;
    if (v.height !== height || v.prevHash !== prevHash) return false;
    if (!Number.isSafeInteger(v.time) || (v.time as number) <= state.time) return false;
    if (!Array.isArray(v.inputs) || v.inputs.length > MAX_INPUTS || !v.inputs.every(isInput)) return false;
    if (!Array.isArray(v.verdicts) || v.verdicts.length !== v.inputs.length) return false;
    const r = execute(state, v.inputs as KvInput[]);
    return r.root === v.root && r.verdicts.every((x, i) => x === (v.verdicts as unknown[])[i]);
  },
  valueId(value) {
    // Memoised by object identity: in the simulator every node receives the same object.
    if (typeof value !== "object" || value === null) return hashJson("sim-block", value);
    let id = ids.get(value);
    if (id === undefined) {
      id = hashJson("sim-block", value);
      ids.set(value, id);
    }
    return id;
  },
  applyValue(state, value) {
    const v = value as unknown as KvValue;
    const r = execute(state, v.inputs);
    return { height: v.height, time: v.time, root: r.root, kv: r.kv };
  },
  remainingInputs(pending, value) {
    const done = new Set((value as unknown as KvValue).inputs.map((i) => i.id));
    return pending.filter((p) => !done.has((p as unknown as KvInput).id));
  },
};
