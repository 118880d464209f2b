/**
 * createCodeRunner: one isolate per hosted (channel, cell), the hook file
 * compiled once, one job per hook call carrying the whole batch as a JSON
 * string each way (docs/sandbox.md explains the measurements). The job stays
 * in the isolate while the host's timer stops it and resumes it (prelude.ts
 * "Jobs"), so an input that loops costs one budget and the others keep their
 * results; the inputs of a call the host cannot attribute a fault to (the
 * isolate ran out of memory, a promise rejected or looped after the hook
 * returned) are run again one per call until the culprit fails alone. All the
 * calls given one BlockBudget share the cell's blockTimeMs (docs/sandbox.md
 * "The block budget").
 */
import ivm from "isolated-vm";
import { StatecellError, type Json } from "../core/index.js";
import { compileHooks } from "./compile.js";
import {
  checkLimits,
  checkTimeMs,
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_RECORD_READS,
  DEFAULT_MAX_STATE_CHARS,
  STATE_CHARS_PER_MB,
  type ResolvedLimits,
} from "./limits.js";
import { PRELUDE } from "./prelude.js";
import { FACTORY_LINE_OFFSET, stripExports, wrapFactory } from "./source.js";
import { blockLimitMs, itemTiming, type ItemTiming } from "./timeout-policy.js";
import type {
  BlockBudget,
  CodeRunner,
  CreateCodeRunnerOptions,
  HookItem,
  HookName,
  FoldItemResult,
  ReduceItemResult,
  RunOptions,
  SandboxFault,
  TransformResult,
  ValidateResult,
} from "./types.js";

/** Most items one call carries; larger blocks go in several calls (results are the same). */
const MAX_CHUNK_ITEMS = 10_000;

/**
 * Most JSON characters of input data one call carries, per MB of isolate
 * heap: the parsed batch must fit in the heap beside the hook's own work
 * (a 300k-item block in one call exhausted a 32 MB isolate).
 */
const CHUNK_CHARS_PER_MB = 1 << 16;

/**
 * How long after an input's budget the host's timer may fire: the share of
 * the per-input budget, at least MIN_SLACK_MS. An input starts only when the
 * timer leaves it its whole budget and fires at most this much after it, so a
 * looping input costs its budget plus at most this (and the timer's own
 * lateness, 5-7 ms measured on isolated-vm 5). Cheap inputs run in windows of
 * this length between two timer settings; a window costs one call (~20-70 us).
 */
const SLACK_FRACTION = 0.1;
const MIN_SLACK_MS = 2;

/**
 * Timer of a call that only sets a job up, after its first call was stopped
 * while parsing the payload (a payload near the chunk limit takes tens of ms).
 */
const SETUP_MS = 1000;

/** Timer of a status call (it copies the results out, never runs a hook). */
const STATUS_MS = 1000;

type Run = (...args: Array<string | number>) => string;

/** An isolate with the prelude installed and the hook file loaded. */
interface Box {
  isolate: ivm.Isolate;
  run: ivm.Reference<Run>;
}

/** What one applySync ended with. */
type Invocation =
  | { kind: "ok"; text: string }
  | { kind: "timeout"; elapsedMs: number }
  | { kind: "memory" }
  | { kind: "crash"; message: string };

/** The isolate's per-item encoding (see prelude.ts "Wire format"). */
type WireCode = "TIMEOUT" | "THROW" | "OUTPUT" | "MEMORY" | "BLOCK_BUDGET" | "STATE_TOO_LARGE" | "RECORD_READS";
type WireFault = { f: WireCode; m: string; e: number; q?: 1 };
/** 2 and `q`: the input read ctx.state (validate and transform). 3 and `v` (a fold through validate): validate accepted only / validate's verdict. */
type WireResult = 1 | 2 | 3 | { x: string; q?: 1; v?: 1 } | { o: Json[]; q?: 1 } | (WireFault & { v?: 1 });

/** The isolate's answer to "status" after the host's timer stopped a call. */
interface Status {
  /** 1 once the job was set up. */
  u: 0 | 1;
  /** 1 if the call was stopped inside the prelude's own code, 0 after it returned (microtasks). */
  i?: 0 | 1;
  /** Position (in the job) of the next input. */
  n?: number;
  /** Position of the input that was running, or -1. */
  c?: number;
  /** How long that input ran, ms. */
  e?: number;
  /** 1: that input was a fast reduce run that must run again strict (not a timeout). */
  a?: 0 | 1;
  /** Results since the last hand-over. */
  r?: WireResult[];
  /** Reduce: the state before input n. */
  s?: Json;
}

/** Why a job ended before its last input. */
type Failure =
  | { kind: "memory" }
  | { kind: "crash"; message: string }
  | { kind: "timeout"; elapsedMs: number }
  /** The state (and the data) did not fit in the isolate, or could not be set up in SETUP_MS. */
  | { kind: "state" };

/** One call's settings, shared by its chunks and jobs. */
interface CallCtx {
  hook: HookName;
  items: ReadonlyArray<HookItem>;
  /** JSON text of each item's data, by position in `items`. */
  datas: string[];
  timings: ItemTiming[];
  timeMs: number;
  slackMs: number;
  perItem: boolean;
  /** Distinct ctx states as JSON text, and the index of each item's state in it. */
  stateTexts: string[];
  stateOf: number[];
  /** Characters of state the call copies into the isolate (ctx states and the reduce state). */
  stateChars: number;
  /** Block time this call may use, from `blockStart` (hrtime ms). */
  blockMs: number;
  blockStart: number;
  /** Set once the block's time is spent: every later input is refused. */
  spent: boolean;
  records: RunOptions["records"];
  /** A reduce call through validate first (fold()); positions in `items` that run validate only. */
  fold: { validateOnly: ReadonlySet<number> } | undefined;
}

/** A slice of a call's items (positions in `items`), sent as jobs. */
interface Chunk {
  positions: number[];
  /** Time after which each input is stopped: its agreement bound in validator mode, else its budget. */
  stops: number[];
  /**
   * Verdicts the host gave inputs the timer stopped (chunk position -> wire text). A job that
   * starts again over such an input (after a fault lost its results) is told them, so it never
   * runs the input again: a looping input costs one budget.
   */
  known: Map<number, string>;
}

/** What a chunk has produced so far: results by chunk position, and the reduce state after them. */
interface ChunkOut {
  results: WireResult[];
  snap: string | undefined;
}

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

/** A fresh block budget: pass it to every hook call of one block (`RunOptions.budget`). */
export function createBlockBudget(): BlockBudget {
  return { spentMs: 0 };
}

class IsolateRunner implements CodeRunner {
  readonly hooks: readonly HookName[];
  private box: Box | undefined;
  private isDisposed = false;
  private readonly limits: ResolvedLimits;
  private readonly maxOutputChars: number;
  private readonly maxStateChars: number;
  private readonly maxRecordReads: number;
  /** Most state characters one call may copy into the isolate. */
  private readonly stateLimit: number;
  private readonly stripped: string;
  /** The job the isolate runs: where its items are in the call, for the records reader. */
  /** The channel hooks see as ctx.channel, and its JSON text. */
  private channel: { ref: NonNullable<RunOptions["channel"]>; token: Json | undefined; text: string } | undefined;
  private reading: { records: RunOptions["records"]; positions: number[]; from: number; datas: string[] } | undefined;
  private recordsError: { error: unknown } | undefined;

  constructor(private readonly opts: CreateCodeRunnerOptions) {
    this.limits = checkLimits(opts.limits, opts.name);
    const cap = opts.proposerBlockTimeMs;
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) {
      throw new StatecellError("SANDBOX_LIMITS", `${opts.name}: proposerBlockTimeMs ${String(cap)} is not a whole number of ms from 1`, { remedy: "give the node's sandboxBlockTimeMs quota a whole number of ms, or leave it out" });
    }
    this.maxOutputChars = opts.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS;
    this.stateLimit = this.limits.memoryMb * STATE_CHARS_PER_MB;
    this.maxStateChars = Math.min(opts.maxStateChars ?? DEFAULT_MAX_STATE_CHARS, this.stateLimit);
    this.maxRecordReads = opts.maxRecordReads ?? DEFAULT_MAX_RECORD_READS;
    this.stripped = stripExports(opts.source);
    const box = this.build();
    // Loading runs the file's top level in a fresh isolate, where nothing is
    // compiled yet; on a loaded machine that alone can exceed a 50 ms input
    // budget. Loading is not consensus-critical, so it gets a generous budget
    // that still stops a top-level loop.
    const initMs = Math.max(INIT_TIME_MS, this.limits.timeMs);
    const probe = invoke(box, ["probe"], initMs);
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

  /**
   * The isolate's heap right now (V8's heap statistics: used and total heap
   * and the limit), or undefined when there is no isolate (disposed, or
   * dropped after a memory fault until the next call builds one). For the
   * node's metrics only: never part of what validators compare.
   */
  heap(): { usedBytes: number; totalBytes: number; limitBytes: number } | undefined {
    const box = this.box;
    if (this.isDisposed || box === undefined || box.isolate.isDisposed) return undefined;
    try {
      const h = box.isolate.getHeapStatisticsSync();
      return { usedBytes: h.used_heap_size + h.externally_allocated_size, totalBytes: h.total_heap_size, limitBytes: h.heap_size_limit };
    } catch {
      return undefined; // disposed between the check and the call
    }
  }

  /** Reports which items read ctx.state (RunOptions.stateReads), and reduce gives each item the state before it as ctx.state. */
  get tracksReads(): true {
    return true;
  }

  validate(items: ReadonlyArray<HookItem>, opts?: RunOptions): ValidateResult[] {
    const reads = opts?.stateReads;
    return this.call("validate", items, opts, undefined).results.map((w, i): ValidateResult => {
      if (w === 1) return { ok: true };
      if (typeof w === "number") {
        if (reads !== undefined && w === 2) reads.push(i);
        return { ok: true };
      }
      if (reads !== undefined && w.q === 1) reads.push(i);
      if ("x" in w) return { ok: false, reason: w.x };
      return toFault(w as WireFault);
    });
  }

  transform(items: ReadonlyArray<HookItem>, opts?: RunOptions): TransformResult[] {
    const reads = opts?.stateReads;
    return this.call("transform", items, opts, undefined).results.map((w, i): TransformResult => {
      if (typeof w === "number") return missingResult("transform");
      if (reads !== undefined && w.q === 1) reads.push(i);
      if ("o" in w) return { outputs: w.o };
      return toFault(w as WireFault);
    });
  }

  reduce(state: Json, items: ReadonlyArray<HookItem>, opts?: RunOptions): { state: Json; results: ReduceItemResult[] } {
    const start = JSON.stringify(state);
    const out = this.call("reduce", items, opts, start);
    return { state: out.state === start ? state : (safeParse(out.state) as Json), results: out.results.map(reduceResult) };
  }

  fold(state: Json, items: ReadonlyArray<HookItem>, opts?: RunOptions & { validateOnly?: ReadonlySet<number> }): { state: Json; results: FoldItemResult[] } {
    if (!this.hooks.includes("validate")) return this.reduceAsFold(state, items, opts);
    const start = JSON.stringify(state);
    const only = opts?.validateOnly ?? new Set<number>();
    const out = this.call("reduce", items, opts, start, { validateOnly: only });
    const results = out.results.map((w, i): FoldItemResult => {
      if (w === 3) return { validate: { ok: true } };
      if (typeof w === "object" && "v" in w && w.v === 1) return { validate: "x" in w ? { ok: false, reason: w.x } : toFault(w as WireFault) };
      // A verdict the host made (a timeout, the block budget) for an input that runs validate only is validate's.
      if (only.has(i) && typeof w === "object" && "f" in w) return { validate: toFault(w) };
      return { validate: { ok: true }, reduce: reduceResult(w) };
    });
    return { state: out.state === start ? state : (safeParse(out.state) as Json), results };
  }

  private reduceAsFold(state: Json, items: ReadonlyArray<HookItem>, opts?: RunOptions & { validateOnly?: ReadonlySet<number> }): { state: Json; results: FoldItemResult[] } {
    const only = opts?.validateOnly;
    const runs = items.map((_, i) => i).filter((i) => only === undefined || !only.has(i));
    const r = this.reduce(state, runs.map((i) => items[i]), opts);
    const results: FoldItemResult[] = items.map(() => ({ validate: { ok: true } }));
    runs.forEach((i, k) => (results[i] = { validate: { ok: true }, reduce: r.results[k] }));
    return { state: r.state, results };
  }

  dispose(): void {
    this.isDisposed = true;
    this.drop();
  }

  /** Runs `hook` over `items` and adds the call's wall time to the block budget. */
  private call(hook: HookName, items: ReadonlyArray<HookItem>, opts: RunOptions | undefined, state: string | undefined, fold?: { validateOnly: ReadonlySet<number> }): { results: WireResult[]; state: string } {
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
    this.useChannel(opts?.channel, opts?.token);
    const budget = opts?.budget ?? createBlockBudget();
    const spentBefore = budget.spentMs;
    const started = nowMs();
    try {
      return this.callTimed(hook, items, opts, state, spentBefore, started, fold);
    } finally {
      budget.spentMs = spentBefore + (nowMs() - started);
      this.reading = undefined;
    }
  }

  private callTimed(
    hook: HookName,
    items: ReadonlyArray<HookItem>,
    opts: RunOptions | undefined,
    state: string | undefined,
    spentBefore: number,
    started: number,
    fold?: { validateOnly: ReadonlySet<number> },
  ): { results: WireResult[]; state: string } {
    const timeMs = opts?.timeMs === undefined ? this.limits.timeMs : checkTimeMs(opts.timeMs, this.opts.name);
    const verify = opts?.verify === undefined ? undefined : { timedOut: new Set(opts.verify.timedOut) };
    const cut = opts?.verify?.blockBudget;
    const refused = cut === undefined || cut.length === 0 ? undefined : new Set(cut);
    const n = items.length;
    const results: WireResult[] = new Array<WireResult>(n);
    const runs: number[] = [];
    for (let i = 0; i < n; i++) {
      if (refused !== undefined && refused.has(items[i].ctx.index)) results[i] = this.blockFault();
      else runs.push(i);
    }
    if (runs.length === 0) return { results, state: state ?? "null" };

    // Items of one block share its state object: stringify each distinct state once per call.
    const stateTexts: string[] = [];
    const stateOf: number[] = new Array<number>(n).fill(0);
    const first = items[runs[0]].ctx.state;
    stateTexts.push(JSON.stringify(first) ?? "null");
    let stateIndex: Map<Json, number> | undefined;
    let lastState: unknown = first;
    let si = 0;
    for (const i of runs) {
      const s = items[i].ctx.state;
      if (s !== lastState) {
        stateIndex ??= new Map<Json, number>([[first, 0]]);
        const known = stateIndex.get(s);
        si = known ?? stateTexts.push(JSON.stringify(s) ?? "null") - 1;
        if (known === undefined) stateIndex.set(s, si);
        lastState = s;
      }
      stateOf[i] = si;
    }
    let stateChars = state?.length ?? 0;
    for (const t of stateTexts) stateChars += t.length;
    if (stateChars > this.stateLimit) {
      const f = this.stateFault(stateChars, false);
      for (const i of runs) results[i] = f;
      return { results, state: state ?? "null" };
    }

    const c: CallCtx = {
      hook,
      items,
      datas: new Array<string>(n),
      timings: new Array<ItemTiming>(n),
      timeMs,
      slackMs: Math.max(MIN_SLACK_MS, Math.ceil(timeMs * SLACK_FRACTION)),
      perItem: verify !== undefined,
      stateTexts,
      stateOf,
      stateChars,
      blockMs: blockLimitMs(this.limits.blockTimeMs, verify !== undefined, this.opts.proposerBlockTimeMs) - spentBefore,
      blockStart: started,
      spent: false,
      records: opts?.records,
      fold,
    };
    for (const i of runs) {
      c.datas[i] = JSON.stringify(items[i].data) ?? "null";
      c.timings[i] = itemTiming(timeMs, items[i].ctx.index, verify);
    }

    let snap = state;
    const maxChars = this.limits.memoryMb * CHUNK_CHARS_PER_MB;
    for (let from = 0; from < runs.length; ) {
      let to = from + 1;
      let chars = c.datas[runs[from]].length;
      while (to < runs.length && to - from < MAX_CHUNK_ITEMS && chars + c.datas[runs[to]].length <= maxChars) chars += c.datas[runs[to++]].length;
      const positions = runs.slice(from, to);
      const chunk: Chunk = { positions, stops: positions.map((i) => stopOf(c.timings[i])), known: new Map() };
      const out: ChunkOut = c.spent ? { results: positions.map(() => this.blockFault()), snap } : this.runChunk(c, chunk, snap);
      positions.forEach((i, k) => (results[i] = out.results[k]));
      snap = out.snap;
      from = to;
    }
    return { results, state: snap ?? "null" };
  }

  /**
   * Runs a chunk as one job. When a job fails in a way no input can be blamed
   * for from outside (memory, a rejection or a loop after returning), the
   * inputs from the last results it handed over to the end of its range are
   * run one per job until one fails alone (its verdict is then the one a call
   * of its own gives), and batching resumes after it. One at a time rather
   * than halves: the failure that repeats costs the most (an isolate that ran
   * out of memory takes up to a second and a rebuild; a microtask loop a whole
   * budget), a call of one input ~20-70 us.
   */
  private runChunk(c: CallCtx, chunk: Chunk, snap: string | undefined): ChunkOut {
    const out: ChunkOut = { results: [], snap };
    const n = chunk.positions.length;
    let soloUntil = 0;
    let pos = 0;
    while (pos < n) {
      const to = pos < soloUntil ? pos + 1 : n;
      const r = this.runJob(c, chunk, pos, to, out);
      pos = r.pos;
      if (r.spent) {
        c.spent = true;
        for (; pos < n; pos++) out.results.push(this.blockFault());
        break;
      }
      if (r.fail === undefined) continue;
      let fail = r.fail;
      if (fail.kind === "memory" && this.stateDoesNotFit(c, out.snap)) fail = { kind: "state" };
      if (fail.kind === "state") {
        let chars = out.snap?.length ?? 0;
        for (const t of c.stateTexts) chars += t.length;
        const f = this.stateFault(chars, true);
        for (; pos < n; pos++) out.results.push(f);
        break;
      }
      if (to - pos === 1) {
        const known = chunk.known.get(pos);
        out.results.push(known !== undefined ? (JSON.parse(known) as WireFault) : this.soloFault(fail, c.timeMs));
        pos++;
        soloUntil = pos;
        continue;
      }
      soloUntil = to;
    }
    return out;
  }

  /**
   * Runs chunk positions [from, to) as one job in the isolate: a start call,
   * then resume calls each time the isolate yields or the timer stops an
   * input (which is then a timeout, or refused if the block's time ran out).
   */
  private runJob(c: CallCtx, chunk: Chunk, from: number, to: number, out: ChunkOut): { pos: number; spent?: true; fail?: Failure } {
    let pos = from;
    let started = false;
    let force = 0;
    let skip = "";
    this.reading = { records: c.records, positions: chunk.positions, from, datas: c.datas };
    while (pos < to) {
      const left = c.blockMs - (nowMs() - c.blockStart);
      // Under a millisecond left: no input can start and finish (the isolate's clock counts whole ms).
      if (left < 1) return { pos, spent: true };
      const stop = chunk.stops[pos];
      const callMs = stop + c.slackMs;
      const timeout = Math.max(1, Math.min(callMs, Math.floor(left)));
      const box = this.ensure();
      const inv = started
        ? invoke(box, ["resume", callMs, left, force, skip], timeout)
        : this.start(box, c, chunk, from, to, out.snap, callMs, left, force, timeout);
      started = true;
      skip = "";
      this.throwRecordsError();
      if (inv.kind === "ok") {
        const got = take(c.hook, inv.text, out);
        pos += got;
        // A call that could not start its first input in the window (setup took it): force the next.
        force = got === 0 ? 1 : 0;
        continue;
      }
      if (inv.kind === "memory") {
        this.drop();
        return { pos, fail: inv };
      }
      if (inv.kind === "crash") return { pos, fail: inv };
      const st = this.status(box);
      if (st === undefined) return { pos, fail: { kind: "timeout", elapsedMs: inv.elapsedMs } };
      if (st.u === 0) {
        // Stopped while parsing the payload: set the job up with a generous timer, then go on as usual.
        const setup = this.start(box, c, chunk, from, to, out.snap, 0, left, 0, Math.max(1, Math.min(SETUP_MS, Math.floor(left))));
        this.throwRecordsError();
        if (setup.kind === "ok") continue;
        if (setup.kind === "memory") this.drop();
        return { pos, fail: setup.kind === "timeout" ? { kind: "state" } : setup };
      }
      pos += takeStatus(c.hook, st, out);
      if (st.c !== undefined && st.c >= 0 && st.a === 1) {
        skip = "S";
        force = 0;
        continue;
      }
      if (st.c !== undefined && st.c >= 0) {
        // Input st.c was running when the timer fired: the realm started it only with its whole
        // budget before the timer, so it ran over it, unless the block's deadline came first. Its
        // verdict goes back in: the isolate hands it over in order, after redoing the inputs a
        // reduce state has not been checkpointed for (prelude.ts "reduce").
        const cutStop = chunk.stops[from + st.c];
        const byBlock = timeout < callMs && (st.e ?? 0) < cutStop;
        skip = JSON.stringify(byBlock ? this.blockFault() : { f: "TIMEOUT", m: timeoutMessage(c.timeMs), e: st.e ?? 0 });
        chunk.known.set(from + st.c, skip);
        force = 0;
        continue;
      }
      // Stopped between inputs or while handing results over: carry on.
      if (st.i === 1) continue;
      // Stopped after the call returned: a microtask some input left ran over.
      return { pos, fail: { kind: "timeout", elapsedMs: inv.elapsedMs } };
    }
    return { pos };
  }

  /** The isolate's progress after the timer stopped a call, or undefined if it cannot tell. */
  private status(box: Box): Status | undefined {
    if (box.isolate.isDisposed) return undefined;
    const st = invoke(box, ["status"], STATUS_MS);
    if (st.kind !== "ok") {
      if (st.kind === "memory") this.drop();
      return undefined;
    }
    return safeParse(st.text) as Status;
  }

  /** After a memory fault: true if the state alone does not fit in a fresh isolate. */
  private stateDoesNotFit(c: CallCtx, snap: string | undefined): boolean {
    const payload = `{"d":[],"s":[${c.stateTexts.join(",")}],"b":[],"x":[],"k":null,"l":null,"g":null,"a":null,"t":1,"w":1,"hr":0,"v":null,"cm":0,"bl":${SETUP_MS},"f":0}`;
    const r = invoke(this.ensure(), snap === undefined ? [c.hook, payload] : [c.hook, payload, snap], SETUP_MS);
    if (r.kind === "memory") this.drop();
    return r.kind === "memory";
  }

  /**
   * The verdict of an input that failed alone in a way only the host sees. The
   * messages name the cell's limits, never measured values, so a validator's
   * verdict is byte-identical to the proposer's (docs/sandbox.md "Timeouts").
   */
  private soloFault(f: Exclude<Failure, { kind: "state" }>, timeMs: number): WireFault {
    if (f.kind === "timeout") return { f: "TIMEOUT", m: timeoutMessage(timeMs), e: f.elapsedMs };
    if (f.kind === "memory") return { f: "MEMORY", m: `the hook ran out of memory (limit ${this.limits.memoryMb} MB)`, e: 0 };
    return { f: "THROW", m: `the hook failed after returning (an unhandled promise rejection?): ${clipText(f.message)}`, e: 0 };
  }

  private blockFault(): WireFault {
    return { f: "BLOCK_BUDGET", m: blockMessage(this.limits.blockTimeMs), e: 0 };
  }

  /** SANDBOX_STATE_TOO_LARGE: over the size bound (deterministic), or did not fit after all (as deterministic as SANDBOX_MEMORY). */
  private stateFault(chars: number, measured: boolean): WireFault {
    const mb = this.limits.memoryMb;
    const m = measured
      ? `the cell state handed to the hooks (${chars} characters of JSON) did not fit in the ${mb} MB sandbox beside the block's inputs`
      : `the cell state handed to the hooks takes ${chars} characters of JSON, over the ${this.stateLimit} a ${mb} MB sandbox can take`;
    return { f: "STATE_TOO_LARGE", m, e: 0 };
  }

  /** The first call of a job: its payload carries the timer settings (prelude.ts "Wire format"). */
  private start(box: Box, c: CallCtx, chunk: Chunk, from: number, to: number, snap: string | undefined, callMs: number, left: number, force: number, timeout: number): Invocation {
    const payload = `${this.payload(c, chunk, from, to)},"cm":${callMs},"bl":${left},"f":${force}}`;
    return invoke(box, snap === undefined ? [c.hook, payload] : [c.hook, payload, snap], timeout);
  }

  /**
   * Chunk positions [from, to) as one JSON text without its closing brace (prelude.ts "Wire format").
   * Columns instead of one row per item, and columns that are all alike sent
   * as null: host-side JSON.stringify is most of the crossing cost, so every
   * byte counts.
   */
  private payload(c: CallCtx, chunk: Chunk, from: number, to: number): string {
    const n = to - from;
    const blocks: HookItem["ctx"]["block"][] = [];
    const blockIndex = new Map<string, number>();
    const indexes: number[] = new Array<number>(n);
    const bis: number[] = new Array<number>(n);
    const sis: number[] = new Array<number>(n);
    const signers: Array<string | null> = new Array<string | null>(n);
    const datas: string[] = new Array<string>(n);
    let oneBlock = true;
    let oneState = true;
    let noSigner = true;
    // Items of one block share its header: compare with the previous item first.
    let lastBlock: unknown = undefined;
    let bi = -1;
    const known: Array<[number, string]> = [];
    for (const [at, text] of chunk.known) if (at >= from && at < to) known.push([at - from, text]);
    for (let k = 0; k < n; k++) {
      const i = chunk.positions[from + k];
      const { ctx } = c.items[i];
      if (ctx.block !== lastBlock) {
        const b = ctx.block;
        const key = `${b.height}|${b.time}|${b.hash}`;
        const known = blockIndex.get(key);
        bi = known ?? blocks.push({ height: b.height, time: b.time, hash: b.hash }) - 1;
        if (known === undefined) blockIndex.set(key, bi);
        lastBlock = b;
      }
      const signer = ctx.signer ?? null;
      indexes[k] = ctx.index;
      bis[k] = bi;
      sis[k] = c.stateOf[i];
      signers[k] = signer;
      datas[k] = c.datas[i];
      if (bi !== 0) oneBlock = false;
      if (sis[k] !== 0) oneState = false;
      if (signer !== null) noSigner = false;
    }
    const rest = JSON.stringify({
      b: blocks,
      x: indexes,
      k: oneBlock ? null : bis,
      l: oneState ? null : sis,
      g: noSigner ? null : signers,
      t: c.timeMs,
      a: c.perItem ? chunk.positions.slice(from, to).map((i) => [c.timings[i].budgetMs, c.timings[i].agreeMs]) : null,
      w: c.slackMs,
      hr: c.records === undefined ? 0 : 1,
      v: known.length === 0 ? null : known,
      ...(c.fold === undefined ? {} : { vf: 1, vo: c.fold.validateOnly.size === 0 ? null : chunk.positions.slice(from, to).map((i) => (c.fold!.validateOnly.has(i) ? 1 : 0)) }),
    });
    // The data and state texts were made once per call (they also size the chunks); splice them in.
    return `{"d":[${datas.join(",")}],"s":[${c.stateTexts.join(",")}],${rest.slice(1, -1)}`;
  }

  /** ctx.record inside the isolate: one record from the caller's reader, as JSON text. */
  private readRecord(key: string, position: number): string | undefined {
    const r = this.reading;
    if (r === undefined || r.records === undefined || this.recordsError !== undefined) return undefined;
    try {
      const value = r.records(key, r.positions[r.from + position]);
      if (value === undefined) return undefined;
      const text = JSON.stringify(value);
      if (typeof text !== "string") throw new TypeError(`the records reader gave ${typeof value} for "${key}", not JSON`);
      return text;
    } catch (error: unknown) {
      this.recordsError = { error };
      return undefined;
    }
  }

  /** The data text of a job's input, for an input the isolate runs again (prelude.ts "hostData"). */
  private readData(position: number): string {
    const r = this.reading;
    return r === undefined ? "null" : r.datas[r.positions[r.from + position]];
  }

  /**
   * ctx.channel: sent to the isolate (parsed and deep-frozen there) when it is
   * another channel than the last one, or the isolate was rebuilt; the same
   * channel object (or the same name, version, hash and params object) costs nothing.
   * ctx.token goes with it: another token object (a block at another token
   * height) sends both again; the same one costs nothing.
   */
  private useChannel(ch: RunOptions["channel"], token: Json | undefined): void {
    if (ch === undefined) return;
    const last = this.channel;
    if (last !== undefined && last.token === token && (last.ref === ch || (last.ref.name === ch.name && last.ref.version === ch.version && last.ref.hash === ch.hash && last.ref.params === ch.params))) return;
    const text = JSON.stringify({ name: ch.name, version: ch.version, hash: ch.hash, params: ch.params ?? null, token: token ?? null });
    this.channel = { ref: ch, token, text };
    if (this.box !== undefined && !this.box.isolate.isDisposed) this.sendChannel(this.box);
  }

  private sendChannel(box: Box): void {
    if (this.channel === undefined) return;
    const r = invoke(box, ["channel", this.channel.text], SETUP_MS);
    if (r.kind !== "ok") {
      throw new StatecellError("SANDBOX_CHANNEL", `${this.opts.name}: the channel's params could not be handed to the sandbox (${r.kind === "memory" ? "out of memory" : r.kind})`, {
        remedy: `keep params (and the token's accounts, which hooks read as ctx.token) small enough for the cell's memoryMb (${this.limits.memoryMb} MB), or raise it`,
      });
    }
  }

  /** A failing records reader is the caller's bug: the whole call throws its error. */
  private throwRecordsError(): void {
    const e = this.recordsError;
    if (e === undefined) return;
    this.recordsError = undefined;
    throw e.error;
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
        (factory: unknown, readRecord: unknown, readData: unknown, config: string) => unknown
      >;
      // Stack traces a hook can read name this, not the file's path, which differs between machines.
      const factory = isolate
        .compileScriptSync(wrapFactory(this.stripped), { filename: `hooks:${this.opts.name}`, lineOffset: FACTORY_LINE_OFFSET }).runSync(context, { reference: true }) as ivm.Reference<
        () => unknown
      >;
      // A Callback turns into a plain function inside; arguments and result are copied (strings only here).
      const reader = new ivm.Callback((key: string, position: number) => this.readRecord(key, position));
      const data = new ivm.Callback((position: number) => this.readData(position));
      // What every call shares, sent once (prelude.ts "Wire format": install's config).
      const config = JSON.stringify({
        o: this.maxOutputChars,
        m: this.maxStateChars,
        rr: this.maxRecordReads,
        bm: blockMessage(this.limits.blockTimeMs),
        tp: TIMEOUT_PREFIX,
        ts: TIMEOUT_SUFFIX,
      });
      const run = install.applySync(undefined, [factory.derefInto(), reader, data, config], { result: { reference: true } }) as unknown as Box["run"];
      install.release();
      factory.release();
      this.box = { isolate, run };
      this.sendChannel(this.box);
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

/** Time the file's top level may take when the runner is created (see the constructor). */
export const INIT_TIME_MS = 1000;

/** The one wording of every timeout verdict: the cell's budget, never the measured time. */
function timeoutMessage(timeMs: number): string {
  return `${TIMEOUT_PREFIX}${timeMs}${TIMEOUT_SUFFIX}`;
}
const TIMEOUT_PREFIX = "the hook ran over its time budget of ";
const TIMEOUT_SUFFIX = " ms";

function blockMessage(blockTimeMs: number): string {
  return `the hooks of this block used up their shared time budget of ${blockTimeMs} ms before this input finished`;
}

function stopOf(t: ItemTiming): number {
  return t.agreeMs >= 0 ? t.agreeMs : t.budgetMs;
}

function nowMs(): number {
  return performance.now();
}

function invoke(box: Box, args: Array<string | number>, timeoutMs: number): Invocation {
  const started = process.hrtime.bigint();
  try {
    const text = box.run.applySync(undefined, args, { timeout: timeoutMs });
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

/** Adds the results of a call that returned to `out`; returns how many there were. */
function take(hook: HookName, text: string, out: ChunkOut): number {
  if (hook !== "reduce") {
    const list = safeParse(text) as WireResult[];
    for (const r of list) out.results.push(r);
    return list.length;
  }
  // '{"s":<state>,"r":[...]}': keep the state as text so the host parses it once, at the end.
  const r = text.lastIndexOf(',"r":[');
  const list = safeParse(text.slice(r + 5, -1)) as WireResult[];
  for (const x of list) out.results.push(x);
  out.snap = text.slice(5, r);
  return list.length;
}

/** Adds the results a status call handed over to `out`; returns how many there were. */
function takeStatus(hook: HookName, st: Status, out: ChunkOut): number {
  const list = st.r ?? [];
  for (const r of list) out.results.push(r);
  if (hook === "reduce" && st.s !== undefined) out.snap = JSON.stringify(st.s);
  return list.length;
}

/**
 * JSON.parse, dropping any `__proto__` key. The isolate already faults
 * outputs with such keys; this is the host's own guard, and costs nothing
 * unless the text contains the word.
 */
function safeParse(text: string): unknown {
  return text.includes("__proto__") ? JSON.parse(text, (k, v: unknown) => (k === "__proto__" ? undefined : v)) : JSON.parse(text);
}

/** A message from outside the realm (an unhandled rejection's): at most 1,000 code points, well-formed. */
function clipText(s: string): string {
  let out = s;
  if (s.length > 1000) {
    const points = Array.from(s);
    if (points.length > 1000) out = `${points.slice(0, 1000).join("")}...`;
  }
  return out.replace(LONE_SURROGATE, "\uFFFD");
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function missingResult(hook: HookName): SandboxFault {
  return { fault: "SANDBOX_OUTPUT", message: `the ${hook} hook returned no result for this input` };
}

function reduceResult(w: WireResult): ReduceItemResult {
  if (w === 1) return { ok: true };
  if (typeof w === "object" && "x" in w) return { ok: false, reason: w.x };
  return toFault(w as WireFault);
}

function toFault(w: WireFault): SandboxFault {
  const fault: SandboxFault = { fault: `SANDBOX_${w.f}`, message: w.m };
  if (w.f === "TIMEOUT") fault.elapsedMs = w.e;
  return fault;
}
