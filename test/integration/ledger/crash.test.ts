/**
 * Crash tests with real processes: a child writes to a ledger (acknowledged
 * mempool inputs, block commits, signer records) and is killed with SIGKILL
 * at a random moment, again and again on the same file. After each kill the
 * reopened ledger has everything the child acknowledged, the signer record
 * never went back, and no half-written commit can be seen: the head, the
 * blocks, the records, the snapshot and the input statuses agree, and the
 * restored state has the head's state root.
 */
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CellBlockValue } from "../../../runtime/consensus/index.js";
import { openLedger, inputId } from "../../../runtime/ledger/index.js";
import { ChainBuilder, tempDir } from "../../unit/ledger/helpers.js";

const here = dirname(fileURLToPath(import.meta.url));
const ROUNDS = 8;

/** A small seeded generator (mulberry32), so a failing run's kill delays can be read back from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs the child until `killAfterMs` after it is ready, kills it with SIGKILL, returns its whole lines. */
function runAndKill(file: string, run: number, killAfterMs: number): Promise<{ lines: string[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(here, "crash-child.ts"), file, String(run)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      if (timer === undefined && out.includes("ready ")) timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const guard = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      const lines = out.split("\n");
      lines.pop(); // whatever follows the last newline is not a whole line
      resolve({ lines, signal, stderr });
    });
  });
}

describe("a ledger written by a process killed with SIGKILL at random moments", () => {
  it(`loses nothing acknowledged, never moves the signer back, and shows no torn commit (${ROUNDS} kills)`, async () => {
    const t = tempDir("ledger-crash-");
    const file = t.file();
    const random = rng(20_240_601);
    const app = new ChainBuilder().app;
    let lastSigned = { height: 0, round: 0, step: -1 };
    let kills = 0;
    let commitsSeen = 0;
    let acksSeen = 0;
    try {
      for (let run = 0; run < ROUNDS; run++) {
        const delay = Math.floor(100 + random() * 900);
        const { lines, signal, stderr } = await runAndKill(file, run, delay);
        expect(stderr).toBe("");
        expect(lines[0]).toMatch(/^ready \d+/);
        if (signal === "SIGKILL") kills++;

        const ledger = openLedger(file, { snapshotMaxBytes: 256, snapshotEvery: 3 });
        const cell = ledger.cell("t", "c");
        const head = cell.head();

        // The child restored exactly the head the previous kill left.
        const [, readyHeight] = lines[0].split(" ");
        expect(Number(readyHeight)).toBeLessThanOrEqual(head.height);

        // Every acknowledged input is there: pending, or settled by a block.
        const acks = lines.filter((l) => l.startsWith("ack ")).map((l) => l.slice(4));
        for (const id of acks) expect(cell.mempool.status(id), `acknowledged input ${id} (run ${run}, kill after ${delay} ms)`).not.toBeNull();
        acksSeen += acks.length;

        // Every returned commit is there, with the value id the child saw.
        for (const l of lines.filter((x) => x.startsWith("commit "))) {
          const [, h, id] = l.split(" ");
          expect(cell.block(Number(h))?.block.certificate.valueId).toBe(id);
          commitsSeen++;
        }

        // The signer record is at or after the last one whose save returned, and never before an earlier run's.
        const signed = lines.filter((l) => l.startsWith("signed "));
        if (signed.length > 0) {
          const [, h, r, s] = signed[signed.length - 1].split(" ").map(Number);
          lastSigned = { height: h, round: r, step: s };
        }
        const rec = cell.signer.load();
        if (lastSigned.step >= 0) {
          expect(rec).not.toBeNull();
          const order = rec!.height - lastSigned.height || rec!.round - lastSigned.round || rec!.step - lastSigned.step;
          expect(order).toBeGreaterThanOrEqual(0);
          lastSigned = { height: rec!.height, round: rec!.round, step: rec!.step };
        }

        // No torn commit: blocks end at the head, each block's inputs have their statuses, the records and the
        // snapshot agree with the head, and restoring gives the head's state root.
        expect(cell.block(head.height + 1)).toBeNull();
        if (head.height > 0) {
          const top = cell.block(head.height)!;
          const v = top.block.value as unknown as CellBlockValue;
          expect(top.block.certificate.valueId).toBe(head.hash);
          expect(v.stateRoot).toBe(head.stateRoot);
          v.inputs.forEach((input, i) => expect(cell.mempool.status(inputId(input))).toMatchObject({ height: head.height, index: i }));
        }
        const point = cell.restorePoint();
        expect(point.snapshot.height).toBeLessThanOrEqual(head.height);
        expect(point.blocks.length).toBe(head.height - point.snapshot.height);
        const restored = cell.restart(app);
        expect(restored.chain.height).toBe(head.height);
        if (head.height > 0) expect(restored.chain.stateRoot).toBe(head.stateRoot);
        // The pool's counts are those of the rows still pending.
        expect(cell.mempool.size().count).toBe(cell.mempool.pending(1_000_000).length);
        ledger.close();
      }
    } finally {
      t.cleanup();
    }
    expect(kills).toBe(ROUNDS);
    // The runs did real work: inputs acknowledged and blocks committed before the kills.
    expect(acksSeen).toBeGreaterThan(ROUNDS * 5);
    expect(commitsSeen).toBeGreaterThan(0);
  }, 240_000);
});
