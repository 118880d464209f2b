/**
 * Graceful shutdown (SIGTERM): stop admission, let each group finish the
 * block it is deciding for a short grace, then stop and flush.
 *
 * 1. Admission stops at once: submissions are refused with
 *    NODE_SHUTTING_DOWN (503) and /readyz answers 503, so clients and load
 *    balancers move to another validator. Every submission answered
 *    `pending` before that is already in the ledger (admission stores it
 *    before it answers).
 * 2. Each running group gets up to `graceMs` to commit one more block, so a
 *    block this node helped decide is usually stored here before it goes.
 *    Abandoning a round is safe too: what this node signed is in its signer
 *    record and WAL before the signature leaves, so a restart resumes the
 *    height without signing anything that conflicts.
 * 3. Stop: drivers, the API (streams closed 1001 API_SHUTTING_DOWN), the
 *    peer network, the isolates, then the ledger (SQLite closed cleanly).
 */
import type { Logger } from "./log.js";
import type { RunningNode } from "./node.js";

/** How long the groups may take to finish the block they are deciding (ms). */
export const SHUTDOWN_GRACE_MS = 2_000;

export interface ShutdownReport {
  /** Cells that committed another block within the grace. */
  finished: string[];
  /** Cells whose round was abandoned (it resumes from the WAL on restart). */
  abandoned: string[];
  ms: number;
}

export async function gracefulStop(node: RunningNode, opts: { log: Logger; graceMs?: number; signal?: string }): Promise<ShutdownReport> {
  const started = Date.now();
  const grace = opts.graceMs ?? SHUTDOWN_GRACE_MS;
  node.drain();
  const from = new Map(node.hosts.map((h) => [h, h.chain.height]));
  const waiting = (): typeof node.hosts => node.hosts.filter((h) => h.driver.running && h.chain.height <= (from.get(h) ?? 0));
  while (waiting().length > 0 && Date.now() - started < grace) await new Promise((r) => setTimeout(r, 20));
  const abandoned = waiting().map((h) => `${h.channel}/${h.cell}`);
  const finished = node.hosts.filter((h) => h.chain.height > (from.get(h) ?? 0)).map((h) => `${h.channel}/${h.cell}`);
  for (const h of node.hosts) {
    if (abandoned.includes(`${h.channel}/${h.cell}`)) {
      opts.log.info("round abandoned at shutdown", { channel: h.channel, cell: h.cell, height: h.chain.height + 1, round: h.driver.state?.round ?? 0 });
    }
  }
  await node.stop();
  const report = { finished, abandoned, ms: Date.now() - started };
  opts.log.info("shutdown complete", { signal: opts.signal, finished: finished.length, abandoned: abandoned.length, ms: report.ms });
  return report;
}
