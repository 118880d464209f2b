/**
 * The replicated application of one cell: consensus agrees on blocks of the
 * cell's inputs, and every validator re-executes a proposed block with the
 * cells module before prevoting for it (DESIGN.md "Consensus": "valid" means
 * the validator got the same verdicts and state root).
 *
 * A block value is plain JSON:
 *   { height, prevHash, time, inputs, verdicts, stateRoot, outputsHash }
 * - `inputs` are the submissions exactly as clients sent them (for a signed
 *   cell the `{ data, signer, signature }` envelope), so every validator
 *   admits them itself: a proposer cannot vouch for a signature.
 * - `verdicts` are the proposer's verdicts; a validator whose own verdicts or
 *   state root differ finds the value invalid and prevotes nil.
 * - `outputsHash` binds what the block emits to downstream cells, so the
 *   commit certificate covers the outputs that carry it.
 * - `time` is the proposer's clock, strictly increasing per cell, never the
 *   validator's.
 *
 * Pure: executeBlock is pure, and results are memoised by (state, value)
 * object identity so a validator executes a block once for validate and
 * apply.
 */
import { canonicalString, type Json } from "../core/canonical.js";
import { hashJson } from "../core/hash.js";
import type { ChannelPlan } from "../definition/plan.js";
import { admitInput, executeBlock, type BlockInput, type BlockResult, type CellState, type ExecuteModules, type Verdict } from "../cells/index.js";
import type { Application } from "./types.js";

/** The replicated state of one cell's chain. */
export interface CellChainState {
  height: number;
  /** Time of the last block (unix ms); the next block must be later. */
  time: number;
  cell: CellState;
  stateRoot: string;
}

/** A block value as proposed and certified. */
export interface CellBlockValue {
  height: number;
  prevHash: string;
  time: number;
  inputs: Json[];
  verdicts: Json[];
  stateRoot: string;
  outputsHash: string;
}

export interface CellApplicationOptions {
  /** Most inputs per block (default 1,000: one sandbox batch, one records hash). */
  maxInputs?: number;
}

const VALUE_KEYS = ["height", "inputs", "outputsHash", "prevHash", "stateRoot", "time", "verdicts"];

/** The genesis state of a cell: empty, at height 0. */
export function genesisCellChain(): CellChainState {
  const cell: CellState = {};
  return { height: 0, time: 0, cell, stateRoot: "" };
}

/** A verdict as it appears in a block: what validators must agree on, nothing measured. */
export function verdictJson(v: Verdict): Json {
  if (v.accepted) return { accepted: true };
  const out: Record<string, Json> = { accepted: false, code: v.code, message: v.message };
  if (v.rule !== undefined) out.rule = v.rule;
  if (v.path !== undefined) out.path = v.path;
  return out;
}

/**
 * An Application for consensus on one cell of a channel plan. `modules.code`
 * supplies the sandbox runner when the cell has code.
 */
export function cellApplication(
  plan: ChannelPlan,
  cellName: string,
  modules: ExecuteModules = {},
  opts: CellApplicationOptions = {},
): Application<CellChainState> {
  const maxInputs = opts.maxInputs ?? 1000;
  const memo = new WeakMap<object, WeakMap<object, { result: BlockResult; verdicts: Json[]; outputsHash: string }>>();
  const ids = new WeakMap<object, string>();

  /**
   * Admit and execute `raw`. `proposed` (a validator re-executing a proposal)
   * are the proposer's verdicts: the inputs it reported as SANDBOX_TIMEOUT are
   * judged with the sandbox's agreement margins (docs/sandbox.md).
   */
  function run(state: CellChainState, height: number, prevHash: string, time: number, raw: readonly Json[], proposed?: readonly Json[]) {
    const admitted: Array<BlockInput | null> = [];
    const rejectedAtAdmission = new Map<number, Verdict>();
    raw.forEach((r, i) => {
      const a = admitInput(plan, cellName, r);
      if ("accepted" in a) {
        rejectedAtAdmission.set(i, a);
        admitted.push(null);
      } else admitted.push(a);
    });
    // The block hash that seeds hooks' randomness: fixed by the proposal before execution.
    const hash = hashJson("cell-block-header", { channel: plan.channel, cell: cellName, height, prevHash, time, inputs: raw as Json[] });
    const inputs = admitted.filter((a): a is BlockInput => a !== null);
    let exec = modules;
    if (proposed) {
      // Hooks number inputs by their position among admitted inputs.
      const timedOut: number[] = [];
      let k = 0;
      admitted.forEach((a, i) => {
        if (a === null) return;
        const p = proposed[i] as { code?: unknown } | null;
        if (p && typeof p === "object" && p.code === "SANDBOX_TIMEOUT") timedOut.push(k);
        k++;
      });
      exec = { ...modules, hookOptions: { ...modules.hookOptions, verify: { timedOut } } };
    }
    const result = executeBlock(plan, cellName, state.cell, inputs, { height, time, hash, prevHash }, exec);
    let k = 0;
    const verdicts = raw.map((_, i) => verdictJson(rejectedAtAdmission.get(i) ?? result.verdicts[k++]));
    const outputsHash = hashJson("cell-outputs", result.outputs.map((o) => ({ to: o.to, input: o.input, data: o.data })) as Json);
    return { result, verdicts, outputsHash };
  }

  function remember(state: CellChainState, value: object, r: ReturnType<typeof run>) {
    let byState = memo.get(value);
    if (!byState) memo.set(value, (byState = new WeakMap()));
    byState.set(state, r);
  }

  function wellFormed(value: Json): value is Json & CellBlockValue {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
    const keys = Object.keys(value).sort();
    if (keys.length !== VALUE_KEYS.length || keys.some((k, i) => k !== VALUE_KEYS[i])) return false;
    const v = value as Record<string, Json>;
    return (
      Number.isSafeInteger(v.height) &&
      typeof v.prevHash === "string" &&
      Number.isSafeInteger(v.time) &&
      Array.isArray(v.inputs) &&
      v.inputs.length <= maxInputs &&
      Array.isArray(v.verdicts) &&
      v.verdicts.length === v.inputs.length &&
      typeof v.stateRoot === "string" &&
      typeof v.outputsHash === "string"
    );
  }

  return {
    buildValue({ height, prevHash, time, state, pending }) {
      const inputs = pending.slice(0, maxInputs) as Json[];
      const t = Math.max(Math.floor(time), state.time + 1);
      const r = run(state, height, prevHash, t, inputs);
      const value: CellBlockValue = { height, prevHash, time: t, inputs, verdicts: r.verdicts, stateRoot: r.result.stateRoot, outputsHash: r.outputsHash };
      remember(state, value, r);
      return value as unknown as Json;
    },

    validateValue({ height, prevHash, state }, value) {
      if (!wellFormed(value)) return false;
      if (value.height !== height || value.prevHash !== prevHash || value.time <= state.time) return false;
      let r;
      try {
        r = run(state, height, prevHash, value.time, value.inputs, value.verdicts);
      } catch {
        // executeBlock throws only on caller errors; a value that provokes one is not valid.
        return false;
      }
      if (r.result.stateRoot !== value.stateRoot || r.outputsHash !== value.outputsHash) return false;
      if (hashJson("verdicts", r.verdicts as Json) !== hashJson("verdicts", value.verdicts)) return false;
      remember(state, value as object, r);
      return true;
    },

    valueId(value) {
      // A block canonicalizes in time proportional to its inputs; the same
      // object is hashed by the proposer and on every receipt, so remember it.
      if (typeof value !== "object" || value === null) return hashJson("cell-block", value);
      let id = ids.get(value);
      if (id === undefined) ids.set(value, (id = hashJson("cell-block", value)));
      return id;
    },

    applyValue(state, value) {
      const v = value as unknown as CellBlockValue;
      const r = memo.get(value as object)?.get(state) ?? run(state, v.height, v.prevHash, v.time, v.inputs);
      return { height: v.height, time: v.time, cell: r.result.state, stateRoot: r.result.stateRoot };
    },

    remainingInputs(pending, value) {
      // Equal submissions have equal canonical text; no need to hash it too.
      const done = new Set((value as unknown as CellBlockValue).inputs.map((i) => canonicalString(i)));
      return pending.filter((p) => !done.has(canonicalString(p)));
    },
  };
}
