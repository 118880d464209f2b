/**
 * The node's Prometheus metrics (prom-client), served at GET /metrics. One
 * registry per node (several nodes may share a process in tests), so no
 * metric is global.
 *
 * Label values are bounded by what the channel declares, never by what a
 * client sends: `channel` and `cell` are hosted names, `rule` is one of the
 * cell's declared rule names (or `none` when no rule refused, `other` for a
 * name the cell does not declare, e.g. a code hook's free text), `code` is
 * an upper-case code of at most 64 characters from at most
 * MAX_CODES_PER_CELL distinct codes per cell (`OTHER` past that). So the
 * number of series is fixed by the node's channel files.
 *
 * Counters move on events (a commit, a refusal, a sandbox call); gauges that
 * describe the present (round, step, height, mempool depth, peers) are read
 * from the node when Prometheus scrapes, so they cost nothing in between.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ChannelPlan } from "../definition/plan.js";
import { TOKEN_CELL } from "../definition/token-amount.js";
import type { CodeRunner } from "../sandbox/index.js";

/** Distinct rejection codes counted per cell before the rest are `OTHER`. */
export const MAX_CODES_PER_CELL = 64;
/** Consensus steps as the `step` label of statecell_consensus_step. */
export const STEPS = ["new-height", "propose", "prevote", "precommit"] as const;
const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/** What the metrics read from the node at scrape time. */
export interface MetricsSource {
  cells(): Iterable<{ channel: string; cell: string; height: number; round: number; step: string; mempool: { count: number; bytes: number }; running: boolean }>;
  peers(): { connected: number; known: number };
  /** The code runners of the hosted cells, for their isolates' heap (statecell_sandbox_heap_bytes). */
  sandboxes?(): Iterable<{ channel: string; cell: string; runner: CodeRunner }>;
}

/** One committed block as the metrics see it. */
export interface CommitObservation {
  channel: string;
  cell: string;
  height: number;
  /** Accepted inputs of the block. */
  accepted: number;
  /** Code and rule of each rejected input. */
  rejected: ReadonlyArray<{ code: string; rule?: string }>;
  /** From the block's time (its proposer's clock) to its commit here, in ms. */
  latencyMs: number;
}

export interface NodeMetrics {
  readonly registry: Registry;
  /** Makes the channel's cells and rules known: their label values are allowed from now on. */
  declare(plan: ChannelPlan): void;
  /** Forgets a channel's allowed labels (a removed channel). */
  forget(channel: string): void;
  committed(o: CommitObservation): void;
  /** A submission refused before any block (admission, dry run, a full pool). */
  refused(channel: string, cell: string, code: string, rule?: string, count?: number): void;
  /** Submissions checked for admission (shape, schema, signature), from clients or from group peers' gossip. */
  admitted(channel: string, cell: string, source: "client" | "peer", count: number): void;
  /** Time spent in a cell's code hooks. */
  sandbox(channel: string, cell: string, seconds: number): void;
  /** Seconds since the channel's last snapshot was acknowledged by L0 (set by the snapshot submitter). */
  setL0Lag(channel: string, seconds: number): void;
  /** A channel reload: applied, or refused (the old version kept running). */
  reload(channel: string, ok: boolean): void;
  /** Admin API calls, by route and outcome status. */
  admin(route: string, status: number): void;
  /** Reads the present from `source` on each scrape. */
  bind(source: MetricsSource): void;
  /** The exposition text. */
  text(): Promise<string>;
  readonly contentType: string;
}

export function createNodeMetrics(opts: { defaults?: boolean } = {}): NodeMetrics {
  const registry = new Registry();
  if (opts.defaults !== false) collectDefaultMetrics({ register: registry });
  const rulesOf = new Map<string, Set<string>>();
  const codesOf = new Map<string, Set<string>>();
  let source: MetricsSource | undefined;

  const ruleLabel = (channel: string, cell: string, rule: string | undefined): string => {
    if (rule === undefined) return "none";
    return rulesOf.get(`${channel}/${cell}`)?.has(rule) === true ? rule : "other";
  };
  const codeLabel = (channel: string, cell: string, code: string): string => {
    if (!CODE.test(code)) return "OTHER";
    const key = `${channel}/${cell}`;
    let set = codesOf.get(key);
    if (set === undefined) codesOf.set(key, (set = new Set()));
    if (set.has(code)) return code;
    if (set.size >= MAX_CODES_PER_CELL) return "OTHER";
    set.add(code);
    return code;
  };
  const known = (channel: string, cell: string): boolean => rulesOf.has(`${channel}/${cell}`);

  const blocks = new Counter({ name: "statecell_blocks_committed_total", help: "Blocks committed by this node, per cell.", labelNames: ["channel", "cell"], registers: [registry] });
  const inputs = new Counter({ name: "statecell_inputs_committed_total", help: "Inputs accepted in committed blocks, per cell.", labelNames: ["channel", "cell"], registers: [registry] });
  const rejections = new Counter({
    name: "statecell_rejections_total",
    help: "Inputs rejected, per cell, rule and code; stage is block (a committed block's verdict) or admission (refused before any block).",
    labelNames: ["channel", "cell", "rule", "code", "stage"],
    registers: [registry],
  });
  const latency = new Histogram({
    name: "statecell_commit_latency_seconds",
    help: "From a block's time (its proposer's clock) to its commit at this node.",
    labelNames: ["channel", "cell"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const admissions = new Counter({
    name: "statecell_admissions_total",
    help: "Submissions checked for admission (shape, schema, signature), per cell and source (client, or peer: a group peer's gossip). A client's copy of a known input, and a peer's copy of one pending here, are not checked again.",
    labelNames: ["channel", "cell", "source"],
    registers: [registry],
  });
  const sandboxSeconds = new Counter({ name: "statecell_sandbox_seconds_total", help: "Time spent in a cell's code hooks (validate, transform, reduce).", labelNames: ["channel", "cell"], registers: [registry] });
  const sandboxCalls = new Counter({ name: "statecell_sandbox_calls_total", help: "Calls into a cell's code hooks (one per batch of items).", labelNames: ["channel", "cell"], registers: [registry] });
  const l0Lag = new Gauge({ name: "statecell_l0_submission_lag_seconds", help: "Seconds since the channel's last snapshot was acknowledged by L0.", labelNames: ["channel"], registers: [registry] });
  const reloads = new Counter({ name: "statecell_reloads_total", help: "Channel reloads applied (add or upgrade).", labelNames: ["channel"], registers: [registry] });
  const reloadFailures = new Counter({ name: "statecell_reload_failures_total", help: "Channel reloads refused (the definition did not load or lint); the old version kept running.", labelNames: ["channel"], registers: [registry] });
  const adminCalls = new Counter({ name: "statecell_admin_requests_total", help: "Admin API calls, by route and answer status.", labelNames: ["route", "status"], registers: [registry] });

  const each = (f: (c: ReturnType<MetricsSource["cells"]> extends Iterable<infer T> ? T : never) => void): void => {
    if (source === undefined) return;
    for (const c of source.cells()) f(c);
  };
  new Gauge({
    name: "statecell_height",
    help: "Height of the cell's last committed block at this node.",
    labelNames: ["channel", "cell"],
    registers: [registry],
    collect() {
      this.reset();
      each((c) => this.set({ channel: c.channel, cell: c.cell }, c.height));
    },
  });
  new Gauge({
    name: "statecell_consensus_round",
    help: "Consensus round of the height being decided.",
    labelNames: ["channel", "cell"],
    registers: [registry],
    collect() {
      this.reset();
      each((c) => this.set({ channel: c.channel, cell: c.cell }, c.round));
    },
  });
  new Gauge({
    name: "statecell_consensus_step",
    help: "1 for the step the cell's consensus is in, 0 for the others.",
    labelNames: ["channel", "cell", "step"],
    registers: [registry],
    collect() {
      this.reset();
      each((c) => {
        for (const s of STEPS) this.set({ channel: c.channel, cell: c.cell, step: s }, s === c.step ? 1 : 0);
      });
    },
  });
  new Gauge({
    name: "statecell_group_running",
    help: "1 while the cell's group runs at this node, 0 once it stopped (a fault).",
    labelNames: ["channel", "cell"],
    registers: [registry],
    collect() {
      this.reset();
      each((c) => this.set({ channel: c.channel, cell: c.cell }, c.running ? 1 : 0));
    },
  });
  new Gauge({
    name: "statecell_mempool_inputs",
    help: "Pending inputs in the cell's mempool.",
    labelNames: ["channel", "cell"],
    registers: [registry],
    collect() {
      this.reset();
      each((c) => this.set({ channel: c.channel, cell: c.cell }, c.mempool.count));
    },
  });
  new Gauge({
    name: "statecell_mempool_bytes",
    help: "Bytes of the pending inputs in the cell's mempool.",
    labelNames: ["channel", "cell"],
    registers: [registry],
    collect() {
      this.reset();
      each((c) => this.set({ channel: c.channel, cell: c.cell }, c.mempool.bytes));
    },
  });
  /** A gauge per hosted code cell of one figure of its isolate's heap, read at scrape time. */
  const heapGauge = (name: string, help: string, figure: "usedBytes" | "limitBytes") =>
    new Gauge({
      name,
      help,
      labelNames: ["channel", "cell"],
      registers: [registry],
      collect() {
        this.reset();
        if (source?.sandboxes === undefined) return;
        for (const s of source.sandboxes()) {
          if (!known(s.channel, s.cell)) continue;
          const h = s.runner.heap?.();
          if (h !== undefined) this.set({ channel: s.channel, cell: s.cell }, h[figure]);
        }
      },
    });
  heapGauge("statecell_sandbox_heap_bytes", "Heap in use in the isolate of a cell's code hooks (V8 heap statistics: used plus external), read at scrape time.", "usedBytes");
  heapGauge("statecell_sandbox_heap_limit_bytes", "Heap limit of the isolate of a cell's code hooks (its limits.memoryMb as V8 applies it).", "limitBytes");
  new Gauge({
    name: "statecell_peers_connected",
    help: "Validators this node is connected to.",
    registers: [registry],
    collect() {
      this.set(source?.peers().connected ?? 0);
    },
  });
  new Gauge({
    name: "statecell_peers_known",
    help: "Validators this node peers with (the other validators of its groups).",
    registers: [registry],
    collect() {
      this.set(source?.peers().known ?? 0);
    },
  });

  return {
    registry,
    contentType: registry.contentType,
    declare(plan) {
      for (const [name, cell] of Object.entries(plan.cells)) {
        const rules = new Set<string>(cell.rules.map((r) => r.name));
        for (const op of Object.values(cell.operations ?? {})) for (const r of op.rules) rules.add(r.name);
        for (const r of Object.keys(cell.code?.rejects ?? {})) rules.add(r);
        rulesOf.set(`${plan.channel}/${name}`, rules);
      }
      // The built-in token cell: no rules of its own; its refusals are TOKEN_* codes (bounded per cell like any).
      if (plan.token !== undefined) rulesOf.set(`${plan.channel}/${TOKEN_CELL}`, new Set());
    },
    forget(channel) {
      for (const k of [...rulesOf.keys()]) if (k.startsWith(`${channel}/`)) rulesOf.delete(k);
      for (const k of [...codesOf.keys()]) if (k.startsWith(`${channel}/`)) codesOf.delete(k);
    },
    committed(o) {
      if (!known(o.channel, o.cell)) return;
      const l = { channel: o.channel, cell: o.cell };
      blocks.inc(l);
      if (o.accepted > 0) inputs.inc(l, o.accepted);
      for (const r of o.rejected) rejections.inc({ ...l, rule: ruleLabel(o.channel, o.cell, r.rule), code: codeLabel(o.channel, o.cell, r.code), stage: "block" });
      latency.observe(l, Math.max(0, o.latencyMs) / 1000);
    },
    refused(channel, cell, code, rule, count = 1) {
      if (!known(channel, cell)) return;
      rejections.inc({ channel, cell, rule: ruleLabel(channel, cell, rule), code: codeLabel(channel, cell, code), stage: "admission" }, count);
    },
    admitted(channel, cell, source, count) {
      if (!known(channel, cell) || count <= 0) return;
      admissions.inc({ channel, cell, source }, count);
    },
    sandbox(channel, cell, seconds) {
      if (!known(channel, cell)) return;
      sandboxSeconds.inc({ channel, cell }, seconds);
      sandboxCalls.inc({ channel, cell });
    },
    setL0Lag(channel, seconds) {
      if ([...rulesOf.keys()].some((k) => k.startsWith(`${channel}/`))) l0Lag.set({ channel }, seconds);
    },
    reload(channel, ok) {
      (ok ? reloads : reloadFailures).inc({ channel: channel.slice(0, 64) });
    },
    admin(route, status) {
      adminCalls.inc({ route, status: String(status) });
    },
    bind(s) {
      source = s;
    },
    text: () => registry.metrics(),
  };
}

/**
 * A code runner whose hook calls are timed into `observe` (seconds). The
 * measurement is local to this node and never part of what validators
 * compare. Everything else the runner offers passes through unchanged: a
 * wrapper without `tracksReads` and `fold` made executeBlock call the hooks
 * one input at a time on every node (the code-cell benchmark, which uses the
 * bare runner, batched them). So the wrapper's type names every member of
 * CodeRunner, optional ones included: a member added to the interface and not
 * passed on here is a type error, not a silent slowdown.
 */
export function timedRunner(runner: CodeRunner, observe: (seconds: number) => void): CodeRunner {
  const timed =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      const t0 = performance.now();
      try {
        return f(...a);
      } finally {
        observe((performance.now() - t0) / 1000);
      }
    };
  const fold = runner.fold;
  const wrapped: { [K in keyof Required<CodeRunner>]: CodeRunner[K] } = {
    get hooks() {
      return runner.hooks;
    },
    get tracksReads() {
      return runner.tracksReads;
    },
    validate: timed(runner.validate.bind(runner)),
    transform: timed(runner.transform.bind(runner)),
    reduce: timed(runner.reduce.bind(runner)),
    fold: fold === undefined ? undefined : timed(fold.bind(runner)),
    heap: () => runner.heap?.(),
    dispose: () => runner.dispose(),
    get disposed() {
      return runner.disposed;
    },
  };
  return wrapped;
}
