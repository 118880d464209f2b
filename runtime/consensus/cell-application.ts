/**
 * The replicated application of one cell: consensus agrees on blocks of the
 * cell's inputs, and every validator re-executes a proposed block with the
 * cells module before prevoting for it (DESIGN.md "Consensus": "valid" means
 * the validator got the same verdicts and state root). docs/consensus.md,
 * "The cell as application", is the reference.
 *
 * A block value is plain JSON:
 *   { height, prevHash, time, inputs, verdicts, stateRoot, outputsHash }
 * - `inputs` are the submissions exactly as clients sent them (for a signed
 *   cell the `{ data, signer, signature }` envelope), so every validator
 *   admits them itself: a proposer cannot vouch for a signature. Only
 *   submissions that pass admission (limits, JSON, signature) enter a block,
 *   within the plan's `blockLimits`; a value with any other is invalid.
 * - `verdicts` are `{ accepted: true }` or `{ accepted: false, code, rule? }`:
 *   codes and rule names only. Messages can hold text made by ajv, V8 or a
 *   hook, which differs between library and engine versions, so they stay
 *   beside the block (`verdictsOf`) and are never hashed or compared.
 * - `outputsHash` binds what the block emits to downstream cells, so the
 *   commit certificate covers the outputs that carry it.
 * - `time` is the proposer's clock, strictly increasing per cell, never the
 *   validator's.
 *
 * Pure: executeBlock is pure, and results are memoised by (state, value)
 * object identity so a validator executes a block once for validate and
 * apply. Values and submissions are treated as immutable once seen (as the
 * value-id memo already does): admission results are remembered per object.
 */
import { canonicalString, type Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import { hashJson } from "../core/hash.js";
import type { ChannelPlan } from "../definition/plan.js";
import { admitInput, executeBlock, type BlockInput, type BlockResult, type CellState, type ExecuteModules, type Rejected, type Verdict } from "../cells/index.js";
// The agreement rule alone: runtime/sandbox/index.js would load isolated-vm into every consensus process.
import { blockBudgetAgrees } from "../sandbox/timeout-policy.js";
import type { Application } from "./types.js";

/** The replicated state of one cell's chain. */
export interface CellChainState {
  height: number;
  /** Time of the last block (unix ms); the next block must be later. */
  time: number;
  cell: CellState;
  stateRoot: string;
}

/** A verdict as a block carries it: codes and rule names only, never text made by a library or the engine. */
export type BlockVerdict = { accepted: true } | { accepted: false; code: string; rule?: string };

/** A block value as proposed and certified. */
export interface CellBlockValue {
  height: number;
  prevHash: string;
  time: number;
  inputs: Json[];
  verdicts: BlockVerdict[];
  stateRoot: string;
  outputsHash: string;
}

/** The cell as replicated application, with the local full verdicts of what it executed. */
export interface CellApplication extends Application<CellChainState> {
  /**
   * The full verdicts (code, rule, message, path) of `value`, one per input in
   * order, when this application built, validated or applied that very object;
   * undefined otherwise. For the node to show clients why an input was refused;
   * never hashed or compared (messages may hold ajv, V8 or hook text).
   */
  verdictsOf(value: Json): readonly Verdict[] | undefined;
}

const VALUE_KEYS = ["height", "inputs", "outputsHash", "prevHash", "stateRoot", "time", "verdicts"];
const hasOwn = Object.prototype.hasOwnProperty;
/** Canonical bytes a signed envelope adds around its data: {"data":…,"signature":"<128 hex>","signer":"<64 hex>"}. */
const ENVELOPE_BYTES = canonicalString({ data: 0, signature: "0".repeat(128), signer: "0".repeat(64) }).length - 1;

/** The genesis state of a cell: empty, at height 0. */
export function genesisCellChain(): CellChainState {
  const cell: CellState = {};
  return { height: 0, time: 0, cell, stateRoot: "" };
}

/** A verdict as it appears in a block: what validators must agree on, nothing measured, no message. */
export function verdictJson(v: Verdict): BlockVerdict {
  if (v.accepted) return { accepted: true };
  return v.rule === undefined ? { accepted: false, code: v.code } : { accepted: false, code: v.code, rule: v.rule };
}

/** An execution: the result, its verdicts as blocks carry them, the outputs hash, and the time its hooks took (measured: never hashed). */
type Run = { result: BlockResult; verdicts: BlockVerdict[]; outputsHash: string; hookMs: number };
type Admitted = { input: BlockInput; bytes: number };
/**
 * What `examine` found: the value's fields as read once (a hostile object is
 * never read again), its admitted inputs and header hash; or why it is not a
 * block here.
 */
type Examined = { block: CellBlockValue; inputs: BlockInput[]; hash: string; timedOut: number[]; cut: number[] } | string;

/**
 * An Application for consensus on one cell of a channel plan. `modules.code`
 * supplies the sandbox runner when the cell has code. Limits on blocks come
 * from `plan.blockLimits`, the same on every validator.
 * @throws StatecellError CONSENSUS_UNKNOWN_CELL when the plan has no such cell
 * @example
 * const app = cellApplication(plan, "ballots");
 * const config = { channel: plan.channel, cell: "ballots", validators, self, app, timeouts, verifier };
 */
export function cellApplication(plan: ChannelPlan, cellName: string, modules: ExecuteModules = {}): CellApplication {
  if (!hasOwn.call(plan.cells, cellName)) {
    throw new StatecellError("CONSENSUS_UNKNOWN_CELL", `the channel ${plan.channel} has no cell "${cellName}" to run consensus on`, {
      remedy: `use one of: ${Object.keys(plan.cells).sort().join(", ")}`,
      payload: { channel: plan.channel, cell: cellName },
    });
  }
  const cellPlan = plan.cells[cellName];
  const signedCell = cellPlan.signed === true;
  const { maxInputs, maxBytes } = plan.blockLimits;
  const memo = new WeakMap<object, WeakMap<object, Run>>();
  const full = new WeakMap<object, readonly Verdict[]>();
  const ids = new WeakMap<object, string>();
  const admissions = new WeakMap<object, Admitted | Rejected>();

  /** Canonical UTF-8 length of a submission as the block carries it, from the bytes admission already made. */
  function submissionBytes(raw: unknown, input: BlockInput): number {
    // JSON text travels as a JSON string (RFC 8785 escapes strings as JSON.stringify does).
    if (typeof raw === "string") return utf8Length(JSON.stringify(raw));
    const data = input.bytes?.length ?? utf8Length(canonicalString(input.data));
    return signedCell ? data + ENVELOPE_BYTES : data;
  }

  /** Admission of one submission, remembered per object (a signature check costs ~80 us). */
  function admit(raw: unknown): Admitted | Rejected {
    const key = typeof raw === "object" && raw !== null ? raw : undefined;
    const known = key && admissions.get(key);
    if (known) return known;
    const a = admitInput(plan, cellName, raw);
    let out: Admitted | Rejected;
    if ("accepted" in a) out = a;
    else {
      const bytes = submissionBytes(raw, a);
      // Larger than a whole block: it could never be proposed, so it is refused like any oversized input.
      out = bytes > maxBytes ? { accepted: false, code: "CELL_TOO_LARGE", message: `the submission is ${bytes} bytes, over the block limit of ${maxBytes}` } : { input: a, bytes };
    }
    if (key) admissions.set(key, out);
    return out;
  }

  // The block hash that seeds hooks' randomness: fixed by the proposal before execution.
  const headerHash = (height: number, prevHash: string, time: number, raw: readonly Json[]) =>
    hashJson("cell-block-header", { channel: plan.channel, cell: cellName, height, prevHash, time, inputs: raw as Json[] });

  /**
   * Executes admitted inputs. `timedOut` (validator mode: re-executing a
   * proposal, or applying a certified value) lists the block indexes the
   * block's verdicts mark SANDBOX_TIMEOUT; the sandbox judges them with its
   * agreement margins (docs/sandbox.md, "Timeouts"). executeBlock throws only
   * on caller errors, so a throw means this node is broken: CONSENSUS_APP_FAULT.
   */
  function run(
    state: CellChainState,
    height: number,
    prevHash: string,
    time: number,
    hash: string,
    inputs: BlockInput[],
    verify?: { timedOut: readonly number[]; cut: readonly number[] },
  ): Run {
    // One block budget per execution, so the time its hooks took together can be judged (validateValue).
    const budget = { spentMs: 0 };
    const hookOptions = verify === undefined ? { ...modules.hookOptions, budget } : { ...modules.hookOptions, budget, verify: verify.cut.length > 0 ? { timedOut: verify.timedOut, blockBudget: verify.cut } : { timedOut: verify.timedOut } };
    const exec = { ...modules, hookOptions };
    let result: BlockResult;
    try {
      result = executeBlock(plan, cellName, state.cell, inputs, { height, time, hash, prevHash }, exec);
    } catch (e) {
      const what = e instanceof StatecellError ? `${e.code}: ${e.message}` : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      throw new StatecellError("CONSENSUS_APP_FAULT", `cell "${cellName}" of ${plan.channel}: executing block ${height} threw ${what}`, {
        remedy: "executeBlock throws only on caller errors: give the node what the cause names (e.g. modules.code for a cell with code), then restart it",
        payload: { cell: cellName, height, cause: e instanceof StatecellError ? e.code : null },
        cause: e,
      });
    }
    const outputsHash = hashJson("cell-outputs", result.outputs.map((o) => ({ to: o.to, input: o.input, data: o.data })) as Json);
    return { result, verdicts: result.verdicts.map(verdictJson), outputsHash, hookMs: budget.spentMs };
  }

  function remember(state: CellChainState, value: object, r: Run): void {
    let byState = memo.get(value);
    if (!byState) memo.set(value, (byState = new WeakMap()));
    byState.set(state, r);
    full.set(value, r.result.verdicts);
  }

  /**
   * Why `value` cannot be the next block on `state` (at `height`, after
   * `prevHash` when known), or its admitted inputs and header hash. Reasons
   * are built only on failure; never throws on hostile values.
   */
  function examine(state: CellChainState, value: Json, height: number, prevHash: string | undefined): Examined {
    try {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return "it is not an object";
      const keys = Object.keys(value).sort();
      if (keys.length !== VALUE_KEYS.length || keys.some((k, i) => k !== VALUE_KEYS[i])) return `it has the fields ${keys.join(", ")}, not ${VALUE_KEYS.join(", ")}`;
      const v = value as Record<string, Json>;
      if (!Number.isSafeInteger(v.height) || typeof v.prevHash !== "string" || !Number.isSafeInteger(v.time)) return "its height, prevHash or time has the wrong type";
      if (!Array.isArray(v.inputs) || !Array.isArray(v.verdicts) || v.verdicts.length !== v.inputs.length) return "its inputs and verdicts are not two lists of one length";
      if (typeof v.stateRoot !== "string" || typeof v.outputsHash !== "string") return "its stateRoot or outputsHash is not text";
      if (v.height !== height) return `its height is ${String(v.height)}, not ${height}`;
      if (prevHash !== undefined && v.prevHash !== prevHash) return `it follows ${String(v.prevHash).slice(0, 16)}, not ${prevHash.slice(0, 16)}`;
      if ((v.time as number) <= state.time) return `its time ${String(v.time)} is not after the previous block's ${state.time}`;
      const raw = v.inputs;
      if (raw.length > maxInputs) return `it carries ${raw.length} inputs, over the block limit of ${maxInputs}`;
      const inputs: BlockInput[] = new Array<BlockInput>(raw.length);
      const timedOut: number[] = [];
      const cut: number[] = [];
      let bytes = 0;
      for (let i = 0; i < raw.length; i++) {
        const a = admit(raw[i]);
        if (!("input" in a)) return `its input ${i} is refused at admission (${a.code})`;
        bytes += a.bytes;
        if (bytes > maxBytes) return `its submissions are over the block limit of ${maxBytes} bytes`;
        inputs[i] = a.input;
        // Hooks number inputs by their block index: every input of a block passed admission.
        const p = v.verdicts[i];
        if (typeof p === "object" && p !== null && !Array.isArray(p) && p.code === "SANDBOX_TIMEOUT") timedOut.push(i);
        if (typeof p === "object" && p !== null && !Array.isArray(p) && p.code === "SANDBOX_BLOCK_BUDGET") cut.push(i);
      }
      const block: CellBlockValue = {
        height: v.height as number,
        prevHash: v.prevHash as string,
        time: v.time as number,
        inputs: raw,
        verdicts: v.verdicts as BlockVerdict[],
        stateRoot: v.stateRoot as string,
        outputsHash: v.outputsHash as string,
      };
      return { block, inputs, hash: headerHash(block.height, block.prevHash, block.time, raw), timedOut, cut };
    } catch {
      return "it cannot be read as JSON";
    }
  }

  /** Where the re-executed `r` differs from what `v` commits to, or undefined. */
  function difference(r: Run, v: CellBlockValue): string | undefined {
    if (r.result.stateRoot !== v.stateRoot) return `commits to state root ${v.stateRoot}, but this node computes ${r.result.stateRoot}`;
    if (r.outputsHash !== v.outputsHash) return `commits to outputs hash ${v.outputsHash}, but this node computes ${r.outputsHash}`;
    for (let i = 0; i < r.verdicts.length; i++) {
      if (!sameVerdict(r.verdicts[i], v.verdicts[i])) return `has another verdict for input ${i} than this node's ${JSON.stringify(r.verdicts[i])}`;
    }
    return undefined;
  }

  function diverged(height: number, detail: string, payload: Record<string, unknown>): StatecellError {
    return new StatecellError("CONSENSUS_APP_DIVERGED", `cell "${cellName}" of ${plan.channel}, height ${height}: the certified block ${detail}`, {
      remedy:
        "stop this node: a quorum of its group certified a block it does not reproduce. Check that it runs the group's channel definition (plan hash), code files and statecell version, then rebuild its cell state from a snapshot or from genesis; if it does, more validators than the threshold tolerates are faulty",
      payload: { cell: cellName, height, ...payload },
    });
  }

  return {
    buildValue({ height, prevHash, time, state, pending }) {
      const t = Math.max(Math.floor(time), state.time + 1);
      const raw: Json[] = [];
      const inputs: BlockInput[] = [];
      let bytes = 0;
      for (const p of pending) {
        if (raw.length >= maxInputs) break;
        const a = admit(p);
        if (!("input" in a)) continue; // refused: never in a block; remainingInputs drops it
        if (bytes + a.bytes > maxBytes) break; // the rest waits for the next block, in order
        bytes += a.bytes;
        raw.push(p);
        inputs.push(a.input);
      }
      const r = run(state, height, prevHash, t, headerHash(height, prevHash, t, raw), inputs);
      const value: CellBlockValue = { height, prevHash, time: t, inputs: raw, verdicts: r.verdicts, stateRoot: r.result.stateRoot, outputsHash: r.outputsHash };
      remember(state, value, r);
      return value as unknown as Json;
    },

    validateValue({ height, prevHash, state }, value) {
      const e = examine(state, value, height, prevHash);
      if (typeof e === "string") return false;
      const r = run(state, height, prevHash, e.block.time, e.hash, e.inputs, e);
      let d: string | undefined;
      try {
        d = difference(r, e.block);
      } catch {
        return false; // verdicts that cannot be read
      }
      if (d !== undefined) return false;
      // The proposer said the block's hook time ran out: believe it only if this node's own hooks took a fair share of it.
      if (e.cut.length > 0 && !blockBudgetAgrees(r.hookMs, cellPlan.limits.blockTimeMs)) return false;
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
      const known = typeof value === "object" && value !== null ? memo.get(value)?.get(state) : undefined;
      if (known !== undefined) {
        const v = value as unknown as CellBlockValue;
        return { height: v.height, time: v.time, cell: known.result.state, stateRoot: known.result.stateRoot };
      }
      // Not validated on this very state (a restart, a ledger replay): execute as a validator does, with the
      // block's verdicts, and insist on its result. A certified block this node cannot reproduce is a fault,
      // never a quiet fork of its state.
      const e = examine(state, value, state.height + 1, undefined);
      if (typeof e === "string") throw diverged(state.height + 1, `cannot follow this node's state at height ${state.height}: ${e}`, {});
      const v = e.block;
      const r = run(state, v.height, v.prevHash, v.time, e.hash, e.inputs, e);
      let d: string | undefined;
      try {
        d = difference(r, v);
      } catch {
        d = "has verdicts that cannot be read";
      }
      if (d !== undefined) throw diverged(v.height, d, { expected: v.stateRoot, actual: r.result.stateRoot });
      remember(state, value as object, r);
      return { height: v.height, time: v.time, cell: r.result.state, stateRoot: r.result.stateRoot };
    },

    remainingInputs(pending, value) {
      const carried = (value as unknown as CellBlockValue).inputs;
      const same = new Set<unknown>(carried);
      // Equal submissions have equal canonical text; built only when some pending input is another object.
      let texts: Set<string> | undefined;
      return pending.filter((p) => {
        if (!("input" in admit(p))) return false; // refused at admission: it can never enter a block
        if (same.has(p)) return false;
        texts ??= new Set(carried.map((i) => canonicalString(i)));
        return !texts.has(canonicalString(p));
      });
    },

    verdictsOf(value) {
      return typeof value === "object" && value !== null ? full.get(value) : undefined;
    },
  };
}

/** Whether `theirs` (from a proposal, untrusted) is exactly the block verdict `ours`. */
function sameVerdict(ours: BlockVerdict, theirs: unknown): boolean {
  if (typeof theirs !== "object" || theirs === null || Array.isArray(theirs)) return false;
  const t = theirs as Record<string, unknown>;
  const n = Object.keys(t).length;
  if (ours.accepted) return n === 1 && t.accepted === true;
  if (t.accepted !== false || !hasOwn.call(t, "code") || t.code !== ours.code) return false;
  return ours.rule === undefined ? n === 2 : n === 3 && hasOwn.call(t, "rule") && t.rule === ours.rule;
}

/** UTF-8 length of a string without encoding it. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
