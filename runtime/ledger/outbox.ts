/**
 * The outbox: rows a node must deliver after they are committed (a block's
 * outputs to downstream cells, later snapshots to L0). A block queues its
 * rows in its own commit transaction, so they survive any crash after the
 * commit; delivery is at least once (mark a row delivered after the receiver
 * has it), and the receiver deduplicates by key. Enqueueing a key twice
 * keeps the first row.
 */
import type Database from "better-sqlite3";
import { assertJson, type Json } from "../core/canonical.js";
import { ledgerError, rowLimit } from "./errors.js";
import type { BlockOutput } from "../cells/index.js";
import type { OutboxDbRow, Statements } from "./statements.js";
import type { OutboxItem, OutboxRow } from "./types.js";

function rowOf(r: OutboxDbRow): OutboxRow {
  return {
    seq: r.seq,
    key: r.key,
    target: r.target,
    kind: r.kind,
    payload: JSON.parse(r.payload) as Json,
    source: r.channel === null || r.cell === null || r.source_height === null ? null : { channel: r.channel, cell: r.cell, height: r.source_height },
    delivered: r.delivered,
  };
}

/**
 * An outbox item checked and serialized: key, target, kind, payload text.
 * @throws StatecellError LEDGER_BAD_OUTBOX when a field is empty or the payload is not JSON
 */
export function outboxRow(item: OutboxItem): readonly [string, string, string, string] {
  const text = (v: unknown) => typeof v === "string" && v.length > 0;
  if (typeof item !== "object" || item === null || !text(item.key) || !text(item.target) || !text(item.kind)) {
    throw ledgerError("LEDGER_BAD_OUTBOX", "an outbox row is { key, target, kind, payload } with key, target and kind as non-empty text", "build outbox rows with outputItems(), or give each row a unique key, a target and a kind");
  }
  try {
    assertJson(item.payload);
  } catch (e) {
    throw ledgerError("LEDGER_BAD_OUTBOX", `the payload of the outbox row ${JSON.stringify(item.key.slice(0, 80))} is not JSON: ${(e as Error).message}`, "give a payload of plain JSON (null, booleans, finite numbers, strings, lists, plain objects)", { key: item.key.slice(0, 200) }, e);
  }
  return [item.key, item.target, item.kind, JSON.stringify(item.payload)];
}

/**
 * The outbox rows of a block's outputs: one per output, keyed
 * `output/<channel>/<cell>/<height>/<n>` (n: position in the block's
 * outputs), to `<channel>/<to>`, with the output as payload.
 */
export function outputItems(channel: string, cell: string, height: number, outputs: readonly BlockOutput[]): OutboxItem[] {
  return outputs.map((o, n) => ({
    key: `output/${channel}/${cell}/${height}/${n}`,
    target: `${channel}/${o.to}`,
    kind: "output",
    payload: { channel, from: o.from, to: o.to, height, input: o.input, data: o.data },
  }));
}

/** The node's outbox (all cells). */
export class Outbox {
  private readonly enqueueTx: Database.Transaction<(rows: ReadonlyArray<readonly [string, string, string, string]>) => number>;
  private readonly deliverTx: Database.Transaction<(keys: readonly string[], time: number) => number>;

  constructor(
    db: Database.Database,
    private readonly s: Statements,
  ) {
    this.enqueueTx = db.transaction((rows: ReadonlyArray<readonly [string, string, string, string]>) => {
      let n = 0;
      for (const [key, target, kind, payload] of rows) n += s.enqueue.run(key, target, kind, payload, null, null).changes;
      return n;
    });
    this.deliverTx = db.transaction((keys: readonly string[], time: number) => {
      let n = 0;
      for (const k of keys) n += s.markDelivered.run(time, k).changes;
      return n;
    });
  }

  /**
   * Queues rows that no block carries (e.g. a snapshot for L0), in one
   * transaction; returns how many were new. All rows are checked first.
   * @throws StatecellError LEDGER_BAD_OUTBOX (nothing is written)
   */
  enqueue(items: readonly OutboxItem[]): number {
    return items.length === 0 ? 0 : this.enqueueTx.immediate(items.map(outboxRow));
  }

  /** Undelivered rows in queue order, after `after` (a seq, for paging), at most `limit`, optionally to one target. */
  undelivered(opts: { target?: string; after?: number; limit?: number } = {}): OutboxRow[] {
    const after = opts.after ?? 0;
    const limit = rowLimit(opts.limit ?? 1000, Number.MAX_SAFE_INTEGER);
    const rows = opts.target === undefined ? this.s.undelivered.all(after, limit) : this.s.undeliveredTo.all(opts.target, after, limit);
    return rows.map(rowOf);
  }

  /** Marks rows delivered at `time` (unix ms), in one transaction; returns how many were undelivered. */
  markDelivered(keys: readonly string[], time: number): number {
    return keys.length === 0 ? 0 : this.deliverTx.immediate(keys, time);
  }

  /** The row of `key`, or null. */
  get(key: string): OutboxRow | null {
    const r = this.s.outboxByKey.get(key);
    return r === undefined ? null : rowOf(r);
  }
}
