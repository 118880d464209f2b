/**
 * What a node gives its operators, composed in one place so the node itself
 * only hooks it in: Prometheus metrics, the recent activity of each channel
 * (for the dashboard), the cell observer that feeds both, timed code
 * runners, and the operator's routes (/metrics, /v1/channels, the
 * dashboard and its feed).
 *
 *   const ops = createOperations({ node: "alice", plans, log });
 *   new CellHost({ ..., observer: ops.observer, runner: ops.timed(channel, cell, runner) });
 *   ops.bind({ hosts: () => hosts.values(), online, peers });
 *   createApiServer(core, { routes: ops.routes });
 */
import { StatecellError } from "../core/errors.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { CodeRunner } from "../sandbox/index.js";
import { ChannelActivity } from "./activity.js";
import type { CellObserver } from "./cell-host.js";
import type { GroupHost } from "./group-host.js";
import type { ChainBase } from "../ledger/index.js";
import type { Logger } from "./log.js";
import { createNodeMetrics, timedRunner, type NodeMetrics } from "./metrics.js";
import type { CellReading, HostedChannel, NodeViewSource } from "./node-view.js";
import { opsRoutes } from "./api/ops-routes.js";
import type { ExtraRoute } from "./api/http.js";

export interface OperationsBinding {
  hosts(): Iterable<GroupHost<ChainBase>>;
  /** True when validator `name` is this node or connected to it. */
  online(name: string): boolean;
  peers(): { connected: number; known: number };
}

export interface Operations {
  readonly metrics: NodeMetrics;
  readonly observer: CellObserver;
  /** The runner, its hook calls timed into statecell_sandbox_seconds_total. */
  timed(channel: string, cell: string, runner: CodeRunner): CodeRunner;
  /** Starts (or replaces) a channel's activity and metric labels. */
  host(plan: ChannelPlan): void;
  /** Forgets a removed channel. */
  unhost(channel: string): void;
  /** Records a channel's last error (a refused reload). */
  error(channel: string, code: string, message: string): void;
  /** Connects the view and the scrape-time gauges to the running node. */
  bind(b: OperationsBinding): void;
  readonly routes: readonly ExtraRoute[];
  /** The node's view (GET /v1/channels and the dashboard read it). */
  readonly view: NodeViewSource;
  close(): void;
}

export function createOperations(opts: { node: string; plans: readonly ChannelPlan[]; log: Logger; now?: () => number; metrics?: NodeMetrics }): Operations {
  const now = opts.now ?? Date.now;
  const metrics = opts.metrics ?? createNodeMetrics();
  const channels = new Map<string, { plan: ChannelPlan; activity: ChannelActivity; lastError?: HostedChannel["lastError"] }>();
  let binding: OperationsBinding | undefined;
  /** The hosted cells' runners (the heap gauges read them at scrape time). */
  const sandboxes = new Map<string, { channel: string; cell: string; runner: CodeRunner }>();

  const host = (plan: ChannelPlan): void => {
    channels.set(plan.channel, { plan, activity: new ChannelActivity(plan) });
    metrics.declare(plan);
  };
  for (const p of opts.plans) host(p);

  // Observers run on the node's hot path: nothing they do may throw into it.
  const safe = (what: string, f: () => void): void => {
    try {
      f();
    } catch (e) {
      opts.log.warn(`${what} not recorded`, { error: e instanceof Error ? e.message : String(e) });
    }
  };
  const observer: CellObserver = {
    committed: (channel, cell, b) =>
      safe("commit", () => {
        const t = now();
        channels.get(channel)?.activity.committed(cell, b, t);
        const rejected: Array<{ code: string; rule?: string }> = [];
        for (const v of b.verdicts) if (!v.accepted) rejected.push({ code: v.code ?? "unknown", ...(v.rule !== undefined ? { rule: v.rule } : {}) });
        metrics.committed({ channel, cell, height: b.height, accepted: b.inputs.length - rejected.length, rejected, latencyMs: t - b.time });
      }),
    refused: (channel, cell, r) =>
      safe("refusal", () => {
        channels.get(channel)?.activity.refused(cell, r, now());
        metrics.refused(channel, cell, r.code, r.rule);
      }),
    admitted: (channel, cell, source, count) => safe("admission", () => metrics.admitted(channel, cell, source, count)),
  };

  const readings = (channel: string): Map<string, CellReading> => {
    const m = new Map<string, CellReading>();
    if (binding === undefined) return m;
    for (const h of binding.hosts()) {
      if (h.channel !== channel) continue;
      const st = h.driver.state;
      const fault = h.driver.fault;
      m.set(h.cell, {
        height: h.chain.height,
        round: st?.round ?? 0,
        step: st?.step ?? "new-height",
        running: h.driver.running,
        mempool: h.poolSize(),
        ...(fault !== null && fault !== undefined
          ? { fault: { code: fault instanceof StatecellError ? fault.code : "NODE_GROUP_STOPPED", message: fault instanceof Error ? fault.message : String(fault) } }
          : {}),
        // The live state, read in place (no copy): the view takes only what it shows.
        state: () => h.liveState(),
        version: { version: h.plan.version, hash: h.plan.hash },
        staged: h.staged().map((v) => ({ version: v.plan.version, hash: v.plan.hash, activation: v.from, ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) })),
      });
    }
    return m;
  };

  const view: NodeViewSource = {
    node: opts.node,
    now,
    online: (name) => binding?.online(name) ?? name === opts.node,
    *channels() {
      for (const c of channels.values()) {
        yield { plan: c.plan, activity: c.activity, cells: readings(c.plan.channel), ...(c.lastError !== undefined ? { lastError: c.lastError } : {}) };
      }
    },
  };

  metrics.bind({
    *cells() {
      if (binding === undefined) return;
      for (const h of binding.hosts()) {
        const st = h.driver.state;
        yield { channel: h.channel, cell: h.cell, height: h.chain.height, round: st?.round ?? 0, step: st?.step ?? "new-height", mempool: h.poolSize(), running: h.driver.running };
      }
    },
    peers: () => binding?.peers() ?? { connected: 0, known: 0 },
    *sandboxes() {
      for (const s of sandboxes.values()) if (!s.runner.disposed) yield s;
    },
  });

  const served = opsRoutes(view, metrics);
  return {
    metrics,
    observer,
    timed: (channel, cell, runner) => {
      const timed = timedRunner(runner, (s) => safe("sandbox time", () => metrics.sandbox(channel, cell, s)));
      // The newest runner of a cell is the one it runs (an upgrade builds the next before the old stops).
      sandboxes.set(`${channel}/${cell}`, { channel, cell, runner: timed });
      return timed;
    },
    host,
    unhost: (channel) => {
      channels.delete(channel);
      metrics.forget(channel);
      for (const [k, s] of sandboxes) if (s.channel === channel) sandboxes.delete(k);
    },
    error: (channel, code, message) => {
      const c = channels.get(channel);
      if (c !== undefined) c.lastError = { code, message, at: now() };
    },
    bind: (b) => {
      binding = b;
    },
    routes: served.routes,
    view,
    close: () => served.close(),
  };
}
