/**
 * The channel side of L0 on real nodes: four validator nodes (real
 * WebSockets, SQLite ledgers, group drivers, in this process) run two
 * channels and send their snapshots to a real `statecell l0` process through
 * the outbox; the channels are exported from a node's API and verified
 * offline, and verify names the first divergence of every kind of tampering.
 * Then L0 is stopped while the channels take inputs, and started again.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadKeyFile, loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { l0Client, verifyAck } from "../../../runtime/l0/index.js";
import { main } from "../../../runtime/cli/main.js";
import { verifyExport } from "../../../runtime/cli/verify-export.js";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { checkCode } from "../../../runtime/sandbox/index.js";
import { precommitString } from "../../../runtime/consensus/index.js";
import { signBytes } from "../../../runtime/core/keys.js";
import { snapshotHash } from "../../../runtime/node/l0/index.js";
import { Ajv } from "ajv";
import exportSchema from "../../../schemas/export.schema.json" with { type: "json" };
import { FIXTURES, freePort, startL0Process, until, writeNetwork, type L0Process, type TestNetwork } from "./network.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;
const NAMES = ["v1", "v2", "v3", "v4"];
const ALPHA = join(FIXTURES, "alpha.yaml");
const BETA = join(FIXTURES, "beta.yaml");

function plan(file: string): ChannelPlan {
  return loadChannel(readFileSync(file, "utf8"), { file }, { readFile: (p) => readFileSync(p, "utf8"), checkCode }).plan!;
}

async function l0Height(l0: L0Process, channel: string): Promise<number> {
  const r = await l0Client(l0.url).channel(channel);
  return r.ok ? ((r.channel as unknown as { head: { height: number } | null }).head?.height ?? 0) : 0;
}

/** Submits one input; a client retries a request the loaded machine cut off (the input id makes it idempotent). */
async function submit(api: string, channel: string, cell: string, n: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`${api}/v1/channels/${channel}/cells/${cell}/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [{ data: { n } }] }) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      return;
    } catch (e) {
      if (attempt >= 4 || !(e instanceof TypeError)) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

describe("snapshots on nodes, L0, export and verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-l0c-"));
  const nodes: RunningNode[] = [];
  let l0: L0Process | undefined;
  let net: TestNetwork;
  let port = 0;
  afterAll(async () => {
    for (const n of nodes) await n.stop();
    await l0?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("two channels: L0 holds both snapshot chains, every acknowledgement verifies, verify of both exports passes", async () => {
    port = await freePort();
    l0 = await startL0Process(join(dir, "l0"), port);
    net = await writeNetwork(dir, Object.fromEntries(NAMES.map((n) => [n, [ALPHA, BETA]])), { url: l0.url, key: l0.key });
    for (const name of NAMES) {
      const { config, problems } = loadNodeConfig(net.configs[name]);
      expect(problems.filter((p) => p.severity === "error")).toEqual([]);
      nodes.push(await startNode(config!, { log: silent }));
    }
    for (let i = 0; i < 5; i++) {
      await submit(net.api.v1, "alpha", "items", i);
      await submit(net.api.v1, "beta", "src", i);
    }
    for (const channel of ["alpha", "beta"]) await until(`${channel} at L0 height 3`, async () => ((await l0Height(l0!, channel)) >= 3 ? true : undefined), 90_000, 500);
    const client = l0Client(l0.url);
    for (const channel of ["alpha", "beta"]) {
      const r = await client.snapshots(channel, { from: 1, limit: 1000 });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.snapshots.map((s) => s.height)).toEqual(r.snapshots.map((_, i) => i + 1));
      for (const s of r.snapshots) expect(verifyAck(s.ack as never, [l0.key], { channel, height: s.height, hash: s.hash }).ok).toBe(true);
      // The snapshot group's nodes hold the same chain (v1 is not in beta's group b).
      const holders = nodes.filter((n) => n.snapshots.hosts.has(channel));
      expect(holders.length).toBe(channel === "alpha" ? 4 : 3);
    }
    // Export from v2 (it hosts every cell of both channels) and verify with the channel files.
    for (const [channel, yaml] of [["alpha", ALPHA], ["beta", BETA]] as const) {
      const out = join(dir, `${channel}.jsonl`);
      let text = "";
      expect(await main(["export", "--node", net.api.v2, "--channel", channel, "--out", out], (s) => (text += s))).toBe(0);
      expect(text).toMatch(/exported .*blocks, \d+ snapshots, \d+ L0 acknowledgements/);
      text = "";
      const code = await main(["verify", out, yaml], (s) => (text += s));
      expect(text).toMatch(/: ok: channel/);
      expect(code).toBe(0);
      text = "";
      expect(await main(["verify", out, "--format", "json"], (s) => (text += s))).toBe(0);
      const j = JSON.parse(text) as { ok: boolean; summary: { snapshots: { count: number }; acks: number } };
      expect(j.ok).toBe(true);
      expect(j.summary.snapshots.count).toBeGreaterThanOrEqual(3);
      expect(j.summary.acks).toBeGreaterThanOrEqual(3);
    }
  }, 240_000);

  it("verify names the first divergence: changed input, dropped block, forged signature, swapped definition, reordered line, snapshot state root", async () => {
    const lines = readFileSync(join(dir, "beta.jsonl"), "utf8").trimEnd().split("\n");
    // Every record is described by schemas/export.schema.json.
    const validate = new Ajv({ allowUnionTypes: true }).compile(exportSchema);
    for (const l of lines) expect(validate(JSON.parse(l)), JSON.stringify(validate.errors)).toBe(true);
    const plans = new Map<string, ChannelPlan>();
    const opts = (p = plans) => ({ plans: p, loadEmbedded: () => "not used", runner: () => undefined });
    const check = (ls: string[], p = plans) => verifyExport(ls, opts(p));
    plans.set("beta", plan(BETA));
    expect(check(lines).ok).toBe(true);
    const recs = lines.map((l) => JSON.parse(l) as Record<string, any>);
    const idx = (f: (r: Record<string, any>) => boolean) => recs.findIndex(f);
    const withInput = idx((r) => r.type === "block" && r.cell === "src" && r.block.value.inputs.length > 0);
    expect(withInput).toBeGreaterThan(0);
    const edit = (i: number, f: (r: Record<string, any>) => void): string[] => {
      const copy = structuredClone(recs[i]);
      f(copy);
      return lines.map((l, j) => (j === i ? JSON.stringify(copy) : l));
    };

    // A changed input.
    let r = check(edit(withInput, (b) => (b.block.value.inputs[0].data.n += 1000)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: withInput + 1, record: "block", cell: "src", height: recs[withInput].height, what: expect.stringMatching(/differs from what group a certified/) });

    // A dropped block.
    const second = idx((r) => r.type === "block" && r.cell === "sink" && r.height === 2);
    r = check(lines.filter((_, j) => j !== second));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: second + 1, record: "block", cell: "sink", height: 3, what: expect.stringMatching(/block 2 of cell sink belongs/) });

    // A forged signature.
    r = check(edit(withInput, (b) => (b.block.certificate.signatures[0].signature = b.block.certificate.signatures[0].signature.replace(/^./, (c: string) => (c === "0" ? "1" : "0")))));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: withInput + 1, cell: "src", what: expect.stringMatching(/certificate does not hold: the signature of/) });

    // A swapped definition: the auditor's file is another channel's text under this name.
    const swapped = plan(BETA);
    r = check(lines, new Map([["beta", { ...swapped, hash: plan(ALPHA).hash } as ChannelPlan]]));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: 2, record: "definition", what: expect.stringMatching(/another definition than the one the channel ran/) });
    // ... or the export's own definition record edited.
    r = verifyExport(edit(1, (d) => (d.source = d.source.replace("threshold: all", "threshold: 2"))), { plans: new Map(), loadEmbedded: (d) => loadChannel(d.source, { file: "/x/beta.yaml" }, { checkCode }).plan ?? "no", runner: () => undefined });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: 2, record: "definition" });

    // A reordered line: two blocks of one cell swapped.
    const b1 = idx((r) => r.type === "block" && r.cell === "src" && r.height === 1);
    const reordered = [...lines];
    [reordered[b1], reordered[b1 + 1]] = [reordered[b1 + 1], reordered[b1]];
    r = check(reordered);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: b1 + 1, record: "block", height: 2, what: expect.stringMatching(/block 1 of cell src belongs/) });

    // A snapshot whose state root does not match, re-certified by the snapshot group's own keys
    // (so only the replay can tell).
    const snap = idx((r) => r.type === "snapshot" && r.block.value.snapshot.cells.sink.height > 0);
    expect(snap).toBeGreaterThan(0);
    const keys = ["v2", "v3", "v4"].map((n) => loadKeyFile(join(dir, "keys", `${n}.key`)));
    const forged = structuredClone(recs[snap]);
    const s = forged.block.value.snapshot;
    s.cells.sink.stateRoot = "ab".repeat(32);
    const hash = snapshotHash(s);
    forged.hash = hash;
    forged.block.certificate = { channel: "beta", cell: "snapshots", height: s.height, round: 0, valueId: hash, signatures: keys.map((k) => ({ validator: k.publicKey, signature: signBytes(k, new TextEncoder().encode(precommitString("beta", "snapshots", s.height, 0, hash))) })) };
    const tampered = lines.map((l, j) => (j === snap ? JSON.stringify(forged) : l));
    r = check(tampered);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence).toMatchObject({ line: snap + 1, record: "snapshot", cell: "sink", height: s.height, what: expect.stringMatching(/state root abababababab… does not match the replayed block/) });

    // A cut-off file.
    r = check(lines.slice(0, -1));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.divergence.what).toMatch(/cut off/);
  }, 120_000);

  it("L0 stopped under load, then back: the channels keep committing, no snapshot is lost or duplicated", async () => {
    const before = { alpha: await l0Height(l0!, "alpha"), beta: await l0Height(l0!, "beta") };
    await l0!.stop();
    const stoppedAt = Date.now();
    const heights = () => Object.fromEntries(["alpha", "beta"].map((ch) => [ch, nodes[1].snapshots.hosts.get(ch)!.height]));
    const start = heights();
    const cellHeight = () => nodes[1].core.head("alpha", "items")!.height;
    const cellStart = cellHeight();
    // Load while L0 is down: inputs to both channels for a few seconds.
    let n = 1000;
    while (Date.now() - stoppedAt < 6_000) {
      await submit(net.api.v1, "alpha", "items", n);
      await submit(net.api.v3, "beta", "src", n++);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Snapshots went on being agreed and queued; blocks kept committing.
    await until("snapshots decided while L0 is down", () => (heights().alpha > start.alpha + 1 && heights().beta > start.beta + 1 ? true : undefined), 60_000);
    expect(cellHeight()).toBeGreaterThan(cellStart);
    const failing = nodes[1].snapshots.l0Status().find((s) => s.channel === "alpha");
    expect(failing?.lastError?.code).toBe("L0_UNREACHABLE");
    expect(failing?.attempts).toBeGreaterThan(0);
    const queued = { alpha: heights().alpha, beta: heights().beta };
    l0 = await startL0Process(join(dir, "l0"), port);
    for (const ch of ["alpha", "beta"] as const) await until(`${ch} delivered after L0 is back`, async () => ((await l0Height(l0!, ch)) >= queued[ch] ? true : undefined), 90_000, 500);
    const client = l0Client(l0.url);
    for (const ch of ["alpha", "beta"] as const) {
      const r = await client.snapshots(ch, { from: 1, limit: 1000 });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const hs = r.snapshots.filter((s) => s.status === "accepted").map((s) => s.height);
      expect(hs).toEqual(hs.map((_, i) => i + 1)); // every height once, none skipped
      expect(hs.length).toBeGreaterThanOrEqual(queued[ch]);
      expect(before[ch]).toBeLessThan(queued[ch]);
      // L0 holds exactly the chain the nodes stored: same hash at every height, acknowledged on every node that sent it.
      for (const node of nodes.filter((x) => x.snapshots.hosts.has(ch))) {
        const st = node.snapshots.l0Status().find((s) => s.channel === ch);
        await until(`${node.name} acknowledged ${ch}`, () => ((node.snapshots.l0Status().find((s) => s.channel === ch)?.acknowledged ?? 0) >= queued[ch] ? true : undefined), 60_000);
        void st;
      }
    }
    const ex = join(dir, "alpha-after.jsonl");
    expect(await main(["export", "--node", net.api.v2, "--channel", "alpha", "--out", ex], () => {})).toBe(0);
    let text = "";
    expect(await main(["verify", ex, ALPHA, "--l0-key", l0.key], (x) => (text += x))).toBe(0);
    expect(text).toMatch(/ok/);
  }, 240_000);

  it("a node restarted from its ledger goes on with the same snapshot chain, and L0 holds it once", async () => {
    const v4 = nodes[3];
    const before = v4.snapshots.hosts.get("alpha")!.height;
    await v4.stop();
    const { config } = loadNodeConfig(net.configs.v4);
    const again = await startNode(config!, { log: silent });
    nodes[3] = again;
    expect(again.snapshots.hosts.get("alpha")!.height).toBe(before);
    for (let i = 0; i < 10; i++) await submit(net.api.v1, "alpha", "items", 5000 + i);
    await until("v4 decides new alpha snapshots after its restart", () => (again.snapshots.hosts.get("alpha")!.height > before + 1 ? true : undefined), 90_000);
    const r = await l0Client(l0!.url).snapshots("alpha", { from: 1, limit: 1000 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const ledgerChain = (await (await fetch(`${net.api.v4}/v1/export/alpha/snapshots?limit=1000`)).json()) as { snapshots: Array<{ height: number; hash: string }> };
    const atL0 = new Map(r.snapshots.map((s) => [s.height, s.hash]));
    for (const s of ledgerChain.snapshots) if (atL0.has(s.height)) expect(atL0.get(s.height)).toBe(s.hash);
    expect(new Set(r.snapshots.map((s) => s.height)).size).toBe(r.snapshots.length);
  }, 180_000);
});
