/**
 * executeBlock: the pure state transition of one cell for one block
 * (BRIEF.md "Block execution semantics"). Same plan, state, inputs and header
 * give the same verdicts, state, outputs and state root on every machine:
 * no clock, no randomness, no I/O, no iteration over unordered collections.
 *
 * Per input, in order: limits -> schema -> rules (state as updated by the
 * earlier accepted inputs) -> validate hook -> record key (write-once) ->
 * state updates -> outputs. One rejected input never rejects its neighbours.
 *
 * Every expression of one input (rules, key, paths, values, when, emit
 * mappings) sees the same `state`: the state before that input. That makes an
 * input's effect independent of the order its own updates are written in, and
 * lets emits be evaluated before updates (no undo needed for a faulting emit).
 *
 * Code hooks run once per block each (batched: ~1M objects/s per call against
 * ~200k/s one call per input, PERFORMANCE.md). validate sees the state at the
 * block start so it can run before the host pass. reduce and transform run
 * after it over the accepted inputs; when one rejects or faults an input, the
 * host pass runs again without that input (its state effects, records and
 * outputs vanish, and later inputs see a state without them) until no hook
 * rejects anything: a deterministic fixed point, reached in at most n+1
 * passes because every extra pass removes at least one input.
 */
import type { Json } from "../core/canonical.js";
import { canonicalBytes, canonicalString } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { CellPlan, ChannelPlan, StateUpdatePlan, ValidateFn } from "../definition/plan.js";
import type { CompiledExpr, RuleContext } from "../rules/index.js";
import { isTruthy } from "../rules/truthy.js";
import type {
  BlockHeader,
  BlockInput,
  BlockOutput,
  BlockResult,
  CellState,
  CodeRunner,
  ExecuteModules,
  HookContext,
  HookRunOptions,
  PhaseTimings,
  Rejected,
  SandboxFault,
  ValidateResult,
  Verdict,
} from "./types.js";
import { FORBIDDEN_KEYS, inexactNumber, inspectValue, nameProblem, reject } from "./inspect.js";
import { recordGet, recordsAppend } from "./records-store.js";
import { materializeRecords } from "./records-view.js";
import { isWide } from "./wide-object.js";
import { wasAdmitted } from "./admit.js";
import { liveStateView, type LiveSource } from "./live-state.js";
import { ruleMessage } from "./messages.js";
import {
  addAt,
  appendAt,
  checkpoint,
  commitInput,
  containsOwned,
  removeAt,
  rollback,
  setAt,
  shareUnchanged,
  startUser,
  type UserWorking,
} from "./user-state.js";
import { chainRoot, combineRoots, deepFreeze, extendChain, internalsOf, register, visibleState, type StateInternals } from "./commitment.js";
import { userDigest } from "./state-digest.js";
import { toHex } from "./digest.js";

/** Longest record key, in UTF-16 units: keys are ids, not documents. */
export const MAX_KEY_LENGTH = 1024;

const ACCEPTED: Verdict = Object.freeze({ accepted: true }) as Verdict;

/**
 * Executes one block of `inputs` against `cellName`'s `state`.
 *
 * @example
 * const r = executeBlock(plan, "readings", {}, [admitted], { height: 1, time: 1700000001000, hash: "ab.." });
 * r.verdicts[0]; // { accepted: true } or { accepted: false, code: "CELL_RULE", rule: "plausible", message: "..." }
 * @throws StatecellError CELL_UNKNOWN_CELL, CELL_NO_CODE_RUNNER, CELL_BAD_STATE, CELL_NO_COMMITMENT
 *   (caller errors, never caused by an input: inputs only ever produce verdicts).
 */
export function executeBlock(
  plan: ChannelPlan,
  cellName: string,
  state: CellState,
  inputs: readonly BlockInput[],
  header: BlockHeader,
  modules: ExecuteModules = {},
): BlockResult {
  const cell = Object.prototype.hasOwnProperty.call(plan.cells, cellName) ? plan.cells[cellName] : undefined;
  if (cell === undefined) {
    throw new StatecellError("CELL_UNKNOWN_CELL", `the channel ${plan.channel} has no cell "${cellName}"`, {
      remedy: `use one of: ${Object.keys(plan.cells).sort().join(", ")}`,
    });
  }
  const runner = cell.code !== undefined && cell.code.hooks.length > 0 ? modules.code?.(cellName) : undefined;
  if (cell.code !== undefined && cell.code.hooks.length > 0 && runner === undefined) {
    throw new StatecellError("CELL_NO_CODE_RUNNER", `cell "${cellName}" has code (${cell.code.path}) but no code runner was given`, {
      remedy: "pass modules.code = (cell) => createCodeRunner(...) from runtime/sandbox",
    });
  }
  const clock = modules.timings !== undefined && modules.now !== undefined ? modules.now : undefined;
  const timings = modules.timings;
  let t0 = clock ? clock() : 0;
  const lap = (phase: keyof PhaseTimings): void => {
    if (!clock || !timings) return;
    const t = clock();
    timings[phase] += t - t0;
    t0 = t;
  };

  const start = internalsOf(state);
  const n = inputs.length;
  const block = { height: header.height, time: header.time, hash: header.hash };
  const params = (plan.document as { params?: Json } | null)?.params;
  const channel = { name: plan.channel, version: plan.version, hash: plan.hash, params: params ?? null };
  const token: Json = modules.token ?? null;
  const { maxBytes, maxDepth } = plan.inputLimits;

  // 1. Checks that depend on the input alone: done once, whatever the passes.
  const pre: Array<Rejected | undefined> = new Array<Rejected | undefined>(n);
  const bytes: Uint8Array[] = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) {
    const input = inputs[i];
    if (cell.signed && (typeof input.signer !== "string" || input.signer === "")) {
      pre[i] = reject("CELL_UNSIGNED", `cell "${cellName}" accepts only signed inputs, and this one has no signer`);
      continue;
    }
    const trusted = input.bytes !== undefined && wasAdmitted(input);
    const bad = trusted ? undefined : inspectValue(input.data, maxDepth, maxBytes);
    if (bad) {
      pre[i] = bad;
      continue;
    }
    let b = input.bytes;
    if (b === undefined) {
      try {
        b = canonicalBytes(input.data);
      } catch (e) {
        pre[i] = reject("CELL_NOT_JSON", `the input has no canonical JSON encoding: ${(e as Error).message}`);
        continue;
      }
    }
    if (b.length > maxBytes) {
      pre[i] = reject("CELL_TOO_LARGE", `the input is ${b.length} bytes, over the limit of ${maxBytes}`);
      continue;
    }
    bytes[i] = b;
  }
  lap("limits");
  const validate = cell.accepts.validate;
  for (let i = 0; i < n; i++) {
    if (pre[i] !== undefined) continue;
    if (!validate(inputs[i].data)) pre[i] = schemaRejection(cell, validate.errors);
  }
  lap("schema");

  // 2. validate hook: one batch over the inputs that passed, against the block-start state.
  const hooks = new Set(runner?.hooks ?? []);
  let startPlain: Json | undefined;
  const plainStart = (): Json => (startPlain ??= plainStateOf(start));
  const validated: Array<ValidateResult | undefined> = new Array<ValidateResult | undefined>(n);
  if (runner !== undefined && hooks.has("validate")) {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (pre[i] === undefined) idx.push(i);
    if (idx.length > 0) {
      const res = runner.validate(
        idx.map((i) => ({ data: inputs[i].data, ctx: hookCtx(block, inputs[i], i, plainStart()) })),
        modules.hookOptions,
      );
      idx.forEach((i, j) => (validated[i] = res[j] ?? missingResult("validate")));
    }
    lap("hooks");
  }

  // 3. Host passes until no hook rejects an accepted input.
  const excluded = new Map<number, Rejected>();
  const env: PassEnv = {
    cell,
    cellName,
    inputs,
    pre,
    validated,
    excluded,
    block,
    channel,
    token,
    start,
    lap,
    transform: runner !== undefined && hooks.has("transform"),
    hookOptions: modules.hookOptions,
    outputLimits: plan.outputLimits,
  };
  let passes = 0;
  let pass: PassResult;
  let finalUser: Record<string, Json>;
  let outputs: BlockOutput[];
  for (;;) {
    passes++;
    pass = hostPass(env);
    finalUser = pass.w.root;
    outputs = pass.outputs;
    let changed = false;
    if (runner !== undefined && hooks.has("reduce") && pass.accepted.length > 0) {
      const r = runReduce(runner, pass, env, plainStart());
      changed = r.changed;
      if (r.user !== undefined) finalUser = r.user;
      lap("hooks");
    }
    if (!changed && runner !== undefined && hooks.has("transform") && pass.accepted.length > 0) {
      const t = runTransform(runner, pass, env, plainStart(), state);
      changed = t.changed;
      outputs = t.outputs;
      lap("hooks");
    }
    if (!changed) break;
  }

  const verdicts: Verdict[] = new Array<Verdict>(n);
  let accepted = 0;
  for (let i = 0; i < n; i++) {
    const v = pre[i] ?? excluded.get(i) ?? pass.verdicts[i];
    verdicts[i] = v;
    if (v.accepted) accepted++;
  }

  // 4. Commit: the records chain takes the new records; the user digest rehashes what was replaced.
  if (runner !== undefined && hooks.has("reduce") && finalUser !== start.user) {
    // A fresh copy from the sandbox: keep the identity of what did not change, so its digest is reused.
    finalUser = deepFreeze(shareUnchanged(start.user, finalUser)) as Record<string, Json>;
  }
  if (pass.added.length === 0 && finalUser === start.user) {
    lap("hash");
    return {
      verdicts,
      state,
      outputs,
      stateRoot: toHex(start.stateRoot),
      commitment: { recordsRoot: toHex(start.recordsRoot), recordCount: start.chain.count },
      userRoot: toHex(start.userRoot),
      accepted,
      passes,
    };
  }
  for (const c of pass.w.owned) if (!isWide(c)) Object.freeze(c);
  const records = recordsAppend(start.records, pass.src.added);
  lap("update");
  const chain = extendChain(
    start.chain,
    pass.added.map((a) => ({ key: a.key, bytes: bytes[a.index] })),
  );
  const recordsRoot = chain === start.chain ? start.recordsRoot : chainRoot(chain);
  const userRoot = finalUser === start.user ? start.userRoot : userDigest(finalUser);
  const stateRoot = combineRoots(recordsRoot, userRoot);
  const commitment = { recordsRoot: toHex(recordsRoot), recordCount: chain.count };
  lap("hash");
  const next = Object.freeze(visibleState(finalUser, records));
  register(next, { user: finalUser, records, chain, recordsRoot, userRoot, stateRoot });
  lap("update");
  return { verdicts, state: next, outputs, stateRoot: toHex(stateRoot), commitment, userRoot: toHex(userRoot), accepted, passes };
}

interface PassEnv {
  cell: CellPlan;
  cellName: string;
  inputs: readonly BlockInput[];
  pre: ReadonlyArray<Rejected | undefined>;
  validated: ReadonlyArray<ValidateResult | undefined>;
  excluded: Map<number, Rejected>;
  block: RuleContext["block"];
  channel: RuleContext["channel"];
  token: Json;
  start: StateInternals;
  lap: (phase: keyof PhaseTimings) => void;
  /** Outputs come from a transform hook (emits run after it), not inline. */
  transform: boolean;
  hookOptions: HookRunOptions | undefined;
  outputLimits: ChannelPlan["outputLimits"];
}

/** Outputs of the current input and of the block so far (count and canonical JSON bytes). */
interface OutputTally {
  /** Sizes of the current input's outputs, parallel to its output list. */
  sizes: number[];
  blockCount: number;
  blockBytes: number;
}

interface PassResult {
  verdicts: Verdict[];
  accepted: number[];
  w: UserWorking;
  /** Records at the block start and those this pass added. */
  src: LiveSource;
  added: Array<{ key: string; index: number }>;
  outputs: BlockOutput[];
}

type Planned = { op: StateUpdatePlan["op"]; segs: string[]; value: Json };

/** One host pass over the inputs not rejected by pre-checks or hooks. */
function hostPass(env: PassEnv): PassResult {
  const { cell, inputs, pre, validated, excluded, start } = env;
  const n = inputs.length;
  const w = startUser(start.user);
  const src: LiveSource = { user: w.root, records: start.records, added: new Map() };
  const liveState = liveStateView(src);
  const verdicts: Verdict[] = new Array<Verdict>(n);
  const accepted: number[] = [];
  const added: Array<{ key: string; index: number }> = [];
  const outputs: BlockOutput[] = [];
  const emitInline = !env.transform;
  const lap = env.lap;
  const planned: Planned[] = [];
  const outs: BlockOutput[] = [];
  const tally: OutputTally = { sizes: [], blockCount: 0, blockBytes: 0 };
  for (let i = 0; i < n; i++) {
    if (pre[i] !== undefined || excluded.has(i)) continue;
    const input = inputs[i];
    const ctx: RuleContext = {
      data: input.data,
      state: liveState,
      block: env.block,
      signer: input.signer ?? null,
      token: env.token,
      channel: env.channel,
    };
    // Rules, in order; the first that fails rejects.
    let verdict: Rejected | undefined;
    for (const rule of cell.rules) {
      let ok: boolean;
      try {
        ok = rule.compiled(ctx);
      } catch (e) {
        verdict = fault(e, `rule "${rule.name}" could not be evaluated`, rule.name);
        break;
      }
      if (!ok) {
        verdict = reject("CELL_RULE", ruleMessage(rule, ctx), undefined, rule.name);
        break;
      }
    }
    if (verdict === undefined) {
      const v = validated[i];
      if (v !== undefined && !("ok" in v && v.ok)) {
        verdict = "fault" in v ? reject(v.fault, v.message) : reject("CELL_CODE_REJECT", v.reason);
      }
    }
    lap("rules");
    // Record key: write-once across blocks and within this one.
    let key: string | undefined;
    if (verdict === undefined && cell.key !== undefined) {
      const k = evalKey(cell.key, ctx);
      if (typeof k !== "string") verdict = k;
      else if (src.added.has(k) || recordGet(src.records, k) !== undefined) {
        verdict = reject("CELL_DUPLICATE_KEY", `a record with key "${k}" already exists; records are write-once`, `/records/${k}`);
      } else key = k;
    }
    // Evaluate every update and emit against the state before this input, then apply.
    if (verdict === undefined) {
      if (planned.length > 0) planned.length = 0;
      verdict = planUpdates(cell.state, ctx, planned);
    }
    lap("update");
    if (verdict === undefined && emitInline) {
      if (outs.length > 0) outs.length = 0;
      tally.sizes.length = 0;
      verdict = evalEmits(env, i, ctx, w.owned, outs, tally.sizes) ?? checkOutputLimits(env.outputLimits, tally);
      lap("emit");
    }
    if (verdict === undefined && planned.length > 0) {
      const cp = checkpoint(w);
      for (const p of planned) {
        verdict = p.op === "set" ? setAt(w, p.segs, p.value) : p.op === "add" ? addAt(w, p.segs, p.value) : p.op === "append" ? appendAt(w, p.segs, p.value) : removeAt(w, p.segs);
        if (verdict !== undefined) break;
      }
      if (verdict !== undefined) rollback(w, cp);
      else commitInput(w);
      src.user = w.root;
    }
    if (verdict !== undefined) {
      verdicts[i] = verdict;
      continue;
    }
    if (key !== undefined) {
      src.added.set(key, input.data);
      added.push({ key, index: i });
    }
    if (emitInline) {
      for (const o of outs) outputs.push(o);
      countOutputs(tally);
    }
    verdicts[i] = ACCEPTED;
    accepted.push(i);
    lap("update");
  }
  return { verdicts, accepted, w, src, added, outputs };
}

/** The record key as a string, or why it cannot be one. */
function evalKey(expr: CompiledExpr, ctx: RuleContext): string | Rejected {
  let v: Json;
  try {
    v = expr(ctx);
  } catch (e) {
    return fault(e, "the record key could not be computed");
  }
  if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) return reject("CELL_BAD_KEY", inexactNumber(String(v), "the record key"));
  const k = typeof v === "string" ? v : typeof v === "number" && Number.isSafeInteger(v) ? String(v) : undefined;
  if (k === undefined) {
    return reject("CELL_BAD_KEY", `the record key must be text or a whole number, got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`);
  }
  if (k === "" || k.length > MAX_KEY_LENGTH || FORBIDDEN_KEYS.has(k)) {
    return reject("CELL_BAD_KEY", k === "" ? "the record key is empty" : k.length > MAX_KEY_LENGTH ? `the record key is longer than ${MAX_KEY_LENGTH} characters` : `"${k}" cannot be a record key`);
  }
  const bad = nameProblem(k);
  if (bad !== undefined) return reject("CELL_BAD_KEY", `the record key "${k}" ${bad}`);
  return k;
}

/** Evaluates `when`, paths and values of every update (nothing is applied yet). */
function planUpdates(updates: readonly StateUpdatePlan[], ctx: RuleContext, out: Planned[]): Rejected | undefined {
  for (const u of updates) {
    try {
      if (u.when !== undefined && !isTruthy(u.when(ctx))) continue;
      const segs: string[] = [];
      for (const part of u.pathParts) {
        if ("literal" in part) {
          segs.push(part.literal);
          continue;
        }
        const v = part.expr(ctx);
        const seg = typeof v === "string" ? v : typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? String(v) : undefined;
        const bad = seg === undefined ? undefined : nameProblem(seg);
        if (bad !== undefined) return reject("CELL_BAD_PATH", `{${part.source}} in the state path "${u.path}" gave a segment that ${bad}`, u.path);
        if (seg === undefined || seg === "" || FORBIDDEN_KEYS.has(seg)) {
          return reject(
            "CELL_BAD_PATH",
            `{${part.source}} in the state path "${u.path}" gave ${seg === undefined ? JSON.stringify(v) ?? "nothing" : JSON.stringify(seg)}, which cannot name a field`,
            u.path,
          );
        }
        segs.push(seg);
      }
      if (segs[0] === "records") {
        return reject("CELL_BAD_PATH", `the state path "${u.path}" writes into records, which only the record key fills`, u.path);
      }
      const value: Json = u.op === "remove" ? null : u.value !== undefined ? u.value(ctx) : u.op === "add" ? 1 : null;
      out.push({ op: u.op, segs, value });
    } catch (e) {
      return fault(e, `the state update of "${u.path}" could not be evaluated`);
    }
  }
  return undefined;
}

/**
 * Evaluates emits for one (transformed) item; outputs go to `out`, their
 * sizes (UTF-8 bytes of their JSON text, which has the length of their
 * canonical text: RFC 8785 orders keys differently but writes the same
 * characters) to `sizes`. Stops as soon as the input's outputs are over the
 * per-input limits, so one input can never make a block build more than
 * `perInput` outputs of `perInputBytes`.
 */
function evalEmits(env: PassEnv, index: number, ctx: RuleContext, owned: Set<object>, out: BlockOutput[], sizes: number[]): Rejected | undefined {
  const limits = env.outputLimits;
  for (const e of env.cell.emit) {
    let data: Json;
    try {
      if (e.when !== undefined && !isTruthy(e.when(ctx))) continue;
      data = e.data !== undefined ? e.data(ctx) : ctx.data;
    } catch (err) {
      return fault(err, `the output to "${e.to}" could not be computed`);
    }
    if (sizes.length >= limits.perInput) {
      return reject("CELL_OUTPUT_LIMIT", `the input produces more than ${limits.perInput} outputs, the channel's limit per input (limits.maxOutputsPerInput)`);
    }
    const bad = inspectValue(data, 64, limits.perInputBytes);
    if (bad) {
      if (bad.code === "CELL_TOO_LARGE") return overBytes(limits.perInputBytes);
      return reject(bad.code === "CELL_BAD_TEXT" || bad.code === "CELL_BAD_NUMBER" ? bad.code : "CELL_BAD_OUTPUT", `the output to "${e.to}" is not plain JSON: ${bad.message}`, bad.path);
    }
    const size = Buffer.byteLength(JSON.stringify(data), "utf8");
    let total = size;
    for (const x of sizes) total += x;
    if (total > limits.perInputBytes) return overBytes(limits.perInputBytes);
    if (owned.size > 0 && containsOwned(data, owned)) data = JSON.parse(JSON.stringify(data)) as Json;
    out.push({ to: e.to, from: env.cellName, input: index, data });
    sizes.push(size);
  }
  return undefined;
}

function overBytes(limit: number): Rejected {
  return reject("CELL_OUTPUT_LIMIT", `the input's outputs take more than ${limit} bytes of JSON, the channel's limit per input (limits.maxOutputBytesPerInput)`);
}

/** The block-wide output limits, for the current input's outputs on top of the block's so far. */
function checkOutputLimits(limits: ChannelPlan["outputLimits"], tally: OutputTally): Rejected | undefined {
  if (tally.sizes.length === 0) return undefined;
  if (tally.blockCount + tally.sizes.length > limits.perBlock) {
    return reject("CELL_OUTPUT_LIMIT", `the block's outputs would pass ${limits.perBlock}, the channel's limit per block (limits.maxOutputsPerBlock); send this input again in a later block`);
  }
  let bytes = tally.blockBytes;
  for (const x of tally.sizes) bytes += x;
  if (bytes > limits.perBlockBytes) {
    return reject("CELL_OUTPUT_LIMIT", `the block's outputs would take more than ${limits.perBlockBytes} bytes of JSON, the channel's limit per block (limits.maxOutputBytesPerBlock); send this input again in a later block`);
  }
  return undefined;
}

/** Adds the current (accepted) input's outputs to the block's tally. */
function countOutputs(tally: OutputTally): void {
  tally.blockCount += tally.sizes.length;
  for (const x of tally.sizes) tally.blockBytes += x;
}

function runReduce(runner: CodeRunner, pass: PassResult, env: PassEnv, startPlain: Json): { changed: boolean; user?: Record<string, Json> } {
  const items = pass.accepted.map((i) => ({ data: env.inputs[i].data, ctx: hookCtx(env.block, env.inputs[i], i, startPlain) }));
  const res = runner.reduce(canonicalCopy(pass.w.root), items, env.hookOptions);
  let changed = false;
  pass.accepted.forEach((i, j) => {
    const r = res.results[j] ?? missingResult("reduce");
    if ("fault" in r) {
      env.excluded.set(i, reject(r.fault, r.message));
      changed = true;
    }
  });
  if (changed) return { changed };
  const s = res.state;
  const bad = typeof s !== "object" || s === null || Array.isArray(s) ? reject("SANDBOX_OUTPUT", "reduce must return an object (the new state)") : inspectValue(s, 1024, Number.MAX_SAFE_INTEGER);
  if (bad) {
    for (const i of pass.accepted) env.excluded.set(i, reject("SANDBOX_OUTPUT", `reduce returned a state that cannot be stored: ${bad.message}`));
    return { changed: true };
  }
  // records stay write-once: whatever reduce says about them is ignored.
  const user: Record<string, Json> = {};
  for (const k of Object.keys(s as Record<string, Json>)) if (k !== "records") user[k] = (s as Record<string, Json>)[k];
  return { changed: false, user };
}

function runTransform(
  runner: CodeRunner,
  pass: PassResult,
  env: PassEnv,
  startPlain: Json,
  startState: CellState,
): { changed: boolean; outputs: BlockOutput[] } {
  const items = pass.accepted.map((i) => ({ data: env.inputs[i].data, ctx: hookCtx(env.block, env.inputs[i], i, startPlain) }));
  const res = runner.transform(items, env.hookOptions);
  const outputs: BlockOutput[] = [];
  let changed = false;
  const outs: BlockOutput[] = [];
  const tally: OutputTally = { sizes: [], blockCount: 0, blockBytes: 0 };
  pass.accepted.forEach((i, j) => {
    const r = res[j] ?? missingResult("transform");
    if ("fault" in r) {
      env.excluded.set(i, reject(r.fault, r.message));
      changed = true;
      return;
    }
    outs.length = 0;
    tally.sizes.length = 0;
    for (const item of r.outputs) {
      // With a transform hook, emits see the state at the block start (as the hook does).
      const ctx: RuleContext = {
        data: item,
        state: startState as Json,
        block: env.block,
        signer: env.inputs[i].signer ?? null,
        token: env.token,
        channel: env.channel,
      };
      const bad = evalEmits(env, i, ctx, new Set(), outs, tally.sizes);
      if (bad) {
        env.excluded.set(i, bad);
        changed = true;
        return;
      }
    }
    const over = checkOutputLimits(env.outputLimits, tally);
    if (over) {
      env.excluded.set(i, over);
      changed = true;
      return;
    }
    for (const o of outs) outputs.push(o);
    countOutputs(tally);
  });
  return { changed, outputs };
}

function hookCtx(block: RuleContext["block"], input: BlockInput, index: number, state: Json): HookContext {
  return { block, signer: input.signer ?? null, index, state };
}

function missingResult(hook: string): SandboxFault {
  return { fault: "SANDBOX_OUTPUT", message: `the ${hook} hook returned no result for this input` };
}

/** A rejection from something an expression threw (RULES_RUNTIME and friends keep their code). */
function fault(e: unknown, what: string, rule?: string): Rejected {
  if (e instanceof StatecellError) return reject(e.code, `${what}: ${e.message}`, undefined, rule);
  return reject("CELL_EXPRESSION_FAULT", `${what}: ${e instanceof Error ? e.message : String(e)}`, undefined, rule);
}

function schemaRejection(cell: CellPlan, errors: ValidateFn["errors"]): Rejected {
  const first = errors?.[0];
  const what = cell.schemaName !== undefined ? `a ${cell.schemaName}` : `an input of cell "${cell.name}"`;
  if (first === undefined) return reject("CELL_SCHEMA", `the input is not ${what}`, "");
  let where = first.instancePath;
  if (first.keyword === "required" && typeof first.params.missingProperty === "string") {
    where = `${where}/${first.params.missingProperty}`;
  }
  return reject("CELL_SCHEMA", `the input is not ${what}: ${first.instancePath || "the input"} ${first.message ?? "is invalid"}`, where);
}

/** The state at the block start as plain JSON (code hooks get copies, never views). */
/**
 * A plain copy in canonical key order. Hook code can iterate keys, and the
 * live key order depends on history (insertion order, or trie order for wide
 * objects): a validator restarted from a snapshot would otherwise hand its
 * hooks the same state in another order. The sandbox copies plain JSON, never
 * the read-only views.
 */
function canonicalCopy(v: Json): Json {
  return JSON.parse(canonicalString(v)) as Json;
}

function plainStateOf(s: StateInternals): Json {
  const out = canonicalCopy(s.user) as Record<string, Json>;
  if (s.records !== undefined) out.records = materializeRecords(s.records);
  return out;
}
