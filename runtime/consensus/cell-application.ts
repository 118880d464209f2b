/**
 * The replicated application of one cell: consensus agrees on blocks of the
 * cell's inputs, and every validator re-executes a proposed block with the
 * cells module before prevoting for it ("valid" means the validator got the
 * same verdicts and state root). docs/consensus.md, "The cell as
 * application", is the reference.
 *
 * A block value is plain JSON:
 *   { height, prevHash, time, inputs, verdicts, stateRoot, outputsHash, sent, received }
 * - `inputs` are of two kinds, in the order they are executed:
 *   - a **submission** exactly as a client sent it:
 *     `{ "data", "op"?, "signer"?, "signature"? }`; every validator admits it
 *     itself (a proposer cannot vouch for a signature); its id is the sha256 of
 *     its canonical bytes;
 *   - an **output** of an upstream cell: `{ "output": { "from", "seq", "data",
 *     "op"?, "signer" } }`, the `seq`-th output `from` sent to this cell
 *     (counted from 0 across its blocks). A validator accepts it only when it
 *     holds that very output from a certified block of `from` (the
 *     `deliveries` port), and each upstream's outputs enter in order, none
 *     skipped, none twice (`received` below).
 *   Only inputs that pass admission (limits, JSON, signature, source) enter a
 *   block, within the plan's `blockLimits`; a value with any other is invalid.
 * - `verdicts` are `{ accepted: true }` or `{ accepted: false, code, rule? }`:
 *   codes and rule names only. Messages can hold text made by ajv, V8 or a
 *   hook, which differs between library and engine versions, so they stay
 *   beside the block (`verdictsOf`) and are never hashed or compared.
 * - `outputsHash` binds what the block emits (`to`, `input`, `data`, `op`,
 *   `signer` of each output), so the commit certificate covers the outputs
 *   that a downstream cell's validators will take.
 * - `sent` counts, per downstream cell, the outputs sent to it up to and
 *   including this block (so this block's outputs to B are numbered
 *   `sent_before[B] .. sent[B] - 1`); `received` is, per upstream cell, the
 *   next output expected from it. Both are part of the chain state.
 * - `time` is the proposer's clock, strictly increasing per cell, never the
 *   validator's.
 * - `token` (only in a cell that reads the token, cells/token-reads.ts):
 *   `{ height, root }`, the token cell's height whose committed state the
 *   block's rules read as `token`, and the token state root there. The
 *   proposer names the freshest token height it holds, never below the
 *   previous block's; a validator that does not hold that height yet finds
 *   the value not valid (yet) and asks the host for it (`tokenMissing`), a
 *   root other than its own at that height, or a height below the previous
 *   block's, is invalid. Execution then reads exactly that height's view. A
 *   cell that does not read the token has no such field: its values are
 *   byte for byte what they were before the field existed.
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
import { admitInput, cellReadsToken, executeBlock, type BlockInput, type BlockOutput, type BlockResult, type CellState, type ExecuteModules, type Rejected, type Verdict } from "../cells/index.js";
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
  /** Per downstream cell: outputs sent to it so far. */
  sent: Readonly<Record<string, number>>;
  /** Per upstream cell: the seq of the next output expected from it. */
  received: Readonly<Record<string, number>>;
  /** In a cell that reads the token: the token head the last block read (absent before the first block, and in other cells). */
  token?: TokenRead;
}

/** The token head a block's rules read: the token cell's height and its state root at that height. */
export interface TokenRead {
  height: number;
  root: string;
}

/** The token as committed at one token height, as the host holds it: the view rules read (runtime/token/view.ts) and its state root. */
export interface HeldTokenView {
  root: string;
  view: Json;
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
  sent: Record<string, number>;
  received: Record<string, number>;
  /** Only in a cell that reads the token: the token head its rules read. */
  token?: TokenRead;
}

/** An output of an upstream cell as a downstream block carries it (and as the deliveries port holds it). */
export interface DeliveredOutput {
  from: string;
  seq: number;
  data: Json;
  op?: string;
  signer: string | null;
}

/** An output of a committed block, numbered for its downstream cell. */
export interface SentOutput {
  to: string;
  seq: number;
  /** Index of the input that produced it in the block (the outputs hash covers it). */
  input: number;
  data: Json;
  op?: string;
  signer: string | null;
}

/** What the host gives the application besides the cells module's collaborators. */
export interface CellApplicationPorts {
  /**
   * The output `seq` of upstream cell `from` to this cell, when this node
   * holds it from a block of `from` whose certificate it verified; undefined
   * while it does not. A proposal carrying an output the node does not hold is
   * not valid here (yet): the round moves on and a later one succeeds.
   */
  deliveries?: (from: string, seq: number) => DeliveredOutput | undefined;
  /**
   * The token as committed at token height `height` (0: the genesis), when
   * this node holds it; undefined while it does not. Required by a cell that
   * reads the token (cells/token-reads.ts).
   */
  token?: (height: number) => HeldTokenView | undefined;
  /** The freshest token height a proposer names (it must hold it); the previous block's when absent. */
  tokenHead?: () => number;
  /** A value named a token height this node does not hold yet: the host fetches it (the next round can then succeed). */
  tokenMissing?: (height: number) => void;
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
  /** The outputs of `value` numbered for their downstream cells (same condition as verdictsOf). */
  outputsOf(value: Json): readonly SentOutput[] | undefined;
}

const VALUE_KEYS = ["height", "inputs", "outputsHash", "prevHash", "received", "sent", "stateRoot", "time", "verdicts"];
const SUBMISSION_KEYS = new Set(["data", "op", "signer", "signature"]);
const OUTPUT_KEYS = new Set(["from", "seq", "data", "op", "signer"]);
const HEX64 = /^[0-9a-f]{64}$/;
const hasOwn = Object.prototype.hasOwnProperty;

/** The genesis state of a cell: empty, at height 0. */
export function genesisCellChain(): CellChainState {
  const cell: CellState = {};
  return { height: 0, time: 0, cell, stateRoot: "", sent: {}, received: {} };
}

/** A verdict as it appears in a block: what validators must agree on, nothing measured, no message. */
export function verdictJson(v: Verdict): BlockVerdict {
  if (v.accepted) return { accepted: true };
  return v.rule === undefined ? { accepted: false, code: v.code } : { accepted: false, code: v.code, rule: v.rule };
}

/** The block entry of an output of an upstream cell. */
export function outputEntry(o: DeliveredOutput): Json {
  const out: Record<string, Json> = { from: o.from, seq: o.seq, data: o.data, signer: o.signer };
  if (o.op !== undefined) out.op = o.op;
  return { output: out };
}

/** An execution: the result, its verdicts as blocks carry them, the outputs hash, and the time its hooks took (measured: never hashed). */
type Run = { result: BlockResult; verdicts: BlockVerdict[]; outputsHash: string; hookMs: number; sent: Record<string, number>; numbered: SentOutput[] };
/** `{"output":` and `}` around an output entry's canonical text. */
const OUTPUT_WRAPPER_BYTES = '{"output":}'.length;
/**
 * An admitted entry: the input executeBlock takes, its canonical text (kept:
 * remainingInputs compares entries by it) and size, and for an output where it comes from.
 */
type Admitted = { input: BlockInput; text: string; bytes: number; output?: DeliveredOutput };
/**
 * What `examine` found: the value's fields as read once (a hostile object is
 * never read again), its admitted inputs and header hash; or why it is not a
 * block here.
 */
type Examined =
  | { block: CellBlockValue; inputs: BlockInput[]; outputs: DeliveredOutput[]; hash: string; timedOut: number[]; cut: number[]; received: Record<string, number>; token: TokenRead | undefined }
  | string;

/**
 * An Application for consensus on one cell of a channel plan. `modules.code`
 * supplies the sandbox runner when the cell has code; `ports.deliveries` the
 * certified outputs of upstream cells. Limits on blocks come from
 * `plan.blockLimits`, the same on every validator.
 * @throws StatecellError CONSENSUS_UNKNOWN_CELL when the plan has no such cell
 * @example
 * const app = cellApplication(plan, "ballots");
 * const config = { channel: plan.channel, cell: "ballots", validators, self, app, timeouts, verifier };
 */
export function cellApplication(plan: ChannelPlan, cellName: string, modules: ExecuteModules = {}, ports: CellApplicationPorts = {}): CellApplication {
  if (!hasOwn.call(plan.cells, cellName)) {
    throw new StatecellError("CONSENSUS_UNKNOWN_CELL", `the channel ${plan.channel} has no cell "${cellName}" to run consensus on`, {
      remedy: `use one of: ${Object.keys(plan.cells).sort().join(", ")}`,
      payload: { channel: plan.channel, cell: cellName },
    });
  }
  const cellPlan = plan.cells[cellName];
  const { maxInputs, maxBytes } = plan.blockLimits;
  const readsToken = cellReadsToken(plan, cellName);
  const tokenAt = ports.token;
  if (readsToken && tokenAt === undefined) {
    throw new StatecellError("CONSENSUS_NO_TOKEN_VIEW", `cell "${cellName}" of ${plan.channel} reads the token, but no token view was given`, {
      remedy: "pass ports.token (the token's committed views by height, e.g. the node's token follower) to cellApplication",
      payload: { channel: plan.channel, cell: cellName },
    });
  }
  const valueKeys = readsToken ? [...VALUE_KEYS, "token"].sort() : VALUE_KEYS;
  const memo = new WeakMap<object, WeakMap<object, Run>>();
  const full = new WeakMap<object, readonly Verdict[]>();
  const numberedOf = new WeakMap<object, readonly SentOutput[]>();
  const ids = new WeakMap<object, string>();
  const admissions = new WeakMap<object, Admitted | Rejected>();

  const refuse = (code: string, message: string): Rejected => ({ accepted: false, code, message });

  /** Admission of one block entry, remembered per object (a signature check costs ~80 us). */
  function admit(raw: unknown): Admitted | Rejected {
    const key = typeof raw === "object" && raw !== null ? raw : undefined;
    const known = key && admissions.get(key);
    if (known) return known;
    let out: Admitted | Rejected;
    try {
      out = admitEntry(raw);
    } catch {
      out = refuse("CELL_BAD_SUBMISSION", "the entry cannot be read as JSON");
    }
    if (!("accepted" in out) && out.bytes > maxBytes) {
      // Larger than a whole block: it could never be proposed, so it is refused like any oversized input.
      out = refuse("CELL_TOO_LARGE", `the submission is ${out.bytes} bytes, over the block limit of ${maxBytes}`);
    }
    if (key) admissions.set(key, out);
    return out;
  }

  function admitEntry(raw: unknown): Admitted | Rejected {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      return refuse("CELL_BAD_SUBMISSION", 'a submission is an object { "data": ..., "op"?, "signer"?, "signature"? }');
    }
    const r = raw as Record<string, unknown>;
    const keys = Object.keys(r);
    if (keys.length === 1 && keys[0] === "output") return admitOutput(r.output);
    if (!hasOwn.call(r, "data") || keys.some((k) => !SUBMISSION_KEYS.has(k))) {
      return refuse("CELL_BAD_SUBMISSION", `a submission has the keys data, and op, signer, signature when they apply${keys.some((k) => !SUBMISSION_KEYS.has(k)) ? `; remove ${keys.filter((k) => !SUBMISSION_KEYS.has(k)).join(", ")}` : ""}`);
    }
    const a = admitSubmission(plan, cellName, raw);
    if ("accepted" in a) return a;
    const text = canonicalString(raw as Json);
    return { input: a, text, bytes: utf8Length(text) };
  }

  /** An output entry: well formed, from an upstream cell (its certification is checked against `deliveries`). */
  function admitOutput(o: unknown): Admitted | Rejected {
    if (typeof o !== "object" || o === null || Array.isArray(o)) return refuse("CELL_BAD_SUBMISSION", "an output entry is { output: { from, seq, data, op?, signer } }");
    const e = o as Record<string, unknown>;
    const bad = Object.keys(e).filter((k) => !OUTPUT_KEYS.has(k));
    if (bad.length > 0 || !hasOwn.call(e, "data") || !hasOwn.call(e, "signer")) return refuse("CELL_BAD_SUBMISSION", "an output entry has exactly from, seq, data, signer and, when it applies, op");
    if (typeof e.from !== "string" || !cellPlan.upstream.includes(e.from)) return refuse("CELL_NOT_A_SOURCE", `cell "${cellName}" takes no outputs of ${JSON.stringify(e.from)}`);
    if (typeof e.seq !== "number" || !Number.isSafeInteger(e.seq) || e.seq < 0) return refuse("CELL_BAD_SUBMISSION", "an output's seq is a whole number from 0");
    if (e.signer !== null && (typeof e.signer !== "string" || !HEX64.test(e.signer))) return refuse("CELL_BAD_SUBMISSION", "an output's signer is null or 64 lowercase hex characters");
    if (hasOwn.call(e, "op") && typeof e.op !== "string") return refuse("CELL_BAD_SUBMISSION", "an output's op is text");
    const output: DeliveredOutput = { from: e.from, seq: e.seq, data: e.data as Json, signer: e.signer as string | null };
    if (typeof e.op === "string") output.op = e.op;
    const input: BlockInput = { data: output.data, signer: output.signer, source: { cell: output.from } };
    if (output.op !== undefined) input.op = output.op;
    // The entry's text ({"output":...}); its size is the output's, without the 11 bytes of the wrapper.
    const text = canonicalString({ output: o } as Json);
    return { input, text, bytes: utf8Length(text) - OUTPUT_WRAPPER_BYTES, output };
  }

  // The block hash that seeds hooks' randomness: fixed by the proposal before execution.
  const headerHash = (height: number, prevHash: string, time: number, raw: readonly Json[]) =>
    hashJson("cell-block-header", { channel: plan.channel, cell: cellName, height, prevHash, time, inputs: raw as Json[] });

  /**
   * Executes admitted inputs. `verify` (validator mode: re-executing a
   * proposal, or applying a certified value) lists the block indexes the
   * block's verdicts mark SANDBOX_TIMEOUT and SANDBOX_BLOCK_BUDGET; the sandbox
   * judges them with its agreement margins (docs/sandbox.md, "Timeouts").
   * executeBlock throws only on caller errors, so a throw means this node is
   * broken: CONSENSUS_APP_FAULT.
   */
  function run(
    state: CellChainState,
    height: number,
    prevHash: string,
    time: number,
    hash: string,
    inputs: BlockInput[],
    token: Json | undefined,
    verify?: { timedOut: readonly number[]; cut: readonly number[] },
  ): Run {
    // One block budget per execution, so the time its hooks took together can be judged (validateValue).
    const budget = { spentMs: 0 };
    const hookOptions =
      verify === undefined
        ? { ...modules.hookOptions, budget }
        : { ...modules.hookOptions, budget, verify: verify.cut.length > 0 ? { timedOut: verify.timedOut, blockBudget: verify.cut } : { timedOut: verify.timedOut } };
    // A cell that reads the token reads the view its block names; the others run as they always did.
    const exec = token === undefined ? { ...modules, hookOptions } : { ...modules, hookOptions, token };
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
    const { sent, numbered } = numberOutputs(state.sent, result.outputs);
    const outputsHash = outputsHashOf(result.outputs);
    return { result, verdicts: result.verdicts.map(verdictJson), outputsHash, hookMs: budget.spentMs, sent, numbered };
  }

  function remember(state: CellChainState, value: object, r: Run): void {
    let byState = memo.get(value);
    if (!byState) memo.set(value, (byState = new WeakMap()));
    byState.set(state, r);
    full.set(value, r.result.verdicts);
    numberedOf.set(value, r.numbered);
  }

  /** The next `received` after the output entries `outputs` (in block order), or why they are out of order. */
  function advance(received: Readonly<Record<string, number>>, outputs: readonly DeliveredOutput[]): Record<string, number> | string {
    const next: Record<string, number> = { ...received };
    for (const o of outputs) {
      const want = next[o.from] ?? 0;
      if (o.seq !== want) return `it carries output ${o.seq} of cell "${o.from}" where ${want} is next (outputs enter in order, none skipped or twice)`;
      next[o.from] = want + 1;
    }
    return next;
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
      if (keys.length !== valueKeys.length || keys.some((k, i) => k !== valueKeys[i])) return `it has the fields ${keys.join(", ")}, not ${valueKeys.join(", ")}`;
      const v = value as Record<string, Json>;
      if (!Number.isSafeInteger(v.height) || typeof v.prevHash !== "string" || !Number.isSafeInteger(v.time)) return "its height, prevHash or time has the wrong type";
      if (!Array.isArray(v.inputs) || !Array.isArray(v.verdicts) || v.verdicts.length !== v.inputs.length) return "its inputs and verdicts are not two lists of one length";
      if (typeof v.stateRoot !== "string" || typeof v.outputsHash !== "string") return "its stateRoot or outputsHash is not text";
      if (!isCounts(v.sent) || !isCounts(v.received)) return "its sent or received is not an object of counts";
      if (v.height !== height) return `its height is ${String(v.height)}, not ${height}`;
      if (prevHash !== undefined && v.prevHash !== prevHash) return `it follows ${String(v.prevHash).slice(0, 16)}, not ${prevHash.slice(0, 16)}`;
      if ((v.time as number) <= state.time) return `its time ${String(v.time)} is not after the previous block's ${state.time}`;
      const raw = v.inputs;
      if (raw.length > maxInputs) return `it carries ${raw.length} inputs, over the block limit of ${maxInputs}`;
      const inputs: BlockInput[] = new Array<BlockInput>(raw.length);
      const outputs: DeliveredOutput[] = [];
      const timedOut: number[] = [];
      const cut: number[] = [];
      let bytes = 0;
      for (let i = 0; i < raw.length; i++) {
        const a = admit(raw[i]);
        if ("accepted" in a) return `its input ${i} is refused at admission (${a.code})`;
        bytes += a.bytes;
        if (bytes > maxBytes) return `its submissions are over the block limit of ${maxBytes} bytes`;
        inputs[i] = a.input;
        if (a.output !== undefined) outputs.push(a.output);
        // Hooks number inputs by their block index: every input of a block passed admission.
        const p = v.verdicts[i];
        if (typeof p === "object" && p !== null && !Array.isArray(p) && p.code === "SANDBOX_TIMEOUT") timedOut.push(i);
        if (typeof p === "object" && p !== null && !Array.isArray(p) && p.code === "SANDBOX_BLOCK_BUDGET") cut.push(i);
      }
      const received = advance(state.received, outputs);
      if (typeof received === "string") return received;
      let token: TokenRead | undefined;
      if (readsToken) {
        const t = tokenReadOf(v.token);
        if (typeof t === "string") return t;
        const floor = state.token?.height ?? 0;
        if (t.height < floor) return `it reads the token at height ${t.height}, below the previous block's ${floor} (the token a cell reads never goes back)`;
        token = t;
      }
      const block: CellBlockValue = {
        height: v.height as number,
        prevHash: v.prevHash as string,
        time: v.time as number,
        inputs: raw,
        verdicts: v.verdicts as BlockVerdict[],
        stateRoot: v.stateRoot as string,
        outputsHash: v.outputsHash as string,
        sent: v.sent as Record<string, number>,
        received: v.received as Record<string, number>,
      };
      if (token !== undefined) block.token = token;
      return { block, inputs, outputs, hash: headerHash(block.height, block.prevHash, block.time, raw), timedOut, cut, received, token };
    } catch {
      return "it cannot be read as JSON";
    }
  }

  /** Where the re-executed `r` differs from what `v` commits to, or undefined. */
  function difference(r: Run, v: CellBlockValue, received: Record<string, number>): string | undefined {
    if (r.result.stateRoot !== v.stateRoot) return `commits to state root ${v.stateRoot}, but this node computes ${r.result.stateRoot}`;
    if (r.outputsHash !== v.outputsHash) return `commits to outputs hash ${v.outputsHash}, but this node computes ${r.outputsHash}`;
    if (canonicalString(r.sent) !== canonicalString(v.sent)) return `counts the outputs sent as ${canonicalString(v.sent)}, but this node counts ${canonicalString(r.sent)}`;
    if (canonicalString(received) !== canonicalString(v.received)) return `counts the outputs received as ${canonicalString(v.received)}, but this node counts ${canonicalString(received)}`;
    for (let i = 0; i < r.verdicts.length; i++) {
      if (!sameVerdict(r.verdicts[i], v.verdicts[i])) return `has another verdict for input ${i} than this node's ${JSON.stringify(r.verdicts[i])}`;
    }
    return undefined;
  }

  /** Whether every output entry is one this node holds from a certified upstream block, unchanged. */
  function delivered(outputs: readonly DeliveredOutput[]): boolean {
    if (outputs.length === 0) return true;
    const lookup = ports.deliveries;
    if (lookup === undefined) return false;
    for (const o of outputs) {
      const held = lookup(o.from, o.seq);
      if (held === undefined || canonicalString(outputEntry(held)) !== canonicalString(outputEntry(o))) return false;
    }
    return true;
  }

  function diverged(height: number, detail: string, payload: Record<string, unknown>): StatecellError {
    return new StatecellError("CONSENSUS_APP_DIVERGED", `cell "${cellName}" of ${plan.channel}, height ${height}: the certified block ${detail}`, {
      remedy:
        "stop this node: a quorum of its group certified a block it does not reproduce. Check that it runs the group's channel definition (plan hash), code files and statecell version, then rebuild its cell state from a snapshot or from genesis; if it does, more validators than the threshold tolerates are faulty",
      payload: { cell: cellName, height, ...payload },
    });
  }

  const chainAfter = (v: CellBlockValue, r: Run, received: Record<string, number>): CellChainState => {
    const c: CellChainState = { height: v.height, time: v.time, cell: r.result.state, stateRoot: r.result.stateRoot, sent: r.sent, received };
    if (readsToken && v.token !== undefined) c.token = { height: v.token.height, root: v.token.root };
    return c;
  };

  /** The view a block naming `t` reads: the node's view at that height, or why there is none (not held yet, another root). */
  function viewOf(t: TokenRead | undefined): { view: Json | undefined } | { missing: number; why: string } | { why: string } {
    if (t === undefined) return { view: undefined };
    const held = tokenAt!(t.height);
    if (held === undefined) return { missing: t.height, why: `reads the token at height ${t.height}, which this node does not hold` };
    if (held.root !== t.root) return { why: `reads the token at height ${t.height} with the root ${t.root.slice(0, 16)}, but this node's token state there has the root ${held.root.slice(0, 16)}` };
    return { view: held.view };
  }

  /** The token head a proposer names: the freshest it holds, never below the previous block's. */
  function proposedToken(state: CellChainState, height: number): { read: TokenRead; view: Json } {
    const floor = state.token?.height ?? 0;
    const fresh = ports.tokenHead?.() ?? floor;
    for (const h of fresh > floor ? [fresh, floor] : [floor]) {
      const held = tokenAt!(h);
      if (held !== undefined) return { read: { height: h, root: held.root }, view: held.view };
    }
    throw new StatecellError("CONSENSUS_APP_FAULT", `cell "${cellName}" of ${plan.channel}: building block ${height}, this node holds no token view at height ${floor}, which the previous block read`, {
      remedy: "the token state a committed block relied on is gone from this node: restore its ledger, or let it catch the token up from the token's group, then restart it",
      payload: { cell: cellName, height, cause: null },
    });
  }

  return {
    buildValue({ height, prevHash, time, state, pending }) {
      const t = Math.max(Math.floor(time), state.time + 1);
      const raw: Json[] = [];
      const inputs: BlockInput[] = [];
      const outputs: DeliveredOutput[] = [];
      const next: Record<string, number> = { ...state.received };
      let bytes = 0;
      for (const p of pending) {
        if (raw.length >= maxInputs) break;
        const a = admit(p);
        if ("accepted" in a) continue; // refused: never in a block; remainingInputs drops it
        // An output enters only as the next one of its upstream cell, and only when this node holds it certified.
        if (a.output !== undefined && (a.output.seq !== (next[a.output.from] ?? 0) || !delivered([a.output]))) continue;
        if (bytes + a.bytes > maxBytes) break; // the rest waits for the next block, in order
        bytes += a.bytes;
        raw.push(p);
        inputs.push(a.input);
        if (a.output !== undefined) {
          outputs.push(a.output);
          next[a.output.from] = a.output.seq + 1;
        }
      }
      const tok = readsToken ? proposedToken(state, height) : undefined;
      const r = run(state, height, prevHash, t, headerHash(height, prevHash, t, raw), inputs, tok?.view);
      const value: CellBlockValue = {
        height,
        prevHash,
        time: t,
        inputs: raw,
        verdicts: r.verdicts,
        stateRoot: r.result.stateRoot,
        outputsHash: r.outputsHash,
        sent: r.sent,
        received: next,
      };
      if (tok !== undefined) value.token = tok.read;
      remember(state, value, r);
      return value as unknown as Json;
    },

    validateValue({ height, prevHash, state, certified }, value) {
      const e = examine(state, value, height, prevHash);
      if (typeof e === "string") return false;
      // A certified block's outputs were checked delivered by the quorum that signed it (applyValue trusts them the same way).
      if (certified !== true && !delivered(e.outputs)) return false;
      const tv = viewOf(e.token);
      if (!("view" in tv)) {
        // Not held yet: not valid here yet (the host fetches it; a later round or catch-up succeeds). Another root: invalid.
        if ("missing" in tv) ports.tokenMissing?.(tv.missing);
        return false;
      }
      const r = run(state, height, prevHash, e.block.time, e.hash, e.inputs, tv.view, e);
      let d: string | undefined;
      try {
        d = difference(r, e.block, e.received);
      } catch {
        return false; // verdicts that cannot be read
      }
      if (d !== undefined) return false;
      // The proposer said the block's hook time ran out: believe it only if this node's own hooks took a fair share of it.
      if (e.cut.length > 0 && certified !== true && !blockBudgetAgrees(r.hookMs, cellPlan.limits.blockTimeMs)) return false;
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
        return chainAfter(v, known, v.received);
      }
      // Not validated on this very state (a restart, a ledger replay, catch-up): execute as a validator does, with
      // the block's verdicts, and insist on its result. A certified block this node cannot reproduce is a fault,
      // never a quiet fork of its state. Its outputs are certified with it: no delivery is needed to apply it.
      const e = examine(state, value, state.height + 1, undefined);
      if (typeof e === "string") throw diverged(state.height + 1, `cannot follow this node's state at height ${state.height}: ${e}`, {});
      const v = e.block;
      const tv = viewOf(e.token);
      if (!("view" in tv)) throw diverged(v.height, tv.why, { token: e.token ?? null });
      const r = run(state, v.height, v.prevHash, v.time, e.hash, e.inputs, tv.view, e);
      let d: string | undefined;
      try {
        d = difference(r, v, e.received);
      } catch {
        d = "has verdicts that cannot be read";
      }
      if (d !== undefined) throw diverged(v.height, d, { expected: v.stateRoot, actual: r.result.stateRoot });
      remember(state, value as object, r);
      return chainAfter(v, r, e.received);
    },

    remainingInputs(pending, value) {
      const v = value as unknown as CellBlockValue;
      const carried = v.inputs;
      const same = new Set<unknown>(carried);
      // Equal submissions have equal canonical text; built only when some pending input is another object.
      // Each entry's text is its admission's, remembered per object: a pool entry's is computed once, not at
      // every decision (a validator's copies of the block's inputs are other objects than its pool's).
      let texts: Set<string> | undefined;
      const textOf = (i: Json): string => {
        const a = admit(i);
        return "accepted" in a ? canonicalString(i) : a.text;
      };
      return pending.filter((p) => {
        const a = admit(p);
        if ("accepted" in a) return false; // refused at admission: it can never enter a block
        if (a.output !== undefined) return a.output.seq >= (v.received[a.output.from] ?? 0); // consumed ones are done
        if (same.has(p)) return false;
        texts ??= new Set(carried.map(textOf));
        return !texts.has(a.text);
      });
    },

    verdictsOf(value) {
      return typeof value === "object" && value !== null ? full.get(value) : undefined;
    },

    outputsOf(value) {
      return typeof value === "object" && value !== null ? numberedOf.get(value) : undefined;
    },
  };
}

/**
 * Admission of a submission as clients send it, `{ data, op?, signer?,
 * signature? }`, to `cellName`: the form admitInput takes for the cell (the
 * envelope for a signed cell or one with operations, the data with a detached
 * signature otherwise). The node's mempool and the cell application admit
 * with this one function, so a node never acknowledges what its blocks refuse.
 */
export function admitSubmission(plan: ChannelPlan, cellName: string, raw: unknown): BlockInput | Rejected {
  const refuse = (code: string, message: string): Rejected => ({ accepted: false, code, message });
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return refuse("CELL_BAD_SUBMISSION", 'a submission is an object { "data": ..., "op"?, "signer"?, "signature"? }');
  const r = raw as Record<string, unknown>;
  const extra = Object.keys(r).filter((k) => !SUBMISSION_KEYS.has(k));
  if (!hasOwn.call(r, "data") || extra.length > 0) {
    return refuse("CELL_BAD_SUBMISSION", `a submission has the keys data, and op, signer, signature when they apply${extra.length > 0 ? `; remove ${extra.slice(0, 8).join(", ")}` : ""}`);
  }
  const cell = hasOwn.call(plan.cells, cellName) ? plan.cells[cellName] : undefined;
  if (cell === undefined) return refuse("CELL_UNKNOWN_CELL", `the channel ${plan.channel} has no cell "${cellName}"`);
  if (cell.signed || cell.operations !== undefined) return admitInput(plan, cellName, raw);
  if (hasOwn.call(r, "op")) return refuse("CELL_UNKNOWN_OP", `cell "${cellName}" has no operations, so a submission names none (drop "op")`);
  if (hasOwn.call(r, "signer") || hasOwn.call(r, "signature")) return admitInput(plan, cellName, r.data, { signer: r.signer as string, signature: r.signature as string });
  return admitInput(plan, cellName, r.data);
}

/** The outputs hash of a block's outputs (in block order): what a downstream node checks delivered outputs against. */
export function outputsHashOf(outputs: ReadonlyArray<Pick<BlockOutput, "to" | "input" | "data" | "signer" | "op">>): string {
  return hashJson("cell-outputs", outputs.map(outputJson) as Json);
}

/** An output as the outputs hash covers it. */
function outputJson(o: Pick<BlockOutput, "to" | "input" | "data" | "signer" | "op">): Json {
  const out: Record<string, Json> = { to: o.to, input: o.input, data: o.data, signer: o.signer };
  if (o.op !== undefined) out.op = o.op;
  return out;
}

/** `sent` after `outputs`, and the outputs numbered per downstream cell in block order. */
function numberOutputs(before: Readonly<Record<string, number>>, outputs: readonly BlockOutput[]): { sent: Record<string, number>; numbered: SentOutput[] } {
  const sent: Record<string, number> = { ...before };
  const numbered: SentOutput[] = [];
  for (const o of outputs) {
    const seq = sent[o.to] ?? 0;
    sent[o.to] = seq + 1;
    const n: SentOutput = { to: o.to, seq, input: o.input, data: o.data, signer: o.signer };
    if (o.op !== undefined) n.op = o.op;
    numbered.push(n);
  }
  return { sent, numbered };
}

function isCounts(v: unknown): v is Record<string, number> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  for (const k of Object.keys(v)) {
    const n = (v as Record<string, unknown>)[k];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) return false;
  }
  return true;
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

/** A value's `token` field read as `{ height, root }`, or why it is not one. */
function tokenReadOf(t: unknown): TokenRead | string {
  if (typeof t !== "object" || t === null || Array.isArray(t)) return "its token is not { height, root }";
  const keys = Object.keys(t).sort();
  if (keys.length !== 2 || keys[0] !== "height" || keys[1] !== "root") return "its token has other fields than height and root";
  const o = t as { height: unknown; root: unknown };
  if (typeof o.height !== "number" || !Number.isSafeInteger(o.height) || o.height < 0) return "its token height is not a whole number from 0";
  if (typeof o.root !== "string" || !HEX64.test(o.root)) return "its token root is not 64 lowercase hex characters";
  return { height: o.height, root: o.root };
}
