/**
 * createCodeRunner: one isolate per hosted (channel, cell), the hook file
 * compiled once, one `applySync` per hook call carrying the whole batch as a
 * JSON string each way (docs/sandbox.md explains the measurements).
 */
import ivm from "isolated-vm";
import { StatecellError, type Json } from "../core/index.js";
import { compileHooks } from "./compile.js";
import { checkLimits, checkTimeMs, DEFAULT_MAX_OUTPUT_CHARS, DEFAULT_MAX_STATE_CHARS } from "./limits.js";
import { PRELUDE } from "./prelude.js";
import { FACTORY_LINE_OFFSET, stripExports, wrapFactory } from "./source.js";
import { itemTiming, type ItemTiming } from "./timeout-policy.js";
import type {
  CodeRunner,
  CreateCodeRunnerOptions,
  HookItem,
  HookName,
  ReduceItemResult,
  RunOptions,
  SandboxFault,
  SandboxLimits,
  TransformResult,
  ValidateResult,
} from "./types.js";

/**
 * Longest a whole batch may run before we stop it and retry one input per
 * call. Results do not depend on it (a batch and single calls give the same
 * results); it only bounds the time wasted before the fallback.
 */
const BATCH_CAP_MS = 1000;

/**
 * Extra batch time per item on top of the cap, so a large block of cheap
 * items (300k at ~2 s) is not stopped and re-run one by one for being large.
 */
const BATCH_MS_PER_ITEM = 0.02;

/** Most items one call carries; larger blocks go in several calls (results are the same). */
const MAX_CHUNK_ITEMS = 10_000;

/**
 * Most JSON characters of input data one call carries, per MB of isolate
 * heap: the parsed batch must fit in the heap beside the hook's own work
 * (a 300k-item block in one call exhausted a 32 MB isolate).
 */
const CHUNK_CHARS_PER_MB = 1 << 16;

/** An isolate with the prelude installed and the hook file loaded. */
interface Box {
  isolate: ivm.Isolate;
  run: ivm.Reference<(hook: string, payload: string, state?: string) => string>;
}

/** What one applySync ended with. */
type Invocation =
  | { kind: "ok"; text: string }
  | { kind: "timeout"; elapsedMs: number }
  | { kind: "memory" }
  | { kind: "crash"; message: string };

/** The isolate's per-item encoding (see prelude.ts "Wire format"). */
type WireFault = { f: "TIMEOUT" | "THROW" | "OUTPUT" | "MEMORY"; m: string; e: number };
type WireResult = 1 | { x: string } | { o: Json[] } | WireFault;

/**
 * Compiles a hook file into a runner.
 * @throws StatecellError SANDBOX_LIMITS (limits out of range), SANDBOX_SYNTAX
 *   (with the location), SANDBOX_NO_HOOKS, SANDBOX_INIT (the file's top level
 *   throws, loops or exhausts memory).
 * @example
 * const r = createCodeRunner({ name: "demo/cell", source: "function validate(d) { return d.x > 0 || { reject: 'x must be positive' } }",
 *   file: "demo.js", limits: { memoryMb: 32, timeMs: 50 } });
 * r.validate([{ data: { x: 1 }, ctx }]); // [{ ok: true }]
 */
export function createCodeRunner(opts: CreateCodeRunnerOptions): CodeRunner {
  return new IsolateRunner(opts);
}

class IsolateRunner implements CodeRunner {
  readonly hooks: readonly HookName[];
  private box: Box | undefined;
  private isDisposed = false;
  private readonly limits: SandboxLimits;
  private readonly maxOutputChars: number;
  private readonly maxStateChars: number;
  private readonly stripped: string;

  constructor(private readonly opts: CreateCodeRunnerOptions) {
    this.limits = checkLimits(opts.limits, opts.name);
    this.maxOutputChars = opts.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
    this.maxStateChars = opts.maxStateChars ?? DEFAULT_MAX_STATE_CHARS;
    this.stripped = stripExports(opts.source);
    const box = this.build();
    // Loading runs the file's top level in a fresh isolate, where nothing is
    // compiled yet; on a loaded machine that alone can exceed a 50 ms input
    // budget. Loading is not consensus-critical, so it gets a generous budget
    // that still stops a top-level loop.
    const initMs = Math.max(INIT_TIME_MS, this.limits.timeMs);
    const probe = invoke(box, "probe", "", undefined, initMs);
    if (probe.kind !== "ok") {
      this.drop();
      const why = probe.kind === "timeout" ? `ran over ${initMs} ms` : probe.kind === "memory" ? "ran out of memory" : probe.message;
      throw new StatecellError("SANDBOX_INIT", `${opts.file}: the top level of the hook file failed: ${why}`, {
        remedy: "keep the top level to constant declarations and functions; do the work inside the hooks",
      });
    }
    this.hooks = JSON.parse(probe.text) as HookName[];
    if (this.hooks.length === 0) {
      this.drop();
      throw new StatecellError("SANDBOX_NO_HOOKS", `${opts.file}: the file defines no hook`, {
        remedy: "define at least one top-level function named validate(data, ctx), transform(data, ctx) or reduce(state, data, ctx)",
        location: { file: opts.file, line: 1, col: 1 },
      });
    }
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  validate(items: ReadonlyArray<HookItem>, opts?: RunOptions): ValidateResult[] {
    return this.call("validate", items, opts, undefined).results.map((w): ValidateResult => {
      if (w === 1) return { ok: true };
      if ("x" in w) return { ok: false, reason: w.x };
      return toFault(w as WireFault);
    });
  }

  transform(items: ReadonlyArray<HookItem>, opts?: RunOptions): TransformResult[] {
    return this.call("transform", items, opts, undefined).results.map((w): TransformResult => {
      if (w !== 1 && "o" in w) return { outputs: w.o };
      return toFault(w as WireFault);
    });
  }

  reduce(state: Json, items: ReadonlyArray<HookItem>, opts?: RunOptions): { state: Json; results: ReduceItemResult[] } {
    const start = JSON.stringify(state);
    const out = this.call("reduce", items, opts, start);
    const results = out.results.map((w): ReduceItemResult => (w === 1 ? { ok: true } : toFault(w as WireFault)));
    return { state: out.state === start ? state : (safeParse(out.state) as Json), results };
  }

  dispose(): void {
    this.isDisposed = true;
    this.drop();
  }

  /** Runs `hook` over `items`: one batch call, and one call per item only after the batch failed. */
  private call(hook: HookName, items: ReadonlyArray<HookItem>, opts: RunOptions | undefined, state: string | undefined): { results: WireResult[]; state: string } {
    if (this.isDisposed) {
      throw new StatecellError("SANDBOX_DISPOSED", `${this.opts.name}: the code runner was disposed`, {
        remedy: "create a new runner with createCodeRunner",
      });
    }
    if (!this.hooks.includes(hook)) {
      throw new StatecellError("SANDBOX_MISSING_HOOK", `${this.opts.file} defines no ${hook} hook`, {
        remedy: `define function ${hook}(...) in the file, or do not call it (runner.hooks lists what exists)`,
      });
    }
    if (items.length === 0) return { results: [], state: state ?? "null" };
    const timeMs = opts?.timeMs === undefined ? this.limits.timeMs : checkTimeMs(opts.timeMs, this.opts.name);
    const verify = opts?.verify === undefined ? undefined : { timedOut: new Set(opts.verify.timedOut) };
    const timings = items.map((it) => itemTiming(timeMs, it.ctx.index, verify));
    const perItem = verify !== undefined;
    const datas = items.map((it) => JSON.stringify(it.data) ?? "null");

    const results: WireResult[] = [];
    let snap = state;
    const maxChars = this.limits.memoryMb * CHUNK_CHARS_PER_MB;
    for (let from = 0; from < items.length; ) {
      let to = from + 1;
      let chars = datas[from].length;
      while (to < items.length && to - from < MAX_CHUNK_ITEMS && chars + datas[to].length <= maxChars) chars += datas[to++].length;
      const chunk = { items: items.slice(from, to), datas: datas.slice(from, to), timings: timings.slice(from, to) };
      const out = this.callChunk(hook, chunk, timeMs, perItem, snap);
      for (const r of out.results) results.push(r);
      snap = hook === "reduce" ? out.state : snap;
      from = to;
    }
    return { results, state: snap ?? "null" };
  }

  /** One batch call over a chunk, and one call per item only after the batch was stopped. */
  private callChunk(
    hook: HookName,
    chunk: Chunk,
    timeMs: number,
    perItem: boolean,
    state: string | undefined,
  ): { results: WireResult[]; state: string } {
    const { items, datas, timings } = chunk;
    let total = 0;
    let longest = 0;
    for (const t of timings) {
      total += t.budgetMs;
      if (t.budgetMs > longest) longest = t.budgetMs;
    }
    const batchTimeout = Math.ceil(Math.min(total, Math.max(BATCH_CAP_MS, 2 * longest) + items.length * BATCH_MS_PER_ITEM));
    const batch = invoke(this.ensure(), hook, this.payload(items, datas, timings, timeMs, perItem), state, batchTimeout);
    if (batch.kind === "memory") this.drop();
    if (batch.kind === "ok") {
      const out = decode(hook, batch.text, state);
      // A proposer re-runs a timed-out input once before recording the timeout (see below).
      if (perItem || !out.results.some(isTimeout)) return out;
      if (hook !== "reduce") {
        out.results.forEach((r, i) => {
          if (isTimeout(r)) out.results[i] = this.runOne(hook, chunk, i, timeMs, perItem, state).result;
        });
        return out;
      }
      // reduce: a retried input that now succeeds changes every later state: redo the fold one by one.
    } else if (items.length === 1) {
      return perItem || batch.kind !== "timeout" ? { results: [this.hostFault(batch, timeMs)], state: state ?? "null" } : this.oneByOne(hook, chunk, timeMs, perItem, state);
    }
    // The batch was stopped: give each input its own call so only the culprit faults.
    return this.oneByOne(hook, chunk, timeMs, perItem, state);
  }

  /** Every input of a chunk in its own call, the reduce state carried from one to the next. */
  private oneByOne(
    hook: HookName,
    chunk: Chunk,
    timeMs: number,
    perItem: boolean,
    state: string | undefined,
  ): { results: WireResult[]; state: string } {
    const results: WireResult[] = [];
    let snap = state;
    for (let i = 0; i < chunk.items.length; i++) {
      let one = this.runOne(hook, chunk, i, timeMs, perItem, snap);
      // Proposer mode: one retry of a timeout. A timeout is wall time, and a load spike on the node
      // (GC, a neighbour) can push a trivial input over the budget; validators, who would disagree
      // with a spurious timeout and prevote nil, have their own margins (docs/sandbox.md).
      if (!perItem && isTimeout(one.result)) one = this.runOne(hook, chunk, i, timeMs, perItem, snap);
      results.push(one.result);
      snap = one.state;
    }
    return { results, state: snap ?? "null" };
  }

  /** One input alone, with its own budget as the host-side timeout. */
  private runOne(
    hook: HookName,
    chunk: Chunk,
    i: number,
    timeMs: number,
    perItem: boolean,
    state: string | undefined,
  ): { result: WireResult; state: string | undefined } {
    const payload = this.payload([chunk.items[i]], [chunk.datas[i]], [chunk.timings[i]], timeMs, perItem);
    const one = invoke(this.ensure(), hook, payload, state, chunk.timings[i].budgetMs);
    if (one.kind === "ok") {
      const d = decode(hook, one.text, state);
      return { result: d.results[0], state: hook === "reduce" ? d.state : state };
    }
    if (one.kind === "memory") this.drop();
    return { result: this.hostFault(one, timeMs), state };
  }

  /**
   * The verdict of a call the host stopped. The message names the cell's
   * budget, never the grace budget or the elapsed time, so a validator's
   * verdict is byte-identical to the proposer's (docs/sandbox.md "Timeouts").
   */
  private hostFault(inv: Exclude<Invocation, { kind: "ok" }>, timeMs: number): WireFault {
    if (inv.kind === "timeout") return { f: "TIMEOUT", m: `the hook ran over its time budget of ${timeMs} ms`, e: inv.elapsedMs };
    if (inv.kind === "memory") return { f: "MEMORY", m: `the hook ran out of memory (limit ${this.limits.memoryMb} MB)`, e: 0 };
    return { f: "THROW", m: `the hook failed after returning (an unhandled promise rejection?): ${inv.message}`, e: 0 };
  }

  /**
   * The batch as one JSON text (prelude.ts "Wire format"). Columns instead of
   * one row per item, and columns that are all alike sent as null: host-side
   * JSON.stringify is most of the crossing cost, so every byte counts.
   */
  private payload(items: ReadonlyArray<HookItem>, datas: string[], timings: ItemTiming[], timeMs: number, perItem: boolean): string {
    const n = items.length;
    const blocks: HookItem["ctx"]["block"][] = [];
    const blockIndex = new Map<string, number>();
    const states: Json[] = [];
    const stateIndex = new Map<Json, number>();
    const indexes: number[] = new Array<number>(n);
    const bis: number[] = new Array<number>(n);
    const sis: number[] = new Array<number>(n);
    const signers: Array<string | null> = new Array<string | null>(n);
    let oneBlock = true;
    let oneState = true;
    let noSigner = true;
    // Items of one block share its header and state objects: compare with the previous item first.
    let lastBlock: unknown = undefined;
    let lastState: unknown = undefined;
    let bi = -1;
    let si = -1;
    for (let i = 0; i < n; i++) {
      const { ctx } = items[i];
      if (ctx.block !== lastBlock) {
        const b = ctx.block;
        const key = `${b.height}|${b.time}|${b.hash}`;
        const known = blockIndex.get(key);
        bi = known ?? blocks.push({ height: b.height, time: b.time, hash: b.hash }) - 1;
        if (known === undefined) blockIndex.set(key, bi);
        lastBlock = b;
      }
      if (ctx.state !== lastState) {
        const known = stateIndex.get(ctx.state);
        si = known ?? states.push(ctx.state) - 1;
        if (known === undefined) stateIndex.set(ctx.state, si);
        lastState = ctx.state;
      }
      const signer = ctx.signer ?? null;
      indexes[i] = ctx.index;
      bis[i] = bi;
      sis[i] = si;
      signers[i] = signer;
      if (bi !== 0) oneBlock = false;
      if (si !== 0) oneState = false;
      if (signer !== null) noSigner = false;
    }
    // The data texts were made once per call (they also size the chunks); splice them in.
    const rest = JSON.stringify({
      b: blocks,
      s: states,
      x: indexes,
      k: oneBlock ? null : bis,
      l: oneState ? null : sis,
      g: noSigner ? null : signers,
      t: timeMs,
      a: perItem ? timings.map((t) => [t.budgetMs, t.agreeMs]) : null,
      o: this.maxOutputChars,
      m: this.maxStateChars,
    });
    return `{"d":[${datas.join(",")}],${rest.slice(1)}`;
  }

  private ensure(): Box {
    if (this.box === undefined || this.box.isolate.isDisposed) this.box = this.build();
    return this.box;
  }

  private build(): Box {
    const isolate = new ivm.Isolate({
      memoryLimit: this.limits.memoryMb,
      ...(this.opts.onCatastrophicError ? { onCatastrophicError: this.opts.onCatastrophicError } : {}),
    });
    try {
      const compiled = compileHooks(isolate, this.stripped, this.opts.source, this.opts.file);
      if (compiled.problem) {
        throw new StatecellError("SANDBOX_SYNTAX", `${this.opts.file}: ${compiled.problem.message}`, {
          remedy: compiled.problem.remedy,
          ...(compiled.problem.location ? { location: compiled.problem.location } : {}),
          problems: [compiled.problem],
        });
      }
      compiled.script.release();
      const context = isolate.createContextSync();
      const install = isolate.compileScriptSync(PRELUDE, { filename: "statecell:prelude" }).runSync(context, { reference: true }) as ivm.Reference<
        (factory: unknown) => unknown
      >;
      // Stack traces a hook can read name this, not the file's path, which differs between machines.
      const factory = isolate
        .compileScriptSync(wrapFactory(this.stripped), { filename: `hooks:${this.opts.name}`, lineOffset: FACTORY_LINE_OFFSET }).runSync(context, { reference: true }) as ivm.Reference<
        () => unknown
      >;
      const run = install.applySync(undefined, [factory.derefInto()], { result: { reference: true } }) as unknown as Box["run"];
      install.release();
      factory.release();
      this.box = { isolate, run };
      return this.box;
    } catch (e: unknown) {
      if (!isolate.isDisposed) isolate.dispose();
      throw e;
    }
  }

  private drop(): void {
    if (this.box !== undefined && !this.box.isolate.isDisposed) this.box.isolate.dispose();
    this.box = undefined;
  }
}

/** A slice of a block's items with their JSON text and time budgets, sent in one call. */
interface Chunk {
  items: ReadonlyArray<HookItem>;
  datas: string[];
  timings: ItemTiming[];
}

/** Time the file's top level may take when the runner is created (see the constructor). */
export const INIT_TIME_MS = 1000;

function invoke(box: Box, hook: string, payload: string, state: string | undefined, timeoutMs: number): Invocation {
  const started = process.hrtime.bigint();
  try {
    const text = box.run.applySync(undefined, state === undefined ? [hook, payload] : [hook, payload, state], { timeout: timeoutMs });
    return { kind: "ok", text };
  } catch (e: unknown) {
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    const message = e instanceof Error ? (e.name === "Error" ? e.message : `${e.name}: ${e.message}`) : String(e);
    // isolated-vm disposes the isolate on its memory limit; a hook cannot fake that.
    if (box.isolate.isDisposed) return { kind: "memory" };
    // A rejected promise can carry any message: only a call that really lasted the timeout is one.
    if (/timed out/i.test(message) && elapsed >= timeoutMs - 1) return { kind: "timeout", elapsedMs: Math.round(elapsed) };
    return { kind: "crash", message };
  }
}

function decode(hook: HookName, text: string, state: string | undefined): { results: WireResult[]; state: string } {
  if (hook !== "reduce") return { results: safeParse(text) as WireResult[], state: state ?? "null" };
  // '{"s":<state>,"r":[...]}': keep the state as text so the host parses it once, at the end.
  const r = text.lastIndexOf(',"r":[');
  return { results: safeParse(text.slice(r + 5, -1)) as WireResult[], state: text.slice(5, r) };
}

/**
 * JSON.parse, dropping any `__proto__` key. The isolate already faults
 * outputs with such keys; this is the host's own guard, and costs nothing
 * unless the text contains the word.
 */
function safeParse(text: string): unknown {
  return text.includes("__proto__") ? JSON.parse(text, (k, v: unknown) => (k === "__proto__" ? undefined : v)) : JSON.parse(text);
}

function isTimeout(w: WireResult): boolean {
  return typeof w === "object" && "f" in w && w.f === "TIMEOUT";
}

function toFault(w: WireFault): SandboxFault {
  const fault: SandboxFault = { fault: `SANDBOX_${w.f}`, message: w.m };
  if (w.f === "TIMEOUT") fault.elapsedMs = w.e;
  return fault;
}
