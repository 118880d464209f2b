/**
 * The channel side of L0 on four validator nodes (in this process: real
 * WebSockets, SQLite ledgers with synchronous=FULL) and an embedded L0 on
 * its own SQLite store, for 30 s of inputs: how often the snapshot group
 * decides a snapshot (`every: 5` blocks), and how long after its decision
 * L0's acknowledgement is stored (the outbox's delivery lag). Target: every
 * snapshot decided in the run acknowledged, the median lag under 2 s.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { generateKeyPair } from "../runtime/core/keys.js";
import { openL0, startL0Http } from "../runtime/l0/index.js";
import { createKeyFile, loadNodeConfig } from "../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../runtime/node/node.js";

const RUN_MS = 30_000;
const CHANNEL = `channel: bench
version: 1
groups:
  g: { validators: [v1, v2, v3, v4], threshold: 3 }
cells:
  items:
    group: g
    accepts: { type: object, required: [n], properties: { n: { type: integer } } }
    state:
      - add: total
        value: { var: data.n }
snapshots: { group: g, every: 5 }
`;

const freePort = () =>
  new Promise<number>((res) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
const median = (xs: number[]) => (xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]);
const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;

const dir = mkdtempSync(join(tmpdir(), "statecell-bench-snapshots-"));
const l0Key = generateKeyPair();
const l0 = openL0({ store: join(dir, "l0.db"), key: l0Key });
const http = await startL0Http(l0, { host: "127.0.0.1", port: 0 });
const names = ["v1", "v2", "v3", "v4"];
const validators: Record<string, { key: string; peer: string; api: string }> = {};
const ports: Record<string, { api: number; peer: number }> = {};
mkdirSync(join(dir, "keys"));
writeFileSync(join(dir, "bench.yaml"), CHANNEL);
for (const n of names) {
  ports[n] = { api: await freePort(), peer: await freePort() };
  validators[n] = { key: createKeyFile(join(dir, "keys", `${n}.key`)).publicKey, peer: `ws://127.0.0.1:${ports[n].peer}`, api: `http://127.0.0.1:${ports[n].api}` };
}
writeFileSync(join(dir, "network.yaml"), stringify({ network: "bench", validators }));
const nodes: RunningNode[] = [];
for (const n of names) {
  const file = join(dir, `${n}.yaml`);
  writeFileSync(file, stringify({ identity: join(dir, "keys", `${n}.key`), listen: { api: `127.0.0.1:${ports[n].api}`, peer: `127.0.0.1:${ports[n].peer}` }, network: join(dir, "network.yaml"), channels: [join(dir, "bench.yaml")], data: join(dir, n), l0: { url: http.url, key: l0Key.publicKey } }));
  nodes.push(await startNode(loadNodeConfig(file).config!, { log: silent }));
}
const started = Date.now();
let sent = 0;
while (Date.now() - started < RUN_MS) {
  const res = await fetch(`${validators.v1.api}/v1/channels/bench/cells/items/inputs`, { method: "POST", body: JSON.stringify({ inputs: Array.from({ length: 20 }, () => ({ data: { n: sent++ } })) }), headers: { "content-type": "application/json" } });
  await res.arrayBuffer();
  await new Promise((r) => setTimeout(r, 20));
}
await new Promise((r) => setTimeout(r, 3_000)); // the last deliveries
const snaps = ((await (await fetch(`${validators.v2.api}/v1/export/bench/snapshots?limit=1000`)).json()) as { snapshots: Array<{ height: number; decided: number }> }).snapshots;
const acks = ((await (await fetch(`${validators.v2.api}/v1/export/bench/acks?limit=1000`)).json()) as { acks: Array<{ height: number; received: number }> }).acks;
const blocks = nodes[1].core.head("bench", "items")!.height;
for (const n of nodes) await n.stop();
await http.close();
l0.close();
rmSync(dir, { recursive: true, force: true });

const decidedAt = new Map(snaps.map((s) => [s.height, s.decided]));
const lags = acks.filter((a) => decidedAt.has(a.height)).map((a) => a.received - decidedAt.get(a.height)!);
const intervals = snaps.slice(1).map((s, i) => s.decided - snaps[i].decided);
const acked = new Set(acks.map((a) => a.height));
const all = snaps.every((s) => acked.has(s.height));
console.log(`inputs sent ${sent}, cell blocks ${blocks}, snapshots decided ${snaps.length} (${((snaps.length * 60_000) / RUN_MS).toFixed(0)}/min), acknowledged ${acks.length}`);
console.log(`interval between snapshot decisions: median ${median(intervals)} ms; blocks per snapshot ${(blocks / Math.max(1, snaps.length)).toFixed(1)}`);
console.log(`delivery lag (decided -> acknowledgement stored): median ${median(lags)} ms, max ${Math.max(...lags)} ms`);
const pass = all && median(lags) < 2000;
console.log(`${pass ? "PASS" : "MISS"}: every snapshot acknowledged (${all}), median lag ${median(lags)} ms (target < 2000 ms)`);
