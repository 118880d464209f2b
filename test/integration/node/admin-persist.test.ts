/**
 * Channels changed through the admin API survive a crash: a real node
 * process adds a channel over HTTP and removes one its node file lists, is
 * killed with SIGKILL, and is started again with the same node file. The
 * added channel is hosted again and its chain continues from the height it
 * had (new inputs commit above it); the removed one stays removed.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync, existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { layoutNetwork, ready, ROOT, stopNodes, TOKEN, until, type TestNode } from "../dashboard/network.js";
import { soloChannel } from "../../fixtures/node/solo-channel.js";

/**
 * The node process itself (not the bin launcher, whose SIGKILL would leave
 * its child running): what `bin/statecell.js node --config` runs.
 */
function startNode(n: TestNode): void {
  const fd = openSync(n.log, "a");
  n.child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", join(ROOT, "runtime", "cli", "main.ts"), "node", "--config", n.config], { cwd: ROOT, stdio: ["ignore", fd, fd] });
}

let dir: string;
let nodes: TestNode[] = [];

const channel = (name: string, version = 1) => soloChannel(name, { version });

const admin = (api: string, method: string, path: string, body?: unknown) =>
  fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

async function submit(api: string, ch: string, meter: string): Promise<string> {
  const r = await fetch(`${api}/v1/channels/${ch}/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [{ data: { meter, litres: 1 } }] }) });
  const [res] = ((await r.json()) as { results: Array<{ id: string; status: string }> }).results;
  expect(res.status).toBe("pending");
  return res.id;
}

async function committedAt(api: string, id: string): Promise<number | undefined> {
  const r = await fetch(`${api}/v1/inputs/${id}`);
  if (r.status !== 200) return undefined;
  const s = (await r.json()) as { status: string; height?: number };
  return s.status === "committed" ? s.height : undefined;
}

async function hosted(api: string): Promise<Map<string, number>> {
  const b = (await (await fetch(`${api}/v1/channels`)).json()) as { channels: Array<{ channel: string; cells: Array<{ height: number }> }> };
  return new Map(b.channels.map((c) => [c.channel, c.cells[0]?.height ?? 0]));
}

describe("channels changed through the admin API after a kill -9", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-persist-"));
    writeFileSync(join(dir, "base.yaml"), channel("base"));
    writeFileSync(join(dir, "kept.yaml"), channel("kept"));
    nodes = await layoutNetwork(dir, ["solo"], [join(dir, "base.yaml"), join(dir, "kept.yaml")]);
    startNode(nodes[0]);
    await until(() => ready(nodes[0].api), 60_000, "the node");
  }, 90_000);

  afterAll(async () => {
    await stopNodes(nodes);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  it("hosts the added channel again with its chain, and keeps the removed one removed", async () => {
    const api = nodes[0].api;
    const extraFile = join(dir, "extra.yaml");
    writeFileSync(extraFile, channel("extra"));
    const added = await admin(api, "POST", "/v1/admin/channels", { file: extraFile });
    expect(added.status, await added.clone().text()).toBe(201);
    expect((await admin(api, "DELETE", "/v1/admin/channels/base")).status).toBe(200);

    // A few inputs committed in the added channel before the crash.
    let before = 0;
    for (let i = 0; i < 3; i++) {
      const id = await submit(api, "extra", `m-${i}`);
      await until(async () => (await committedAt(api, id)) !== undefined, 30_000, `input ${i} of extra to commit`);
      before = Math.max(before, (await committedAt(api, id))!);
    }
    // The channel file is changed on disk afterwards: the node restores what it added, not the new text.
    writeFileSync(extraFile, "this is not a channel file\n");
    const stored = join(nodes[0].config, "..", "data", "admin-channels.json");
    expect(existsSync(stored)).toBe(true);

    const child = nodes[0].child!;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await gone;

    startNode(nodes[0]);
    await until(() => ready(nodes[0].api), 60_000, "the node after the restart");
    const after = await hosted(api);
    expect([...after.keys()].sort()).toEqual(["extra", "kept"]);
    expect(after.get("extra")!).toBeGreaterThanOrEqual(before);
    // Its chain continues: an input commits above the height reached before the crash, and the old inputs are known.
    const id = await submit(api, "extra", "after-restart");
    await until(async () => (await committedAt(api, id)) !== undefined, 30_000, "an input of extra after the restart");
    expect((await committedAt(api, id))!).toBeGreaterThan(before);
    const log = readFileSync(nodes[0].log, "utf8");
    expect(log).toContain('"msg":"channel restored"');
    expect(log).toContain('"msg":"channel stays removed"');
    // base is not hosted: a submission to it is refused as not hosted.
    const r = await fetch(`${api}/v1/channels/base/cells/readings/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [{ data: { meter: "x", litres: 1 } }] }) });
    expect(r.status).toBe(404);
  }, 150_000);
});
