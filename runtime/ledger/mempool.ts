/**
 * The mempool of one cell and its rows of the input status index: a pending
 * submission's canonical text is a row of `pending_inputs`, deleted when it
 * settles; the settled input's status, block height and index, and the
 * verdict's code, rule and message are a row of `input_status`, for
 * `GET /v1/inputs/{id}` (docs/ledger.md, "Tables").
 *
 * An add is one transaction with synchronous=FULL: durable when it returns,
 * so the node acknowledges a submission only after `add` returned "added" or
 * "known". The pool is bounded in count and bytes; a full pool refuses with
 * a code, never drops silently. Pending submissions are parsed once and the
 * same objects handed out on every read, so what consensus memoises per
 * object (admission, signature checks, input ids) is done once.
 */
import type Database from "better-sqlite3";
import type { Json } from "../core/canonical.js";
import type { AddResult, InputStatus, PendingInput, Refusal } from "./types.js";
import type { InputRow, Statements } from "./statements.js";
import { identify, rememberId, type Identity } from "./input-id.js";
import type { Durability } from "./durability.js";
import { ledgerError, rowLimit } from "./errors.js";

/** The bounds of one cell's pool. */
export interface PoolLimits {
  maxInputs: number;
  maxBytes: number;
}

/** A submission with its id and canonical text, ready to store. */
interface Identified {
  id: string;
  text: string;
  size: number;
  time: number;
  submission: Json;
}

function identified(submission: Json, time: number, identity?: Identity): Identified {
  if (!Number.isSafeInteger(time) || time < 0) {
    throw ledgerError("LEDGER_BAD_TIME", `the time of a mempool add is ${String(time)}, not a whole number of unix ms`, "pass Date.now(), or the time the node received the submission");
  }
  const { id, text, bytes } = identity ?? identify(submission);
  return { id, text, size: bytes, time, submission };
}

/** A pending input as the pool keeps it in memory: its row, size and receive time. */
export interface PendingEntry {
  seq: number;
  bytes: number;
  received: number;
}

/** A status row as the API shows it. */
export function statusOf(r: InputRow): InputStatus {
  return { id: r.id, channel: r.channel, cell: r.cell, status: r.status, height: r.height, index: r.idx, code: r.code, rule: r.rule, message: r.message, received: r.received };
}

/** The mempool of one (channel, cell). */
export class Mempool {
  /**
   * Each pending input's row, bytes and receive time, by id: loaded once
   * when the cell is opened and changed only after a transaction committed,
   * so the bounds and pending duplicates are checked without a query, and a
   * commit knows which of its inputs were pending and which row to delete.
   * Bounded by the pool's limits.
   */
  private readonly sizes = new Map<string, PendingEntry>();
  private bytes = 0;
  /**
   * Pending submissions by id, in arrival order (a subset of `sizes`: all of
   * them once read after a restart), with when they were received: `pending()`
   * answers from here without a query. It is asked at every offer to
   * consensus, after every submission message, for two blocks' worth.
   */
  private readonly parsed = new Map<string, { submission: Json; received: number }>();
  private readonly addBatch: Database.Transaction<(items: readonly Identified[]) => { out: AddResult[]; added: Array<Identified & { seq: number }> }>;
  private readonly rejectTx: Database.Transaction<(id: string, entry: PendingEntry, refusal: Refusal) => void>;

  constructor(
    db: Database.Database,
    private readonly s: Statements,
    private readonly durability: Durability,
    private readonly cellId: number,
    /** The bounds of this pool. */
    readonly limits: PoolLimits,
    private readonly where: { channel: string; cell: string },
  ) {
    for (const r of s.pendingSizes.iterate(cellId)) {
      // In arrival order (the query orders by seq), as adds append to the maps afterwards.
      this.sizes.set(r.id, { seq: r.seq, bytes: r.bytes, received: r.received });
      this.bytes += r.bytes;
    }
    this.addBatch = db.transaction((items: readonly Identified[]) => {
      let count = this.sizes.size;
      let bytes = this.bytes;
      const added: Array<Identified & { seq: number }> = [];
      const inBatch = new Map<string, number>();
      const out = items.map((item): AddResult => {
        const { id, text, size, time } = item;
        // Pending (before this batch or earlier in it), else settled: known either way.
        const received = this.sizes.get(id)?.received ?? inBatch.get(id);
        if (received !== undefined) return { status: "known", id, input: this.pendingRow(id, received) };
        const known = s.statusOf.get(id, cellId);
        if (known !== undefined) return { status: "known", id, input: statusOf(known) };
        if (size > limits.maxBytes) {
          return {
            status: "refused",
            id,
            code: "LEDGER_INPUT_TOO_LARGE",
            message: `the submission is ${size} bytes; the mempool of ${where.channel}/${where.cell} holds at most ${limits.maxBytes} bytes in all`,
            remedy: "send a smaller submission",
          };
        }
        if (count + 1 > limits.maxInputs || bytes + size > limits.maxBytes) {
          return {
            status: "refused",
            id,
            code: "LEDGER_POOL_FULL",
            message: `the mempool of ${where.channel}/${where.cell} holds ${count} inputs (${bytes} bytes); it takes at most ${limits.maxInputs} inputs and ${limits.maxBytes} bytes, and this one is ${size} bytes`,
            remedy: "send it again later: pending inputs leave the pool as blocks commit them",
          };
        }
        const seq = Number(s.addPending.run(cellId, id, text, size, time).lastInsertRowid);
        inBatch.set(id, time);
        count++;
        bytes += size;
        added.push({ ...item, seq });
        return { status: "added", id };
      });
      return { out, added };
    });
    this.rejectTx = db.transaction((id: string, entry: PendingEntry, refusal: Refusal) => {
      s.deletePending.run(entry.seq);
      s.settlePending.run(id, cellId, "rejected", entry.bytes, entry.received, null, null, refusal.code, refusal.rule ?? null, refusal.message);
    });
  }

  /** The status row of an input pending here. */
  private pendingRow(id: string, received: number): InputStatus {
    return { id, channel: this.where.channel, cell: this.where.cell, status: "pending", height: null, index: null, code: null, rule: null, message: null, received };
  }

  /** Runs an add transaction and, once it committed, counts what it added. */
  private run(items: readonly Identified[], durable: boolean): AddResult[] {
    const { out, added } = durable ? this.addBatch.immediate(items) : this.durability.deferred(() => this.addBatch.immediate(items));
    for (const a of added) {
      this.sizes.set(a.id, { seq: a.seq, bytes: a.size, received: a.time });
      this.bytes += a.size;
      // Only while every pending input before it is parsed too: the map must stay in arrival order.
      if (this.parsed.size === this.sizes.size - 1) {
        this.parsed.set(a.id, { submission: a.submission, received: a.time });
      }
    }
    return out;
  }

  /**
   * Adds an admitted submission (call `admitInput` first); durable when it
   * returns. Adding a known id (pending, committed or rejected) is "known".
   */
  add(submission: Json, time: number): AddResult {
    return this.run([identified(submission, time)], true)[0];
  }

  /**
   * Adds several submissions in one transaction (one fsync): one answer
   * each, in order. Ids are computed before anything is written, so a value
   * that is not JSON (CORE_NOT_JSON) writes nothing.
   *
   * `durable: false` is for submissions nobody is answered about (a peer
   * gossiped them; that peer stored them before it acknowledged them): the
   * transaction gets no fsync of its own, and is on disk through a power cut
   * with the next fsynced write (durability.ts); a kill -9 keeps it.
   *
   * `identity`, when given, must be identify(submission): a caller that needed
   * the id first (to deduplicate) hands it on instead of the pool encoding the
   * submission again.
   */
  addMany(items: ReadonlyArray<{ submission: Json; time: number; identity?: Identity }>, opts: { durable?: boolean } = {}): AddResult[] {
    return items.length === 0 ? [] : this.run(items.map((i) => identified(i.submission, i.time, i.identity)), opts.durable ?? true);
  }

  /** Pending inputs in arrival order, at most `limit` (default: all of them; a limit below 1 gives none). */
  pending(limit = this.sizes.size): PendingInput[] {
    const n = rowLimit(limit, this.sizes.size);
    if (n === 0) return [];
    if (this.parsed.size === this.sizes.size) {
      const out: PendingInput[] = [];
      for (const [id, p] of this.parsed) {
        if (out.length >= n) break;
        out.push({ id, submission: p.submission, bytes: this.sizes.get(id)!.bytes, received: p.received });
      }
      return out;
    }
    // After a restart: read them from the ledger once, in arrival order; from then on the map answers.
    const rows = this.s.pending.all(this.cellId, this.sizes.size);
    this.parsed.clear();
    for (const r of rows) {
      const submission = JSON.parse(r.submission) as Json;
      rememberId(submission, r.id);
      this.parsed.set(r.id, { submission, received: r.received });
    }
    return this.pending(n);
  }

  /**
   * Settles a pending input as rejected before any block (e.g. admission
   * refused it when a block was built); false when it was not pending.
   */
  reject(id: string, refusal: Refusal): boolean {
    const entry = this.sizes.get(id);
    if (entry === undefined) return false;
    this.rejectTx(id, entry, refusal);
    this.settled([id]);
    return true;
  }

  /** Pending inputs and their bytes. */
  size(): { count: number; bytes: number } {
    return { count: this.sizes.size, bytes: this.bytes };
  }

  /** The status of `id` if it is pending here, else null (no query). */
  pendingStatus(id: string): InputStatus | null {
    const p = this.sizes.get(id);
    return p === undefined ? null : this.pendingRow(id, p.received);
  }

  /** The row, bytes and receive time of `id` while it is pending here (no query). */
  pendingEntry(id: string): PendingEntry | undefined {
    return this.sizes.get(id);
  }

  /** The status of `id` in this cell, or null when this cell never saw it. */
  status(id: string): InputStatus | null {
    const p = this.pendingStatus(id);
    if (p !== null) return p;
    const r = this.s.statusOf.get(id, this.cellId);
    return r === undefined ? null : statusOf(r);
  }

  /** Takes inputs a committed transaction settled out of the pool's counts. */
  settled(ids: Iterable<string>): void {
    for (const id of ids) {
      const entry = this.sizes.get(id);
      if (entry === undefined) continue;
      this.sizes.delete(id);
      this.bytes -= entry.bytes;
      this.parsed.delete(id);
    }
  }
}
