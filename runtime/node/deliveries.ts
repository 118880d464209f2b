/**
 * Cross-cell delivery: the outputs a cell's committed blocks send to a
 * downstream cell, carried with the certificate of the block that made them.
 *
 * Upstream (a node validating cell A): every commit queues, in its own ledger
 * transaction, the block's numbered outputs (`outputs/CH/A/HEIGHT`) and, per
 * downstream cell B and output number, where to find it
 * (`output/CH/A/B/SEQ`). Those rows answer any B node's request for "the
 * outputs of A to B from SEQ on" with the certified blocks that hold them;
 * a node that also validates B hands them over directly.
 *
 * Downstream (a node validating B): a delivered block is kept only after its
 * certificate verifies against A's group, its value hashes to the
 * certificate's value id, the outputs hash to the value's `outputsHash`, and
 * the outputs to B are numbered as the value's `sent` says. Then B's
 * proposers may put them in blocks and B's validators accept those blocks
 * (cell-application.ts takes them through the `deliveries` port): nothing
 * uncertified enters B, and B's chain (`received`) takes each output once,
 * in order, whatever was delivered twice or restarted.
 */
import type { Json } from "../core/canonical.js";
import { hashJson } from "../core/hash.js";
import {
  outputsHashOf,
  verifyCertificate,
  type CellBlockValue,
  type CertifiedBlock,
  type DeliveredOutput,
  type SentOutput,
  type SignatureVerifier,
  type ValidatorSet,
} from "../consensus/index.js";
import type { CellLedger, Ledger, OutboxItem } from "../ledger/index.js";

/** Output numbers are zero-padded in keys so the ledger keeps them in order. */
const pad = (n: number): string => String(n).padStart(15, "0");

export const blockOutputsKey = (channel: string, from: string, height: number): string => `outputs/${channel}/${from}/${pad(height)}`;
export const outputKey = (channel: string, from: string, to: string, seq: number): string => `output/${channel}/${from}/${to}/${pad(seq)}`;

/** The outbox rows a commit of `from` at `height` queues for its outputs. */
export function deliveryRows(channel: string, from: string, height: number, outputs: readonly SentOutput[]): OutboxItem[] {
  if (outputs.length === 0) return [];
  const rows: OutboxItem[] = [{ key: blockOutputsKey(channel, from, height), target: `${channel}/${from}`, kind: "block-outputs", payload: { height, outputs: outputs as unknown as Json } }];
  for (const o of outputs) rows.push({ key: outputKey(channel, from, o.to, o.seq), target: `${channel}/${o.to}`, kind: "output", payload: { height } });
  return rows;
}

/** A certified block of an upstream cell with all its outputs: what a delivery carries. */
export interface DeliveryBlock {
  block: CertifiedBlock;
  outputs: SentOutput[];
}

/**
 * The certified blocks holding the outputs of `from` to `to` from `fromSeq`
 * on (at most `maxBlocks` blocks), read from the upstream cell's ledger.
 */
export function servedDeliveries(ledger: Ledger, cell: CellLedger, channel: string, from: string, to: string, fromSeq: number, maxBlocks: number): DeliveryBlock[] {
  const out: DeliveryBlock[] = [];
  let seq = fromSeq;
  let lastHeight = -1;
  // Bounded: at most maxBlocks blocks, and at most 10,000 rows read per request.
  for (let reads = 0; reads < 10_000 && out.length < maxBlocks; reads++) {
    const row = ledger.outbox.get(outputKey(channel, from, to, seq));
    if (row === null) break;
    const height = (row.payload as { height: number }).height;
    if (height !== lastHeight) {
      const stored = cell.block(height);
      const outs = ledger.outbox.get(blockOutputsKey(channel, from, height));
      if (stored === null || outs === null) break;
      const outputs = (outs.payload as unknown as { outputs: SentOutput[] }).outputs;
      out.push({ block: stored.block, outputs });
      lastHeight = height;
      // Skip to the first output of the next block.
      let last = seq;
      for (const o of outputs) if (o.to === to && o.seq > last) last = o.seq;
      seq = last + 1;
      continue;
    }
    seq++;
  }
  return out;
}

/** The verified outputs of upstream cells to one downstream cell, held until its chain takes them. */
export class DeliveryStore {
  private readonly held = new Map<string, Map<number, DeliveredOutput>>();
  /** Deliveries refused, by reason (metrics, tests). */
  readonly refused: Record<string, number> = {};

  constructor(
    readonly channel: string,
    readonly to: string,
    /** Per upstream cell: its validator set, to check certificates. */
    private readonly upstream: ReadonlyMap<string, ValidatorSet>,
    private readonly verifier: SignatureVerifier,
  ) {}

  /** The output `seq` of `from`, when held. */
  get(from: string, seq: number): DeliveredOutput | undefined {
    return this.held.get(from)?.get(seq);
  }

  /** How many outputs of `from` are held from `seq` on, contiguous. */
  contiguousFrom(from: string, seq: number): DeliveredOutput[] {
    const m = this.held.get(from);
    const out: DeliveredOutput[] = [];
    if (m === undefined) return out;
    for (let s = seq; m.has(s); s++) out.push(m.get(s)!);
    return out;
  }

  /** Forgets what the chain has taken (seq below `received`). */
  prune(received: Readonly<Record<string, number>>): void {
    for (const [from, m] of this.held) {
      const below = received[from] ?? 0;
      for (const s of m.keys()) if (s < below) m.delete(s);
    }
  }

  /** Keeps outputs this node made itself (it validated `from`'s block): no certificate check needed. */
  addLocal(from: string, outputs: readonly SentOutput[]): number {
    let n = 0;
    for (const o of outputs) if (o.to === this.to) n += this.put(from, o) ? 1 : 0;
    return n;
  }

  /**
   * Checks a delivery of `from` (from a peer: untrusted) and keeps its outputs
   * to this cell; returns how many were new, or why the delivery was refused
   * (a refusal means the peer served something a correct node never serves).
   */
  addDelivered(from: string, delivery: unknown): number | string {
    const why = this.check(from, delivery);
    if (typeof why === "string") {
      this.refused[why] = (this.refused[why] ?? 0) + 1;
      return why;
    }
    let n = 0;
    for (const o of why) n += this.put(from, o) ? 1 : 0;
    return n;
  }

  private put(from: string, o: SentOutput): boolean {
    let m = this.held.get(from);
    if (m === undefined) this.held.set(from, (m = new Map()));
    if (m.has(o.seq)) return false;
    const d: DeliveredOutput = { from, seq: o.seq, data: o.data, signer: o.signer };
    if (o.op !== undefined) d.op = o.op;
    m.set(o.seq, d);
    return true;
  }

  /** The outputs to this cell of a verified delivery, or why it is refused. */
  private check(from: string, delivery: unknown): SentOutput[] | string {
    const set = this.upstream.get(from);
    if (set === undefined) return "not-upstream";
    if (typeof delivery !== "object" || delivery === null) return "malformed";
    const d = delivery as { block?: unknown; outputs?: unknown };
    const block = d.block as CertifiedBlock | undefined;
    if (typeof block !== "object" || block === null || !Array.isArray(d.outputs)) return "malformed";
    const value = block.value as unknown as CellBlockValue | undefined;
    if (typeof value !== "object" || value === null || typeof value.outputsHash !== "string" || typeof value.sent !== "object" || value.sent === null) return "malformed";
    let valueId: string;
    try {
      valueId = hashJson("cell-block", block.value);
    } catch {
      return "malformed";
    }
    const cert = verifyCertificate(set, null, { channel: this.channel, cell: from, height: block.height, valueId }, block.certificate, this.verifier);
    if (!cert.ok) return "bad-certificate";
    const outputs = d.outputs as SentOutput[];
    let hash: string;
    try {
      hash = outputsHashOf(outputs);
    } catch {
      return "malformed";
    }
    if (hash !== value.outputsHash) return "bad-outputs";
    // Numbered as the value counts them: the outputs to this cell end just below sent[to].
    const mine = outputs.filter((o) => o.to === this.to);
    const end = (value.sent as Record<string, number>)[this.to] ?? 0;
    for (let i = 0; i < mine.length; i++) {
      if (mine[i].seq !== end - mine.length + i) return "bad-numbering";
    }
    return mine;
  }
}
