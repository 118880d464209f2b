/**
 * A governed upgrade end to end, under load: four validator nodes (real
 * WebSockets, SQLite ledgers, in this process) and a real `statecell l0`
 * process. Version 2 of the channel (`activation: H`, a tighter schema) is
 * refused by every node until a threshold of the snapshot group approved it
 * at L0 (`statecell channel approve --at A`); then every node stages it with
 * L0's snapshot height. Every node switches at block H; every snapshot below
 * A names version 1 and no block at or above H, every one from A on names
 * version 2, and L0 accepts them all. The export verifies with both files,
 * and fails when the schedule it records is edited. A validator whose data
 * is wiped cannot start from version 2's file alone (NODE_VERSION_HISTORY);
 * given both files it catches up from genesis through both versions.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify, parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { l0Client } from "../../../runtime/l0/index.js";
import { main } from "../../../runtime/cli/main.js";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { checkCode } from "../../../runtime/sandbox/index.js";
import { FIXTURES, freePort, startL0Process, until, writeNetwork, type L0Process, type TestNetwork } from "./network.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;
const NAMES = ["v1", "v2", "v3", "v4"];
const ALPHA = join(FIXTURES, "alpha.yaml");
/** Version 2 accepts only n below this; the load sends some above it. */
const LIMIT = 100_000;

function plan(file: string): ChannelPlan {
  return loadChannel(readFileSync(file, "utf8"), { file }, { readFile: (p) => readFileSync(p, "utf8"), checkCode }).plan!;
}

async function submit(api: string, n: number): Promise<void> {
  try {
    const res = await fetch(`${api}/v1/channels/alpha/cells/items/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [{ data: { n } }] }), signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
  } catch {
    // a loaded machine may cut a request off: the load goes on
  }
}

describe("a governed upgrade through L0, under load", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-governed-"));
  const nodes: Array<RunningNode | undefined> = [];
  let l0: L0Process | undefined;
  let net: TestNetwork;
  let loading = true;
  let load: Promise<void> | undefined;
  afterAll(async () => {
    loading = false;
    await load;
    for (const n of nodes) await n?.stop();
    await l0?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const height = (i = 0) => nodes[i]!.core.head("alpha", "items")!.height;
  const l0Head = async () => {
    const r = await l0Client(l0!.url).channel("alpha");
    return r.ok ? ((r.channel as unknown as { head: { height: number } | null }).head?.height ?? 0) : 0;
  };
  const v2File = join(dir, "alpha-v2.yaml");
  let H = 0;
  let A = 0;

  it("refuses version 2 until L0 scheduled it, then every node switches at block H and snapshots name version 2 from snapshot A", async () => {
    l0 = await startL0Process(join(dir, "l0"), await freePort());
    net = await writeNetwork(dir, Object.fromEntries(NAMES.map((n) => [n, [ALPHA]])), { url: l0.url, key: l0.key });
    for (const name of NAMES) nodes.push(await startNode(loadNodeConfig(net.configs[name]).config!, { log: silent }));
    // Steady load: small inputs, and every third one above version 2's limit.
    load = (async () => {
      for (let i = 1; loading; i++) {
        await submit(net.api[NAMES[i % 4]], i % 3 === 0 ? LIMIT + i : i);
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    await until("L0 at snapshot 2", async () => ((await l0Head()) >= 2 ? true : undefined), 120_000, 300);

    // H a few snapshots ahead of the cells, and A further: the cells pass H before snapshot A is decided, so the snapshots
    // in between must name the block before H (snapshots: every 5 blocks).
    const snapAt = nodes[0]!.snapshots.hosts.get("alpha")!.height;
    H = height() + 15;
    writeFileSync(v2File, readFileSync(ALPHA, "utf8").replace("version: 1", `version: 2\nactivation: ${H}`).replace("minimum: 0 }", `minimum: 0, maximum: ${LIMIT} }`));
    const v1 = plan(ALPHA);
    const v2 = plan(v2File);
    expect(v2.hash).not.toBe(v1.hash);

    // Without an activation height, a channel that sends snapshots to L0 is not swapped at once.
    const now = join(dir, "alpha-now.yaml");
    writeFileSync(now, readFileSync(ALPHA, "utf8").replace("version: 1", "version: 2"));
    expect(await nodes[0]!.admin.upgrade("alpha", now)).toMatchObject({ ok: false, status: 409, code: "NODE_UPGRADE_NEEDS_ACTIVATION" });
    // Not approved yet: refused with who approved (nobody), and nothing staged.
    const early = await nodes[0]!.admin.upgrade("alpha", v2File);
    expect(early).toMatchObject({ ok: false, status: 409, code: "NODE_UPGRADE_NOT_SCHEDULED", remedy: expect.stringMatching(/statecell channel approve/) });
    expect(nodes[0]!.channels.versions("alpha")).toHaveLength(1);

    A = Math.max(snapAt, await l0Head()) + 7;
    let out = "";
    for (const n of ["v1", "v2"]) expect(await main(["channel", "approve", v2File, "--key", join(dir, "keys", `${n}.key`), "--at", String(A), "--l0", l0.url], (s) => (out += s))).toBe(0);
    // Two of three approvals: still not scheduled, and the refusal says who is missing.
    const half = await nodes[1]!.admin.upgrade("alpha", v2File);
    expect(half).toMatchObject({ ok: false, code: "NODE_UPGRADE_NOT_SCHEDULED", message: expect.stringMatching(/open, 2 of 3 approvals \(v1, v2\), missing v3, v4/) });
    expect(await main(["channel", "approve", v2File, "--key", join(dir, "keys", "v3.key"), "--at", String(A), "--l0", l0.url], (s) => (out += s))).toBe(0);
    expect(out).toMatch(/3 of 3 approvals/);

    for (const n of nodes) expect(await n!.admin.upgrade("alpha", v2File)).toMatchObject({ ok: true, version: 2, activation: H, atSnapshot: A });
    expect(height()).toBeLessThan(H);
    // An invalid version 3 is refused with its lint errors; version 2 stays staged.
    const bad = join(dir, "alpha-v3.yaml");
    writeFileSync(bad, readFileSync(v2File, "utf8").replace("version: 2", "version: 3").replace("threshold: 3", "threshold: 9"));
    expect(await nodes[2]!.admin.upgrade("alpha", bad)).toMatchObject({ ok: false, code: "NODE_CHANNEL_INVALID" });

    await until("blocks past H and L0 past snapshot A", async () => (NAMES.every((_, i) => height(i) >= H + 10) && (await l0Head()) >= A + 1 ? true : undefined), 240_000, 500);

    // Every node's chain is the same, and blocks from H on took no input above version 2's limit.
    const top = Math.min(...NAMES.map((_, i) => height(i)));
    const bigAccepted = { before: 0, after: 0 };
    for (let h = 1; h <= top; h++) {
      const blocks = nodes.map((n) => n!.core.block("alpha", "items", h));
      const hashes = new Set(blocks.map((b) => b?.hash));
      expect(hashes.size, `block ${h}`).toBe(1);
      const v = blocks[0]!.value as { inputs: Array<{ data: { n: number } }>; verdicts: Array<{ accepted: boolean; code?: string }> };
      v.inputs.forEach((inp, i) => {
        if (inp.data.n <= LIMIT || !v.verdicts[i].accepted) return;
        if (h < H) bigAccepted.before++;
        else bigAccepted.after++;
      });
    }
    expect(bigAccepted.before).toBeGreaterThan(0);
    expect(bigAccepted.after).toBe(0);

    // L0 accepted every snapshot: version 1 below A with no head at or above H, version 2 from A on.
    const snaps = await l0Client(l0.url).snapshots("alpha", { from: 1, limit: 1000 });
    expect(snaps.ok).toBe(true);
    if (!snaps.ok) return;
    expect(snaps.snapshots.map((s) => s.height)).toEqual(snaps.snapshots.map((_, i) => i + 1));
    const trace = `H ${H}, A ${A}: ${snaps.snapshots.map((s) => `${s.height}@${s.snapshot.cells.items.height}`).join(" ")}`;
    for (const s of snaps.snapshots) {
      if (s.height < A) {
        expect(s.snapshot.definitionHash, `snapshot ${s.height}`).toBe(v1.hash);
        expect(s.snapshot.cells.items.height, trace).toBeLessThan(H);
      } else expect(s.snapshot.definitionHash, `snapshot ${s.height}`).toBe(v2.hash);
    }
    // The cells passed H before snapshot A: a snapshot below A named the block before H.
    expect(snaps.snapshots.some((s) => s.height < A && s.snapshot.cells.items.height === H - 1), trace).toBe(true);
    const status = nodes[0]!.snapshots.l0Status().find((c) => c.channel === "alpha");
    expect(status?.lastError ?? null).toBeNull();
    // The node's view shows the version in force and nothing left staged.
    expect(nodes[0]!.channels.versions("alpha").map((v) => [v.plan.version, v.from, v.atSnapshot])).toEqual([[1, 1, undefined], [2, H, A]]);
  }, 420_000);

  it("the export verifies with both files, and fails where its recorded schedule is edited", async () => {
    const file = join(dir, "alpha.jsonl");
    let text = "";
    expect(await main(["export", "--node", net.api.v2, "--channel", "alpha", "--out", file], (s) => (text += s))).toBe(0);
    text = "";
    const code = await main(["verify", file, ALPHA, v2File], (s) => (text += s));
    expect(text).toMatch(/: ok: channel/);
    expect(code).toBe(0);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const at = lines.findIndex((l) => (JSON.parse(l) as { type: string; version?: number }).type === "definition" && JSON.parse(l).version === 2);
    expect(JSON.parse(lines[at]).atSnapshot).toBe(A);
    const edited = lines.map((l, i) => (i === at ? JSON.stringify({ ...JSON.parse(l), atSnapshot: A + 1 }) : l));
    const bad = join(dir, "alpha-edited.jsonl");
    writeFileSync(bad, `${edited.join("\n")}\n`);
    text = "";
    expect(await main(["verify", bad, ALPHA, v2File], (s) => (text += s))).toBe(1);
    expect(text).toMatch(new RegExp(`CLI_VERIFY_DIVERGENCE \\(snapshot, height ${A}\\).*L0 holds in force only from snapshot ${A + 1}`));
  }, 120_000);

  it("a validator with an empty ledger needs version 1 too, and with both files catches up through both versions", async () => {
    await nodes[3]!.stop();
    nodes[3] = undefined;
    rmSync(join(dir, "nodes", "v4", "data"), { recursive: true, force: true });
    const cfg = parse(readFileSync(net.configs.v4, "utf8")) as Record<string, unknown>;
    writeFileSync(net.configs.v4, stringify({ ...cfg, channels: [v2File] }));
    await expect(startNode(loadNodeConfig(net.configs.v4).config!, { log: silent })).rejects.toMatchObject({ code: "NODE_VERSION_HISTORY", remedy: expect.stringMatching(/earlier file/) });
    rmSync(join(dir, "nodes", "v4", "data"), { recursive: true, force: true });
    writeFileSync(net.configs.v4, stringify({ ...cfg, channels: [ALPHA, v2File] }));
    nodes[3] = await startNode(loadNodeConfig(net.configs.v4).config!, { log: silent });
    const target = height(0);
    await until("the fresh node caught up", () => (height(3) >= target ? true : undefined), 180_000, 500);
    for (let h = 1; h <= target; h++) expect(nodes[3]!.core.block("alpha", "items", h)?.hash, `block ${h}`).toBe(nodes[0]!.core.block("alpha", "items", h)?.hash);
    expect(nodes[3]!.channels.versions("alpha").map((v) => [v.plan.version, v.from, v.atSnapshot])).toEqual([[1, 1, undefined], [2, H, A]]);
  }, 300_000);
});
