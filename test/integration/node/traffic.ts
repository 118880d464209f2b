/**
 * Client traffic for the node integration tests and the soak: meter
 * readings (test/fixtures/node/meter.yaml) and air-quality readings, valid
 * ones with duplicates and invalid ones mixed in, and a load loop that keeps
 * submitting to whichever nodes answer, remembering every acknowledgement.
 */
import { inputId } from "../../../runtime/ledger/input-id.js";
import type { Json } from "../../../runtime/core/canonical.js";
import { StreamClient, type Result, type UpNode } from "./network.js";

export const METER = "test/fixtures/node/meter.yaml";

let meterSeq = 0;
/** A valid meter reading (a new key each time). */
export function meterReading(now = Date.now()): { data: Json } {
  const seq = meterSeq++;
  return { data: { meter: `m-${seq % 500}`, seq: Math.floor(seq / 500), kwh: 1 + (seq % 97), at: now } };
}

/** One acknowledged submission. */
export interface Ack {
  id: string;
  at: string;
  status: Result["status"];
}

/**
 * Submits a batch every `everyMs` to the nodes in turn, over their streams,
 * until stopped; a node that does not answer is skipped (it may be killed).
 */
export class Load {
  readonly acked = new Map<string, Ack>();
  readonly refused: Result[] = [];
  private clients = new Map<string, StreamClient>();
  private timer: NodeJS.Timeout | undefined;
  private turn = 0;
  private inFlight = 0;
  sent = 0;

  constructor(
    private readonly nodes: () => UpNode[],
    private readonly channel: string,
    private readonly cell: string,
    private readonly make: () => { data: Json },
    private readonly batch = 20,
  ) {}

  start(everyMs = 100): void {
    this.timer = setInterval(() => void this.tick(), everyMs);
  }

  private async client(n: UpNode): Promise<StreamClient | undefined> {
    const c = this.clients.get(n.name);
    if (c !== undefined && c.ws.readyState === c.ws.OPEN) return c;
    this.clients.delete(n.name);
    try {
      const fresh = await StreamClient.open(n.api);
      fresh.ws.on("close", () => this.clients.delete(n.name));
      this.clients.set(n.name, fresh);
      return fresh;
    } catch {
      return undefined;
    }
  }

  private async tick(): Promise<void> {
    if (this.inFlight > 4) return;
    const list = this.nodes();
    const n = list[this.turn++ % list.length];
    this.inFlight++;
    try {
      const c = await this.client(n);
      if (c === undefined) return;
      const subs = Array.from({ length: this.batch }, () => this.make());
      this.sent += subs.length;
      const results = await Promise.race([c.submit(this.channel, this.cell, subs), new Promise<Result[]>((r) => setTimeout(() => r([]), 5000))]);
      results.forEach((r, i) => {
        if (r.status === "rejected") this.refused.push(r);
        else {
          if (r.id !== inputId(subs[i] as unknown as Json)) throw new Error(`the node answered id ${r.id} for a submission whose id is ${inputId(subs[i] as unknown as Json)}`);
          this.acked.set(r.id, { id: r.id, at: n.name, status: r.status });
        }
      });
    } finally {
      this.inFlight--;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 50));
    for (const c of this.clients.values()) c.close();
  }
}
