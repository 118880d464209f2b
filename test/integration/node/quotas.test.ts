/**
 * The quotas a real node is needed for (node file `quotas:`), on one node
 * process hosting several channels:
 *
 * - ledgerBytes: a channel flooded until its share of the ledger reaches the
 *   quota is refused NODE_QUOTA_LEDGER (nothing stored, logged once,
 *   counted), while the other channel goes on committing;
 * - sandboxMemoryMb: a channel whose code cell asks for a larger isolate than
 *   the quota is refused NODE_QUOTA_MEMORY by the admin API and not hosted;
 *   one within it is hosted, and its isolate's heap is in /metrics
 *   (statecell_sandbox_heap_bytes) under its limit.
 *
 * - sandboxBlockTimeMs: two channels alike but for the quota get the same
 *   batch of looping inputs; the admission dry run (proposer mode, as a
 *   block this node proposes) cuts the capped one's earlier, with the
 *   cell's own SANDBOX_BLOCK_BUDGET message. The cap's rules themselves are
 *   tested on real isolates in test/unit/sandbox/proposer-cap.test.ts.
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutNetwork, ready, ROOT, stopNodes, TOKEN, until, type TestNode } from "../dashboard/network.js";
import { soloChannel } from "../../fixtures/node/solo-channel.js";

const LEDGER_QUOTA = 16 * 1024;
let dir: string;
let nodes: TestNode[] = [];

const channel = (name: string, extra = "") => soloChannel(name, { notes: true, extra });

const codeCell = (memoryMb: number) => `    code: ./hooks.js
    limits: { memoryMb: ${memoryMb}, timeMs: 200 }
`;

type Result = { id: string; status: string; code?: string; message?: string };
async function post(api: string, ch: string, inputs: unknown[]): Promise<Result[]> {
  const r = await fetch(`${api}/v1/channels/${ch}/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs }) });
  return ((await r.json()) as { results: Result[] }).results;
}

const admin = (api: string, method: string, path: string, body?: unknown) =>
  fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

async function committed(api: string, id: string): Promise<boolean> {
  const r = await fetch(`${api}/v1/inputs/${id}`);
  return r.status === 200 && ((await r.json()) as { status: string }).status === "committed";
}

describe("quotas on a real node", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-quotas-"));
    writeFileSync(join(dir, "full.yaml"), channel("full"));
    writeFileSync(join(dir, "free.yaml"), channel("free"));
    writeFileSync(join(dir, "hooks.js"), "export function validate(data) { const keep = []; for (let i = 0; i < 2000; i++) keep.push({ i, m: data.meter }); return keep.length > 0; }\n");
    writeFileSync(join(dir, "big.yaml"), channel("big", codeCell(64)));
    writeFileSync(join(dir, "small.yaml"), channel("small", codeCell(16)));
    writeFileSync(join(dir, "loop.js"), "export function validate(data) { if (data.meter === 'loop') for (;;) {} return true; }\n");
    const looping = "    code: ./loop.js\n    limits: { memoryMb: 16, timeMs: 500, blockTimeMs: 4000 }\n";
    writeFileSync(join(dir, "capped.yaml"), channel("capped", looping));
    writeFileSync(join(dir, "plain.yaml"), channel("plain", looping));
    nodes = await layoutNetwork(dir, ["solo"], ["full", "free", "capped", "plain"].map((c) => join(dir, `${c}.yaml`)));
    appendFileSync(nodes[0].config, `quotas:\n  default:\n    sandboxMemoryMb: 32\n  channels:\n    full:\n      ledgerBytes: ${LEDGER_QUOTA}\n    capped:\n      sandboxBlockTimeMs: 3000\n`);
    // The node process itself (the launcher would only pass signals on).
    const fd = openSync(nodes[0].log, "a");
    nodes[0].child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", join(ROOT, "runtime", "cli", "main.ts"), "node", "--config", nodes[0].config], { cwd: ROOT, stdio: ["ignore", fd, fd] });
    await until(() => ready(nodes[0].api), 60_000, "the node");
  }, 90_000);

  afterAll(async () => {
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("refuses a channel past its ledger bytes with NODE_QUOTA_LEDGER while the other channel commits", async () => {
    const api = nodes[0].api;
    const note = "x".repeat(1500);
    let refused: Result | undefined;
    let stored = 0;
    // Bounded: 16 KiB of quota is about ten of these inputs in blocks; 200 rounds is far past it.
    for (let i = 0; i < 200 && refused === undefined; i++) {
      const [r] = await post(api, "full", [{ data: { meter: `m-${i}`, note } }]);
      if (r.status === "pending") {
        stored++;
        await until(() => committed(api, r.id), 30_000, `input ${i} of full to commit`);
      } else refused = r;
    }
    expect(refused, "the flood was never refused").toBeDefined();
    expect(refused!.code).toBe("NODE_QUOTA_LEDGER");
    expect(refused!.message).toMatch(/full holds \d+ bytes of this node's ledger, its quota is 16384/);
    expect(stored).toBeGreaterThan(3);
    // Refused again, not stored: its status is unknown to the node.
    const [again] = await post(api, "full", [{ data: { meter: "late", note: "y" } }]);
    expect(again.code).toBe("NODE_QUOTA_LEDGER");
    expect((await fetch(`${api}/v1/inputs/${again.id}`)).status).toBe(404);
    // The other channel goes on.
    const [other] = await post(api, "free", [{ data: { meter: "f", note } }]);
    expect(other.status).toBe("pending");
    await until(() => committed(api, other.id), 30_000, "an input of free to commit");
    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/statecell_rejections_total\{channel="full",cell="readings",rule="none",code="NODE_QUOTA_LEDGER",stage="admission"\} [2-9]/);
    const log = readFileSync(nodes[0].log, "utf8");
    expect(log.match(/"msg":"channel ledger quota reached"/g)?.length).toBe(1);
  }, 120_000);

  it("refuses a channel whose code cell asks for more sandbox memory than the quota, and shows the heap of one within it", async () => {
    const api = nodes[0].api;
    const big = await admin(api, "POST", "/v1/admin/channels", { file: join(dir, "big.yaml") });
    expect(big.status).toBe(422);
    const body = (await big.json()) as { code: string; message: string; remedy: string };
    expect(body.code).toBe("NODE_QUOTA_MEMORY");
    expect(body.message).toContain("64 MB");
    expect(body.remedy).toContain("sandboxMemoryMb");
    const list = (await (await fetch(`${api}/v1/channels`)).json()) as { channels: Array<{ channel: string }> };
    expect(list.channels.map((c) => c.channel)).not.toContain("big");

    const small = await admin(api, "POST", "/v1/admin/channels", { file: join(dir, "small.yaml") });
    expect(small.status, await small.clone().text()).toBe(201);
    const [r] = await post(api, "small", [{ data: { meter: "s", note: "n" } }]);
    expect(r.status).toBe("pending");
    await until(() => committed(api, r.id), 30_000, "an input of small to commit");
    const metrics = await (await fetch(`${api}/metrics`)).text();
    const used = /statecell_sandbox_heap_bytes\{channel="small",cell="readings"\} (\d+)/.exec(metrics);
    const limit = /statecell_sandbox_heap_limit_bytes\{channel="small",cell="readings"\} (\d+)/.exec(metrics);
    expect(used, metrics.split("\n").filter((l) => l.includes("sandbox")).join("\n")).not.toBeNull();
    expect(Number(used![1])).toBeGreaterThan(0);
    expect(Number(used![1])).toBeLessThan(Number(limit![1]));
    expect(Number(limit![1])).toBeGreaterThanOrEqual(16 * 1024 * 1024);
    expect(Number(limit![1])).toBeLessThan(32 * 1024 * 1024);
    // Only hosted code cells have a series.
    expect(metrics).not.toMatch(/statecell_sandbox_heap_bytes\{channel="(full|free|big)"/);
  }, 60_000);

  it("cuts the hook time of the capped channel's blocks earlier than the cell's own blockTimeMs", async () => {
    const api = nodes[0].api;
    const batch = Array.from({ length: 12 }, (_, i) => ({ data: { meter: "loop", note: `n${i}` } }));
    const plain = await post(api, "plain", batch);
    const capped = await post(api, "capped", batch);
    const count = (rs: Result[], code: string) => rs.filter((r) => r.code === code).length;
    // Loopers of 500 ms: about 7 start in 4000 ms, about 5 in the cap's 3000 ms; a loaded machine starts fewer of both.
    expect(count(capped, "SANDBOX_TIMEOUT")).toBeGreaterThanOrEqual(1);
    expect(count(capped, "SANDBOX_TIMEOUT")).toBeLessThan(count(plain, "SANDBOX_TIMEOUT"));
    expect(count(capped, "SANDBOX_TIMEOUT") + count(capped, "SANDBOX_BLOCK_BUDGET")).toBe(12);
    const cut = capped.find((r) => r.code === "SANDBOX_BLOCK_BUDGET")!;
    expect(cut.message).toBe("the hooks of this block used up their shared time budget of 4000 ms before this input finished");
    expect(cut.message).toBe(plain.find((r) => r.code === "SANDBOX_BLOCK_BUDGET")!.message);
  }, 60_000);
});
