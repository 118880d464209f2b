/**
 * One hosted cell of a channel's pipeline at one node: the shared group host
 * (group-host.ts: driver, mempool, gossip, statuses) with the cells' ports:
 *
 * - admission is `admitSubmission`, the same function blocks use, and a
 *   submission is then checked against the latest committed state (a dry run
 *   of the cell's pipeline) before it is acknowledged;
 * - a block is committed with its state, verdicts, records and outputs in one
 *   ledger transaction, through the cells' state codec;
 * - outputs of upstream cells are offered before the mempool's submissions,
 *   and after each commit the next block's worth is re-checked against the
 *   new state;
 * - a cell whose rules read the token (cells/token-reads.ts) reads it through
 *   the node's token follower (token-follower.ts): its blocks name the token
 *   height they read, and admission's dry run reads the freshest one held.
 */
import type { Json } from "../core/canonical.js";
import { canonicalString } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { ChannelPlan } from "../definition/plan.js";
import { cellReadsToken, blockVerdicts, plainState, type BlockInput, type CodeRunner } from "../cells/index.js";
import {
  admitSubmission,
  cellApplication,
  genesisCellChain,
  outputEntry,
  versionedApplication,
  type CellApplication,
  type CellChainState,
  type CertifiedBlock,
  type HeldTokenView,
  type VersionedApplication,
} from "../consensus/index.js";
import type { CellLedger } from "../ledger/index.js";
import { deliveryRows, type DeliveryStore } from "./deliveries.js";
import { GroupHost, type CommitRows, type GroupHostDeps, type HostRefusal } from "./group-host.js";

export { NODE_TIMEOUTS, type CellObserver } from "./group-host.js";

/** A later version of the channel, in force from block height `from` (a staged upgrade). */
export interface HostVersion {
  from: number;
  plan: ChannelPlan;
  runner: CodeRunner | undefined;
  /** The snapshot height from which L0 holds it in force, when L0 scheduled it. */
  atSnapshot?: number;
}

/** What a cell host needs from the node around it. */
export interface CellHostDeps extends GroupHostDeps {
  ledger: CellLedger;
  runner: CodeRunner | undefined;
  /** Outputs delivered to this cell by upstream cells (absent for a source cell). */
  deliveries: DeliveryStore | undefined;
  /** Later versions with their activation heights, in increasing order (also those already in force: a restart replays blocks with them). `plan` is in force from genesis. */
  versions?: readonly HostVersion[];
  /** The version in force changed at this cell: `plan` runs from block `height` on. */
  switched?(plan: ChannelPlan, height: number): void;
  /** The channel's token as this node follows it (required when the cell reads the token). */
  token?: CellTokenPorts;
}

/** The token views a cell that reads the token gets from the node (token-follower.ts). */
export interface CellTokenPorts {
  /** The token as committed at `height`, when held. */
  at(height: number): HeldTokenView | undefined;
  /** The token height a proposer names. */
  head(): number;
  /** The freshest token height held (what admission's dry run reads). */
  latest(): number;
  /** A value named a height not held yet. */
  missing(height: number): void;
}

/** The cell application of one version. */
function appOf(d: CellHostDeps, v: HostVersion): CellApplication {
  const runner = v.runner;
  const t = d.token;
  return cellApplication(v.plan, d.cellName, runner === undefined ? {} : { code: () => runner }, {
    ...(d.deliveries === undefined ? {} : { deliveries: (from: string, seq: number) => d.deliveries!.get(from, seq) }),
    ...(t === undefined ? {} : { token: (h: number) => t.at(h), tokenHead: () => t.head(), tokenMissing: (h: number) => t.missing(h) }),
  });
}

export class CellHost extends GroupHost<CellChainState> {
  readonly app: VersionedApplication;
  /** Every version, the first from height 1, in increasing order of activation. */
  private readonly versions: HostVersion[];
  /**
   * What admission made of each submission object under which plan, for the
   * check against the head and the re-check after each commit (no second
   * admission, nor signature check, of an object the pool hands out again).
   */
  private readonly admitted = new WeakMap<object, { plan: ChannelPlan; input: BlockInput }>();

  constructor(private readonly d: CellHostDeps) {
    const versions: HostVersion[] = [{ from: 1, plan: d.plan, runner: d.runner }, ...(d.versions ?? [])];
    const app = versionedApplication(versions.map((v) => ({ from: v.from, app: appOf(d, v) })));
    super(d, app, d.ledger, genesisCellChain);
    this.app = app;
    this.versions = versions;
  }

  /** The version in force at block `height`. */
  versionAt(height: number): HostVersion {
    for (let i = this.versions.length - 1; i > 0; i--) if (height >= this.versions[i].from) return this.versions[i];
    return this.versions[0];
  }

  /** The plan the next block runs (what admission, dry runs and offers use). */
  override get plan(): ChannelPlan {
    return this.versionAt(this.chain.height + 1).plan;
  }

  /** The versions not yet in force here: from above the next block's height. */
  override staged(): ReadonlyArray<{ from: number; plan: ChannelPlan; atSnapshot?: number }> {
    const next = this.chain.height + 1;
    return this.versions.filter((v) => v.from > next);
  }

  /**
   * Adds a version in force from block `v.from`, which must be above the next
   * height and every version here: no block already built or being decided
   * changes meaning. @throws StatecellError when it is not.
   */
  stage(v: HostVersion): void {
    const next = this.chain.height + 1;
    if (v.from <= next) {
      throw new StatecellError("NODE_UPGRADE_TOO_LATE", `${this.channel}/${this.cell} is deciding block ${next}; an upgrade from block ${v.from} would change blocks already decided or being decided`, { remedy: `give the new version an \`activation:\` above ${next}, the same on every node` });
    }
    this.app.stage({ from: v.from, app: appOf(this.d, v) });
    this.versions.push(v);
  }

  /**
   * A catch-up answer whose blocks name a token height this node does not
   * hold yet is set aside (and the token pulled at once): applied now, each
   * such block would be refused as not re-executing and the peer that served
   * it called bad. The driver asks again with the next message from a higher
   * height (every 100 ms at most), by when the follower has the height.
   */
  override receive(from: string, m: unknown): void {
    if (this.aheadOfToken(m)) return;
    super.receive(from, m);
  }

  private aheadOfToken(m: unknown): boolean {
    const t = this.d.token;
    if (t === undefined || typeof m !== "object" || m === null || (m as { type?: unknown }).type !== "catchup-response") return false;
    const blocks = (m as { blocks?: unknown }).blocks;
    if (!Array.isArray(blocks)) return false;
    let max = -1;
    for (const b of blocks) {
      const h = (b as { value?: { token?: { height?: unknown } } } | null)?.value?.token?.height;
      if (typeof h === "number" && Number.isSafeInteger(h) && h > max) max = h;
    }
    if (max <= t.latest()) return false;
    t.missing(max);
    return true;
  }

  protected admit(sub: Json): HostRefusal | undefined {
    const a = this.admitUnder(this.plan, sub);
    return "accepted" in a ? { code: a.code, message: a.message } : undefined;
  }

  /** admitSubmission under `plan`, remembered per submission object and plan. */
  private admitUnder(plan: ChannelPlan, sub: Json): ReturnType<typeof admitSubmission> {
    const key = typeof sub === "object" && sub !== null ? sub : undefined;
    const known = key && this.admitted.get(key);
    if (known && known.plan === plan) return known.input;
    const a = admitSubmission(plan, this.cell, sub);
    if (key && !("accepted" in a)) this.admitted.set(key, { plan, input: a });
    return a;
  }

  protected check(subs: readonly Json[]): ReadonlyArray<HostRefusal | undefined> {
    const inputs: BlockInput[] = [];
    for (const s of subs) {
      const a = this.admitUnder(this.plan, s);
      if ("accepted" in a) return subs.map(() => undefined); // admitted a moment ago: cannot happen; the block decides
      inputs.push(a);
    }
    const verdicts = this.dryRun(inputs);
    // Against the token as this node follows it, a refusal may be of a view a moment old: sent again, it is checked again.
    const transient = this.d.token !== undefined && cellReadsToken(this.plan, this.cell);
    return subs.map((_s, i) => {
      const v = verdicts?.[i];
      return v !== undefined && !v.accepted ? { code: v.code, message: v.message, ...(v.rule !== undefined ? { rule: v.rule } : {}), ...(transient ? { transient: true as const } : {}) } : undefined;
    });
  }

  protected rowsOf(block: CertifiedBlock, _state: CellChainState): CommitRows<CellChainState> {
    const outputs = this.app.outputsOf(block.value) ?? [];
    const verdicts = this.app.verdictsOf(block.value);
    const outbox = deliveryRows(this.channel, this.cell, block.height, outputs);
    return { commit: { ...(verdicts ? { verdicts } : {}), outbox }, verdicts, outputs };
  }

  protected afterCommitted(block: CertifiedBlock): void {
    this.d.deliveries?.prune(this.chain.received);
    const next = this.versionAt(block.height + 1);
    if (next !== this.versionAt(block.height)) this.switchTo(next, block.height + 1);
  }

  /**
   * The next block is the first of a new version: every pending input is
   * checked again under it (admission, then a dry run against the latest
   * state, a block's worth at a time), and what it refuses is settled as
   * rejected with its code and the version that refused it, never left
   * pending or dropped silently. An input a block takes before this runs
   * gets its verdict from the new version in that block.
   */
  private switchTo(v: HostVersion, height: number): void {
    const why = (message: string): string => `refused by version ${v.plan.version}, in force from block ${height}: ${message}`;
    let refused = 0;
    const admitted: Array<{ id: string; input: BlockInput }> = [];
    for (const p of this.d.ledger.mempool.pending()) {
      const a = admitSubmission(v.plan, this.cell, p.submission);
      if (!("accepted" in a)) admitted.push({ id: p.id, input: a });
      else if (this.d.ledger.mempool.reject(p.id, { code: a.code, message: why(a.message) })) refused++;
    }
    const chunk = Math.max(1, v.plan.blockLimits.maxInputs);
    for (let i = 0; i < admitted.length; i += chunk) {
      const part = admitted.slice(i, i + chunk);
      const verdicts = this.dryRun(part.map((a) => a.input));
      verdicts?.forEach((r, j) => {
        if (!r.accepted && this.d.ledger.mempool.reject(part[j].id, { code: r.code, message: why(r.message), ...(r.rule !== undefined ? { rule: r.rule } : {}) })) refused++;
      });
    }
    this.d.log.info("version in force", { channel: this.channel, cell: this.cell, height, version: v.plan.version, hash: v.plan.hash, refused });
    this.d.switched?.(v.plan, height);
  }

  protected fedByUpstream(): boolean {
    return this.plan.cells[this.cell].upstream.length > 0;
  }

  protected offeredFirst(limit: number): Json[] {
    const list: Json[] = [];
    if (this.d.deliveries === undefined) return list;
    for (const from of this.plan.cells[this.cell].upstream) {
      for (const o of this.d.deliveries.contiguousFrom(from, this.chain.received[from] ?? 0)) {
        if (list.length >= limit) break;
        list.push(outputEntry(o));
      }
    }
    return list;
  }

  /** The inputs the next block would take, re-checked against the new state; those that now fail leave the pool. */
  protected recheck(): void {
    const plan = this.plan;
    const pending = this.d.ledger.mempool.pending(plan.blockLimits.maxInputs);
    if (pending.length === 0) return;
    const admitted: Array<{ id: string; input: BlockInput }> = [];
    for (const p of pending) {
      const a = this.admitUnder(plan, p.submission);
      if ("accepted" in a) this.d.ledger.mempool.reject(p.id, { code: a.code, message: a.message });
      else admitted.push({ id: p.id, input: a });
    }
    const verdicts = this.dryRun(admitted.map((a) => a.input));
    if (verdicts === undefined) return;
    verdicts.forEach((v, i) => {
      if (!v.accepted) this.d.ledger.mempool.reject(admitted[i].id, { code: v.code, message: v.message, ...(v.rule !== undefined ? { rule: v.rule } : {}) });
    });
  }

  /** The cell's pipeline over `inputs` against the latest committed state, as a block would run them; undefined when it cannot run. */
  private dryRun(inputs: BlockInput[]) {
    if (inputs.length === 0) return [];
    const chain = this.chain;
    const { plan, runner } = this.versionAt(chain.height + 1);
    const token = this.tokenForDryRun(plan);
    try {
      // Verdicts only: the next state of a dry run is never used (blockVerdicts says why that matters).
      return blockVerdicts(plan, this.cell, chain.cell, inputs, { height: chain.height + 1, time: Math.max(this.d.now(), chain.time + 1), hash: "0".repeat(64) }, { ...(runner === undefined ? {} : { code: () => runner }), ...(token === undefined ? {} : { token }) });
    } catch (e) {
      this.d.log.warn("dry run failed", { channel: this.channel, cell: this.cell, error: String(e) });
      return undefined;
    }
  }

  /** What a dry run reads as `token`: the view the next block would most likely name (none for a cell that does not read it). */
  private tokenForDryRun(plan: ChannelPlan) {
    const t = this.d.token;
    if (t === undefined || !cellReadsToken(plan, this.cell)) return undefined;
    const floor = this.chain.token?.height ?? 0;
    return (t.at(Math.max(floor, t.latest())) ?? t.at(floor))?.view;
  }

  liveState(): unknown {
    return this.chain.cell;
  }

  /** The state as plain JSON without records (the API reads records one at a time). */
  state(): Json {
    const s = plainState(this.chain.cell) as Record<string, Json>;
    delete s.records;
    return s;
  }

  record(key: string): Json | undefined {
    const recs = (this.chain.cell as { records?: Record<string, Json> }).records;
    if (recs === undefined || !Object.prototype.hasOwnProperty.call(recs, key)) return undefined;
    return JSON.parse(canonicalString(recs[key])) as Json;
  }
}
