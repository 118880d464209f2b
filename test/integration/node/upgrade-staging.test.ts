/**
 * Staging an upgrade at a height on one real node (in this process: SQLite
 * ledger, group driver, admin path): what is refused and with which code
 * (too late, another shape, an activation on version 1, not newer), the pending
 * inputs the new version refuses at the switch (settled with a code, none
 * left pending), a restart that runs the staged version from the ledger, and a
 * ledger whose stored version was tampered with (the node refuses to start).
 */
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { layoutNetwork, until } from "../dashboard/network.js";

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;

const V1 = `channel: solo
version: 1
limits: { maxBlockInputs: 2 }
groups:
  one: { validators: [v-1], threshold: 1 }
cells:
  items:
    group: one
    accepts: { type: object, required: [n], additionalProperties: false, properties: { n: { type: integer }, unit: { type: string } } }
    key: { var: data.n }
`;
/** Version 2 requires a unit: a v1-shaped input still pending at the switch is refused at admission. */
const v2 = (activation: number): string => V1.replace("version: 1", `version: 2\nactivation: ${activation}`).replace("required: [n]", "required: [n, unit]");

let dir: string;
let config: string;
let node: RunningNode | undefined;

async function start(): Promise<RunningNode> {
  const { config: c, problems } = loadNodeConfig(config);
  expect(problems.filter((p) => p.severity === "error")).toEqual([]);
  return startNode(c!, { log: silent });
}

function write(name: string, text: string): string {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
}

const head = (n: RunningNode): number => n.core.head("solo", "items")!.height;
const summary = async (n: RunningNode): Promise<any> => ((await (await fetch(`${n.api.url}/v1/channels`)).json()) as { channels: any[] }).channels[0];

describe("staging an upgrade at a height on a node", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-staging-"));
    const file = write("solo.yaml", V1);
    config = (await layoutNetwork(dir, ["v-1"], [file]))[0].config;
    node = await start();
    await until(() => head(node!) >= 2, 30_000, "the node to commit");
  }, 60_000);

  afterAll(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("refuses an activation at or below the block being decided, another shape, and activation on version 1, each with its code", async () => {
    const n = node!;
    const late = await n.admin.upgrade("solo", write("late.yaml", v2(2)));
    expect(late).toMatchObject({ ok: false, status: 409, code: "NODE_UPGRADE_TOO_LATE" });
    const shape = await n.admin.upgrade("solo", write("shape.yaml", `${v2(head(n) + 1000)}  more:\n    group: one\n    accepts: { type: object }\n`));
    expect(shape).toMatchObject({ ok: false, status: 422, code: "NODE_UPGRADE_SHAPE", message: expect.stringMatching(/its cells \(items, more\)/) });
    const v1act = await n.admin.upgrade("solo", write("v1act.yaml", V1.replace("version: 1", "version: 1\nactivation: 50")));
    expect(v1act).toMatchObject({ ok: false, code: "NODE_CHANNEL_INVALID" });
    expect((v1act as { problems: string[] }).problems.join("\n")).toMatch(/v1act\.yaml:3:1: error DEFINITION_ACTIVATION/);
    // Every refusal leaves version 1 running, with nothing staged.
    expect(n.channels.versions("solo").map((v) => v.plan.version)).toEqual([1]);
  });

  it("stages version 2; the inputs it refuses that are pending at the switch are settled with a code; from H on version 2 judges", async () => {
    const n = node!;
    const H = head(n) + 4;
    const staged = await n.admin.upgrade("solo", write("v2.yaml", v2(H)));
    expect(staged).toMatchObject({ ok: true, status: 200, version: 2, activation: H });
    expect(await summary(n)).toMatchObject({ version: 1, staged: [{ version: 2, activation: H }] });
    // The same file again: unchanged. Another version 2: not newer than the staged one.
    expect(await n.admin.upgrade("solo", join(dir, "v2.yaml"))).toMatchObject({ ok: true, unchanged: true, activation: H });
    expect(await n.admin.upgrade("solo", write("v2b.yaml", v2(H + 10).replace("limits:", "description: another\nlimits:")))).toMatchObject({ ok: false, code: "NODE_CHANNEL_NOT_NEWER" });
    // 40 version-1 inputs at once: two per block, so most are still pending when version 2 comes into force.
    const results = n.core.submit("solo", "items", Array.from({ length: 40 }, (_, i) => ({ data: { n: 1000 + i } })), "test") as unknown as Promise<Array<{ id: string; status: string }>>;
    const acked = (await results).filter((r) => r.status === "pending");
    expect(acked.length).toBeGreaterThan(30);
    await until(() => head(n) >= H + 2, 60_000, "the switch");
    await until(() => acked.every((a) => n.core.inputStatus(a.id)?.status !== "pending"), 30_000, "every acknowledged input settled");
    const final = acked.map((a) => n.core.inputStatus(a.id)!);
    const rejected = final.filter((s) => s.status === "rejected");
    expect(rejected.length).toBeGreaterThan(0);
    // Refused at the switch (no height: never in a block), or by version 2 in a block from H on.
    for (const s of rejected) expect(s).toMatchObject({ code: "CELL_SCHEMA" });
    for (const s of rejected) if (s.height !== undefined) expect(s.height).toBeGreaterThanOrEqual(H);
    expect(rejected.filter((s) => s.height === undefined && s.message!.includes(`refused by version 2, in force from block ${H}`)).length).toBeGreaterThan(0);
    for (const s of final.filter((x) => x.status === "committed")) expect(s.height).toBeLessThan(H);
    // From H on: a unit is required.
    const [bare] = await n.core.submit("solo", "items", [{ data: { n: 1 } }], "test");
    expect(bare).toMatchObject({ status: "rejected", code: "CELL_SCHEMA" });
    const [withUnit] = await n.core.submit("solo", "items", [{ data: { n: 2, unit: "l" } }], "test");
    expect(withUnit.status).toBe("pending");
    await until(() => n.core.inputStatus(withUnit.id)?.status === "committed", 30_000, "a version 2 input to commit");
    expect(n.core.inputStatus(withUnit.id)!.height).toBeGreaterThanOrEqual(H);
    expect(await summary(n)).toMatchObject({ version: 2, staged: [], cells: [{ cell: "items", version: 2 }] });
    // Too late once in force: a version 3 from a block already decided.
    expect(await n.admin.upgrade("solo", write("v3.yaml", v2(H).replace("version: 2", "version: 3")))).toMatchObject({ ok: false, code: "NODE_UPGRADE_TOO_LATE" });
  }, 120_000);

  it("restarted with only version 1's file, the node runs version 2 from the ledger; a tampered stored version stops the start", async () => {
    const before = head(node!);
    await node!.stop();
    node = await start();
    expect(node.channels.versions("solo").map((v) => [v.plan.version, v.from])).toEqual([
      [1, 1],
      [2, node.channels.versions("solo")[1].from],
    ]);
    await until(() => head(node!) > before + 1, 30_000, "commits after the restart");
    expect(await summary(node)).toMatchObject({ version: 2 });
    const [bare] = await node.core.submit("solo", "items", [{ data: { n: 3 } }], "test");
    expect(bare).toMatchObject({ status: "rejected", code: "CELL_SCHEMA" });
    await node.stop();
    node = undefined;
    const db = new Database(join(dir, "nodes", "v-1", "data", "ledger.sqlite"));
    db.prepare("UPDATE channel_versions SET source = replace(source, 'required: [n, unit]', 'required: [n]') WHERE version = 2").run();
    db.close();
    await expect(start()).rejects.toMatchObject({ code: "NODE_CONFIG_INVALID", message: expect.stringMatching(/version 2 of solo in the ledger .*hashes to/s) });
  }, 90_000);
});
