/**
 * The node as operators see it: every hosted channel with its status,
 * version, heights and last error (GET /v1/channels), and the dashboard's
 * view of it (GET /v1/dashboard and its live feed): the pipeline of cells
 * with groups, thresholds and what each tolerates, validators online, live
 * blocks, recent rejections explained, snapshots and L0 status, the token,
 * and throughput and latency. Built from the plans and what the node reads
 * at the moment; plain JSON.
 */
import type { ChannelPlan } from "../definition/plan.js";
import { TOKEN_CELL } from "../definition/token-amount.js";
import type { ChannelActivity, BlockSeen, RejectionSeen, SecondSeen } from "./activity.js";

/** What the view reads of one hosted cell. */
export interface CellReading {
  height: number;
  round: number;
  step: string;
  running: boolean;
  mempool: { count: number; bytes: number };
  /** What stopped the cell's group, if it stopped. */
  fault?: { code: string; message: string };
  /** The cell's state, read-only and not copied (for the token's balances); read only when the channel has a token. */
  state?: () => unknown;
  /** The version the cell's next block runs, and the versions staged above it (upgrades at a height). */
  version?: { version: number; hash: string };
  staged?: ReadonlyArray<{ version: number; hash: string; activation: number; atSnapshot?: number }>;
}

/** One hosted channel as the node knows it. */
export interface HostedChannel {
  plan: ChannelPlan;
  activity: ChannelActivity;
  /** Readings of the cells this node's validator runs, by cell name. */
  cells: ReadonlyMap<string, CellReading>;
  /** The last error of the channel (a refused reload, a stopped group), newest. */
  lastError?: { code: string; message: string; at: number };
  /** Snapshots and their L0 status, when a snapshot submitter reports them. */
  snapshots?: { height: number; hash: string; l0: string; at: number } | undefined;
}

export interface NodeViewSource {
  node: string;
  channels(): Iterable<HostedChannel>;
  /** True when validator `name` is this node or connected to it. */
  online(name: string): boolean;
  now(): number;
}

/** The status of a hosted channel: running, degraded (a group stopped or cannot reach a quorum here), stopped. */
export type ChannelStatus = "running" | "degraded" | "stopped";

export interface ChannelSummary {
  channel: string;
  version: number;
  hash: string;
  status: ChannelStatus;
  cells: Array<{ cell: string; height: number; running: boolean; version?: number }>;
  /** Versions staged to come into force at a block height (`activation`), the earliest first; `atSnapshot`: the snapshot height from which L0 holds it in force, when L0 scheduled it. */
  staged?: Array<{ version: number; hash: string; activation: number; atSnapshot?: number }>;
  lastError: { code: string; message: string; at: number } | null;
}

function statusOf(h: HostedChannel): ChannelStatus {
  const cells = [...h.cells.values()];
  if (cells.length > 0 && cells.every((c) => !c.running)) return "stopped";
  if (cells.some((c) => !c.running)) return "degraded";
  return "running";
}

function lastErrorOf(h: HostedChannel): ChannelSummary["lastError"] {
  for (const c of h.cells.values()) if (c.fault !== undefined) return { ...c.fault, at: h.lastError?.at ?? 0 };
  return h.lastError ?? null;
}

/** GET /v1/channels: every hosted channel, by name. */
export function channelSummaries(src: NodeViewSource): ChannelSummary[] {
  const out: ChannelSummary[] = [];
  for (const h of src.channels()) {
    // The version running is the oldest any hosted cell's next block runs; staged ones are those above it in some cell.
    let running: { version: number; hash: string } = { version: h.plan.version, hash: h.plan.hash };
    const readings = [...h.cells.values()];
    const versions = readings.map((c) => c.version).filter((v): v is { version: number; hash: string } => v !== undefined);
    if (versions.length > 0) running = versions.reduce((a, b) => (b.version < a.version ? b : a));
    const staged = new Map<string, { version: number; hash: string; activation: number; atSnapshot?: number }>();
    for (const c of readings) for (const s of c.staged ?? []) staged.set(s.hash, { version: s.version, hash: s.hash, activation: s.activation, ...(s.atSnapshot !== undefined ? { atSnapshot: s.atSnapshot } : {}) });
    out.push({
      channel: h.plan.channel,
      version: running.version,
      hash: running.hash,
      status: statusOf(h),
      cells: [...h.cells.entries()].map(([cell, c]) => ({ cell, height: c.height, running: c.running, ...(c.version !== undefined ? { version: c.version.version } : {}) })),
      ...(versions.length > 0 ? { staged: [...staged.values()].sort((a, b) => a.activation - b.activation) } : {}),
      lastError: lastErrorOf(h),
    });
  }
  return out.sort((a, b) => (a.channel < b.channel ? -1 : a.channel > b.channel ? 1 : 0));
}

export interface DashboardCell {
  name: string;
  description?: string;
  group: string;
  upstream: readonly string[];
  downstream: readonly string[];
  /** Pipeline depth (sources are 0), for the graph's layout. */
  depth: number;
  hosted: boolean;
  code: boolean;
  signed: boolean;
  rules: Array<{ name: string; requires: string; description?: string }>;
  height: number | null;
  round: number | null;
  step: string | null;
  running: boolean | null;
  mempool: number | null;
  /** Recent blocks that carried inputs, oldest first. */
  blocks: readonly BlockSeen[];
  /** The last block committed here, empty or not. */
  lastBlock: BlockSeen | null;
}

export interface DashboardChannel {
  channel: string;
  version: number;
  hash: string;
  description?: string;
  status: ChannelStatus;
  lastError: ChannelSummary["lastError"];
  groups: Array<{
    name: string;
    description?: string;
    threshold: { written: string | number; quorum: number; size: number; safetyFaults: number; livenessFaults: number };
    validators: Array<{ name: string; online: boolean; self: boolean }>;
  }>;
  cells: DashboardCell[];
  rejections: RejectionSeen[];
  series: SecondSeen[];
  snapshots: { configured: string | null; last: HostedChannel["snapshots"] | null };
  token: { name: string; symbol: string; decimals: number; supply: string; top: Array<{ account: string; balance: string }>; from: "state" | "genesis" } | null;
}

export interface DashboardView {
  node: string;
  time: number;
  channels: DashboardChannel[];
}

/** Depth of each cell in the pipeline: 0 for a source, 1 + the deepest upstream otherwise. */
function depths(plan: ChannelPlan): Map<string, number> {
  const d = new Map<string, number>();
  for (const name of plan.order) {
    const up = plan.cells[name].upstream;
    d.set(name, up.length === 0 ? 0 : 1 + Math.max(...up.map((u) => d.get(u) ?? 0)));
  }
  return d;
}

/** The `count` largest balances, by one pass (no sort of every account). */
/** The `count` largest balances, as decimal strings of base units (amounts are never JS numbers). */
function topBalances(balances: Readonly<Record<string, unknown>>, count: number): Array<{ account: string; balance: string }> {
  const all: Array<{ account: string; balance: string; n: bigint }> = [];
  for (const account in balances) {
    const b = balances[account];
    const text = typeof b === "string" && /^[0-9]{1,39}$/.test(b) ? b : typeof b === "number" && Number.isSafeInteger(b) && b >= 0 ? String(b) : undefined;
    if (text !== undefined) all.push({ account, balance: text, n: BigInt(text) });
  }
  all.sort((x, y) => (x.n < y.n ? 1 : x.n > y.n ? -1 : x.account < y.account ? -1 : 1));
  return all.slice(0, count).map(({ account, balance }) => ({ account, balance }));
}

/** Top balances: from the first hosted cell whose state has a `balances` object of numbers, else the token's genesis. */
function tokenOf(h: HostedChannel): DashboardChannel["token"] {
  const t = h.plan.token;
  if (t === undefined) return null;
  let balances: Readonly<Record<string, unknown>> | undefined;
  let from: "state" | "genesis" = "genesis";
  let supply = t.supply;
  // The token cell's own reading first (its committed balances and supply), else any cell with balances.
  const cells = [...h.cells.entries()].sort(([a], [b]) => (a === "token" ? -1 : b === "token" ? 1 : 0)).map(([, c]) => c);
  for (const c of cells) {
    const s = c.state?.() as { balances?: unknown; supply?: unknown } | undefined;
    if (s !== undefined && s !== null && typeof s.balances === "object" && s.balances !== null && !Array.isArray(s.balances)) {
      balances = s.balances as Readonly<Record<string, unknown>>;
      from = "state";
      if (typeof s.supply === "string" && /^[0-9]{1,39}$/.test(s.supply)) supply = s.supply;
      break;
    }
  }
  const top = topBalances(balances ?? t.genesis, 10);
  return { name: t.name, symbol: t.symbol, decimals: t.decimals, supply, top, from };
}

/** What the graph shows of a cell as this node runs it (nulls where it does not host it), and its recent blocks. */
function liveCell(h: HostedChannel, name: string) {
  const r = h.cells.get(name);
  return {
    hosted: r !== undefined,
    height: r?.height ?? null,
    round: r?.round ?? null,
    step: r?.step ?? null,
    running: r?.running ?? null,
    mempool: r?.mempool.count ?? null,
    blocks: h.activity.blocksOf(name),
    lastBlock: h.activity.lastBlock(name) ?? null,
  };
}

/** The built-in token cell as the graph draws a cell: its group, its chain, no links (other cells read it, nothing flows). */
function tokenCell(h: HostedChannel): DashboardChannel["cells"] {
  const t = h.plan.token;
  if (t === undefined) return [];
  return [
    {
      name: TOKEN_CELL,
      description: `the built-in cell of ${t.symbol}: signed transfers, approvals and transferFroms`,
      group: t.group,
      upstream: [],
      downstream: [],
      depth: 0,
      code: false,
      signed: true,
      rules: [],
      ...liveCell(h, TOKEN_CELL),
    },
  ];
}

function dashboardChannel(src: NodeViewSource, h: HostedChannel, now: number): DashboardChannel {
  const plan = h.plan;
  const depth = depths(plan);
  const snap = plan.snapshots;
  return {
    channel: plan.channel,
    version: plan.version,
    hash: plan.hash,
    ...(plan.description !== undefined ? { description: plan.description } : {}),
    status: statusOf(h),
    lastError: lastErrorOf(h),
    groups: Object.values(plan.groups).map((g) => ({
      name: g.name,
      ...(g.description !== undefined ? { description: g.description } : {}),
      threshold: { ...g.threshold },
      validators: g.validators.map((name) => ({ name, online: src.online(name), self: name === src.node })),
    })),
    cells: [...plan.order.map((name) => {
      const c = plan.cells[name];
      const rules = [...c.rules, ...Object.values(c.operations ?? {}).flatMap((o) => o.rules)];
      return {
        name,
        ...(c.description !== undefined ? { description: c.description } : {}),
        group: c.group,
        upstream: c.upstream,
        downstream: c.downstream,
        depth: depth.get(name) ?? 0,
        code: c.code !== undefined,
        signed: c.signed,
        rules: rules.map((x) => ({ name: x.name, requires: x.english, ...(x.description !== undefined ? { description: x.description } : {}) })),
        ...liveCell(h, name),
      };
    }), ...tokenCell(h)],
    rejections: h.activity.recentRejections(),
    series: h.activity.series(now),
    snapshots: {
      configured: snap === undefined ? null : `group ${snap.group}, every ${snap.every !== undefined ? `${snap.every} blocks` : `${snap.seconds} seconds`}`,
      last: h.snapshots ?? null,
    },
    token: tokenOf(h),
  };
}

/** The dashboard's view of the node (all channels, or the one named). */
export function dashboardView(src: NodeViewSource, channel?: string): DashboardView {
  const now = src.now();
  const channels: DashboardChannel[] = [];
  for (const h of src.channels()) if (channel === undefined || h.plan.channel === channel) channels.push(dashboardChannel(src, h, now));
  channels.sort((a, b) => (a.channel < b.channel ? -1 : 1));
  return { node: src.node, time: now, channels };
}
