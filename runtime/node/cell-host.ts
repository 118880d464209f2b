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
 *   new state.
 */
import type { Json } from "../core/canonical.js";
import { canonicalString } from "../core/canonical.js";
import { executeBlock, plainState, type BlockInput, type CodeRunner } from "../cells/index.js";
import { admitSubmission, cellApplication, genesisCellChain, outputEntry, type CellApplication, type CellChainState, type CertifiedBlock } from "../consensus/index.js";
import type { CellLedger } from "../ledger/index.js";
import { deliveryRows, type DeliveryStore } from "./deliveries.js";
import { GroupHost, type CommitRows, type GroupHostDeps, type HostRefusal } from "./group-host.js";

export { NODE_TIMEOUTS, type CellObserver } from "./group-host.js";

/** What a cell host needs from the node around it. */
export interface CellHostDeps extends GroupHostDeps {
  ledger: CellLedger;
  runner: CodeRunner | undefined;
  /** Outputs delivered to this cell by upstream cells (absent for a source cell). */
  deliveries: DeliveryStore | undefined;
}

export class CellHost extends GroupHost<CellChainState> {
  readonly app: CellApplication;
  /** What admission made of each submission object, for the check against the head (no second signature check). */
  private readonly admitted = new WeakMap<object, BlockInput>();

  constructor(private readonly d: CellHostDeps) {
    const modules = d.runner === undefined ? {} : { code: () => d.runner };
    const app = cellApplication(d.plan, d.cellName, modules, d.deliveries === undefined ? {} : { deliveries: (from, seq) => d.deliveries!.get(from, seq) });
    super(d, app, d.ledger, genesisCellChain);
    this.app = app;
  }

  protected admit(sub: Json): HostRefusal | undefined {
    const a = admitSubmission(this.d.plan, this.cell, sub);
    if ("accepted" in a) return { code: a.code, message: a.message };
    if (typeof sub === "object" && sub !== null) this.admitted.set(sub, a);
    return undefined;
  }

  protected check(subs: readonly Json[]): ReadonlyArray<HostRefusal | undefined> {
    const inputs: BlockInput[] = [];
    for (const s of subs) {
      const known = typeof s === "object" && s !== null ? this.admitted.get(s) : undefined;
      const a = known ?? admitSubmission(this.d.plan, this.cell, s);
      if ("accepted" in a) return subs.map(() => undefined); // admitted a moment ago: cannot happen; the block decides
      inputs.push(a);
    }
    const verdicts = this.dryRun(inputs);
    return subs.map((_s, i) => {
      const v = verdicts?.[i];
      return v !== undefined && !v.accepted ? { code: v.code, message: v.message, ...(v.rule !== undefined ? { rule: v.rule } : {}) } : undefined;
    });
  }

  protected rowsOf(block: CertifiedBlock, _state: CellChainState): CommitRows<CellChainState> {
    const outputs = this.app.outputsOf(block.value) ?? [];
    const verdicts = this.app.verdictsOf(block.value);
    const outbox = deliveryRows(this.channel, this.cell, block.height, outputs);
    return { commit: { ...(verdicts ? { verdicts } : {}), outbox }, verdicts, outputs };
  }

  protected afterCommitted(): void {
    this.d.deliveries?.prune(this.chain.received);
  }

  protected offeredFirst(limit: number): Json[] {
    const list: Json[] = [];
    if (this.d.deliveries === undefined) return list;
    for (const from of this.d.plan.cells[this.cell].upstream) {
      for (const o of this.d.deliveries.contiguousFrom(from, this.chain.received[from] ?? 0)) {
        if (list.length >= limit) break;
        list.push(outputEntry(o));
      }
    }
    return list;
  }

  /** The inputs the next block would take, re-checked against the new state; those that now fail leave the pool. */
  protected recheck(): void {
    const pending = this.d.ledger.mempool.pending(this.d.plan.blockLimits.maxInputs);
    if (pending.length === 0) return;
    const admitted: Array<{ id: string; input: BlockInput }> = [];
    for (const p of pending) {
      const a = admitSubmission(this.d.plan, this.cell, p.submission);
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
    try {
      const r = executeBlock(this.d.plan, this.cell, chain.cell, inputs, { height: chain.height + 1, time: Math.max(this.d.now(), chain.time + 1), hash: "0".repeat(64) }, this.d.runner === undefined ? {} : { code: () => this.d.runner });
      return r.verdicts;
    } catch (e) {
      this.d.log.warn("dry run failed", { channel: this.channel, cell: this.cell, error: String(e) });
      return undefined;
    }
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
