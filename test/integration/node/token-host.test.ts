/**
 * The token cell on real nodes, in this process: four validators (real
 * WebSockets, SQLite ledgers, group drivers) host test/integration/node/
 * fixtures/coins.yaml. Transfers go through POST .../cells/token/inputs and
 * commit on every node; each admission refusal answers its code at once and
 * each block refusal is a committed verdict GET /v1/inputs/{id} reports;
 * approve / transferFrom move what the allowance covers; the token routes
 * answer definition, balances, nonces, allowances and history; Transfer and
 * Approval events reach stream subscribers; a restarted node recomputes the
 * same token state root from its ledger.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyFile, loadKeyFile, loadNodeConfig } from "../../../runtime/node/config/index.js";
import { startNode, type RunningNode } from "../../../runtime/node/node.js";
import { freePort } from "../../../runtime/cli/free-port.js";
import { inputId } from "../../../runtime/ledger/input-id.js";
import { signTokenOp, type TokenOp } from "../../../runtime/token/index.js";
import type { KeyPair } from "../../../runtime/core/keys.js";
import { StreamClient, waitFor } from "./network.js";
import { main } from "../../../runtime/cli/main.js";
import { readFileSync } from "node:fs";
import Database from "better-sqlite3";
import { Ajv } from "ajv";
import tokenSchema from "../../../schemas/api/token.schema.json" with { type: "json" };
import exportSchema from "../../../schemas/export.schema.json" with { type: "json" };

const silent = { info() {}, warn() {}, error() {}, debug() {}, child() { return silent; } } as never;
const NAMES = ["v1", "v2", "v3", "v4"];
const COINS = resolve(import.meta.dirname, "fixtures", "coins.yaml");
const CH = "coins";
const tokenAnswer = new Ajv({ allowUnionTypes: true, strict: false }).compile(tokenSchema);

type Json = Record<string, any>;

async function get(url: string): Promise<{ status: number; body: Json }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as Json };
}

async function post(api: string, body: unknown): Promise<Json[]> {
  const r = await fetch(`${api}/v1/channels/${CH}/cells/token/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  if (r.status !== 200) throw new Error(`POST answered ${r.status}: ${await r.text()}`);
  return ((await r.json()) as { results: Json[] }).results;
}

describe("the token cell on nodes", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-token-"));
  const nodes: RunningNode[] = [];
  const configs: Record<string, string> = {};
  const api: Record<string, string> = {};
  let treasury: KeyPair;
  let alice: KeyPair;
  let bob: KeyPair;
  let stream: StreamClient | undefined;

  const sign = (key: KeyPair, op: TokenOp) => signTokenOp(CH, key, op);
  const account = async (node: string, key: string) => (await get(`${api[node]}/v1/channels/${CH}/token/accounts/${key}`)).body;
  const final = async (id: string, node = "v2") => {
    let s: Json = {};
    await waitFor(async () => {
      s = (await get(`${api[node]}/v1/inputs/${id}`)).body;
      return s.status === "committed" || s.status === "rejected";
    }, 60_000, () => `input ${id} is ${JSON.stringify(s)}`);
    return s;
  };

  beforeAll(async () => {
    mkdirSync(join(dir, "keys"), { recursive: true });
    const validators: Record<string, { key: string; peer: string; api: string }> = {};
    const ports: Record<string, { api: number; peer: number }> = {};
    for (const name of NAMES) {
      ports[name] = { api: await freePort(), peer: await freePort() };
      const { publicKey } = createKeyFile(join(dir, "keys", `${name}.key`));
      validators[name] = { key: publicKey, peer: `ws://127.0.0.1:${ports[name].peer}`, api: `http://127.0.0.1:${ports[name].api}` };
      api[name] = validators[name].api;
    }
    for (const n of ["treasury", "alice", "bob"]) createKeyFile(join(dir, "keys", `${n}.key`));
    treasury = loadKeyFile(join(dir, "keys", "treasury.key"));
    alice = loadKeyFile(join(dir, "keys", "alice.key"));
    bob = loadKeyFile(join(dir, "keys", "bob.key"));
    // The treasury is an account, not a validator: the network file binds its name (keys:).
    writeFileSync(join(dir, "network.yaml"), stringify({ network: "token-test", validators, keys: { treasury: treasury.publicKey } }));
    for (const name of NAMES) {
      const nodeDir = join(dir, "nodes", name);
      mkdirSync(nodeDir, { recursive: true });
      configs[name] = join(nodeDir, "node.yaml");
      writeFileSync(configs[name], stringify({ identity: join(dir, "keys", `${name}.key`), listen: { api: `127.0.0.1:${ports[name].api}`, peer: `127.0.0.1:${ports[name].peer}` }, network: join(dir, "network.yaml"), channels: [COINS], data: join(nodeDir, "data") }));
      const { config, problems } = loadNodeConfig(configs[name]);
      expect(problems.filter((p) => p.severity === "error")).toEqual([]);
      nodes.push(await startNode(config!, { log: silent }));
    }
    stream = await StreamClient.open(api.v3, { channels: [CH], events: ["Transfer", "Approval"] });
  }, 60_000);

  afterAll(async () => {
    stream?.close();
    for (const n of nodes) await n.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the definition, and the genesis balance of the account the network file names", async () => {
    const d = await get(`${api.v1}/v1/channels/${CH}/token`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ channel: CH, cell: "token", name: "Test Coin", symbol: "TC", decimals: 2, group: "g", supply: "100000", maxSupply: "100000", fee: { amount: "1" }, rewards: null });
    expect(d.body.feesTo.accounts).toHaveLength(4);
    expect(await account("v4", treasury.publicKey)).toMatchObject({ balance: "100000", nonce: 0, nextNonce: 1 });
    // Every answer is described by schemas/api/token.schema.json.
    expect(tokenAnswer(d.body), JSON.stringify(tokenAnswer.errors)).toBe(true);
    expect(tokenAnswer(await account("v4", treasury.publicKey))).toBe(true);
    expect(tokenAnswer((await get(`${api.v1}/v1/channels/${CH}/token/fee?from=${treasury.publicKey}&to=${alice.publicKey}&amount=100`)).body)).toBe(true);
  });

  it("commits a signed transfer on every node: balances, nonce and supply agree, and the stream sends its Transfer", async () => {
    const sub = sign(treasury, { type: "transfer", from: treasury.publicKey, to: alice.publicKey, amount: 5000n, nonce: 1 });
    const [r] = await post(api.v1, sub);
    expect(r).toMatchObject({ id: inputId(sub as never), status: "pending" });
    expect(await final(r.id)).toMatchObject({ status: "committed", cell: "token" });
    for (const n of NAMES) {
      await waitFor(async () => (await account(n, alice.publicKey)).balance === "5000", 30_000, () => `${n} has not committed the transfer`);
      expect(await account(n, treasury.publicKey)).toMatchObject({ balance: "94999", nonce: 1, nextNonce: 2 });
    }
    const roots = await Promise.all(NAMES.map(async (n) => (await get(`${api[n]}/v1/channels/${CH}/token`)).body));
    const at = Math.min(...roots.map((x) => x.height));
    // Fees went to the validators: the supply is unchanged and the balances add up to it.
    for (const x of roots) expect(x.supply).toBe("100000");
    const state = (await get(`${api.v2}/v1/channels/${CH}/cells/token/state`)).body.state as Json;
    const sum = Object.values(state.balances as Record<string, string>).reduce((a, b) => a + BigInt(b), 0n);
    expect(sum).toBe(100000n);
    expect(at).toBeGreaterThan(0);
    await waitFor(() => stream!.tokenEvents.some((e) => e.id === r.id), 30_000, () => `no Transfer event: ${JSON.stringify(stream!.tokenEvents)}`);
    expect(stream!.tokenEvents.find((e) => e.id === r.id)).toMatchObject({ type: "Transfer", channel: CH, cell: "token", from: treasury.publicKey, to: alice.publicKey, amount: "5000", fee: "1", nonce: 1 });
  }, 90_000);

  it("answers every admission refusal with its code, at once", async () => {
    const bad = await post(api.v2, {
      inputs: [
        // signed by alice, spending the treasury's
        { ...sign(alice, { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 1n, nonce: 1 }), data: { type: "transfer", from: treasury.publicKey, to: bob.publicKey, amount: "1", nonce: 2 } },
        // a signer that is not the source
        { ...sign(alice, { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 1n, nonce: 1 }), signer: bob.publicKey },
        // a used nonce (a replay of another transfer with nonce 1)
        sign(treasury, { type: "transfer", from: treasury.publicKey, to: bob.publicKey, amount: 7n, nonce: 1 }),
        // amount 0, and a float
        { data: { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: "0", nonce: 1 }, signer: alice.publicKey, signature: "00".repeat(64) },
        { data: { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 1.5, nonce: 1 }, signer: alice.publicKey, signature: "00".repeat(64) },
        { data: { type: "mint", to: alice.publicKey }, signer: alice.publicKey, signature: "00".repeat(64) },
        { data: { type: "transfer", from: "ALICE", to: bob.publicKey, amount: "1", nonce: 1 }, signer: alice.publicKey, signature: "00".repeat(64) },
      ],
    });
    expect(bad.map((r) => [r.status, r.code])).toEqual([
      ["rejected", "TOKEN_NOT_SIGNED_BY_SOURCE"],
      ["rejected", "TOKEN_NOT_SIGNED_BY_SOURCE"],
      ["rejected", "TOKEN_BAD_NONCE"],
      ["rejected", "TOKEN_AMOUNT"],
      ["rejected", "TOKEN_AMOUNT"],
      ["rejected", "TOKEN_BAD_SUBMISSION"],
      ["rejected", "TOKEN_BAD_ACCOUNT"],
    ]);
    for (const r of bad) expect((await get(`${api.v2}/v1/inputs/${r.id}`)).body).toMatchObject({ status: "rejected", code: r.code });
  });

  it("block refusals are committed verdicts: TOKEN_SAME_ACCOUNT and TOKEN_INSUFFICIENT_BALANCE leave the nonce unused", async () => {
    const same = sign(alice, { type: "transfer", from: alice.publicKey, to: alice.publicKey, amount: 1n, nonce: 1 });
    const [a] = await post(api.v3, same);
    expect(a.status).toBe("pending");
    expect(await final(a.id)).toMatchObject({ status: "rejected", code: "TOKEN_SAME_ACCOUNT" });
    const tooMuch = sign(alice, { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 5000n, nonce: 1 }); // 5000 + fee 1 > 5000
    const [b] = await post(api.v3, tooMuch);
    expect(await final(b.id)).toMatchObject({ status: "rejected", code: "TOKEN_INSUFFICIENT_BALANCE" });
    expect(await account("v1", alice.publicKey)).toMatchObject({ balance: "5000", nonce: 0 });
    // Refused in a block, they no longer wait at the node that took them (they count toward no pending limit).
    await waitFor(async () => (await account("v3", alice.publicKey)).pending === 0, 10_000, () => "refused submissions still wait");
    // The same nonce, fixed, commits.
    const ok = sign(alice, { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 999n, nonce: 1 });
    const [c] = await post(api.v3, ok);
    expect(await final(c.id)).toMatchObject({ status: "committed" });
  }, 90_000);

  it("holds a nonce gap pending, refuses past perAccount, replaces a waiting nonce, and commits the run once the gap fills", async () => {
    const t = (nonce: number, amount: bigint) => sign(bob, { type: "transfer", from: bob.publicKey, to: alice.publicKey, amount, nonce });
    const [three] = await post(api.v4, t(2, 10n));
    const [four] = await post(api.v4, t(3, 10n));
    expect([three.status, four.status]).toEqual(["pending", "pending"]);
    const [five] = await post(api.v4, t(4, 10n));
    expect(five).toMatchObject({ status: "rejected", code: "TOKEN_PENDING_FULL" });
    // Another submission with nonce 3 replaces the waiting one.
    const [four2] = await post(api.v4, t(3, 11n));
    expect(four2.status).toBe("pending");
    expect((await get(`${api.v4}/v1/inputs/${four.id}`)).body).toMatchObject({ status: "rejected", code: "TOKEN_PENDING_REPLACED" });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(`${api.v4}/v1/inputs/${three.id}`)).body.status).toBe("pending");
    // Bob's next nonce, 1, fills the gap: taken although two wait.
    const [two] = await post(api.v4, t(1, 10n));
    for (const x of [two, three, four2]) expect(await final(x.id, "v4"), JSON.stringify(await final(x.id, "v4"))).toMatchObject({ status: "committed" });
    expect(await account("v2", bob.publicKey)).toMatchObject({ nonce: 3, balance: String(999n - 10n - 10n - 11n - 3n) });
  }, 90_000);

  it("approve, allowance and transferFrom: the spender moves what the allowance covers, no more; Approval on the stream", async () => {
    const ap = sign(alice, { type: "approve", owner: alice.publicKey, spender: bob.publicKey, amount: 101n, nonce: 2, expires: null });
    const [a] = await post(api.v1, ap);
    expect(a.status, JSON.stringify(a)).toBe("pending");
    expect(await final(a.id)).toMatchObject({ status: "committed" });
    await waitFor(async () => (await get(`${api.v1}/v1/channels/${CH}/token/accounts/${alice.publicKey}/allowances/${bob.publicKey}`)).body.amount === "101", 30_000, () => "no allowance");
    const over = sign(bob, { type: "transferFrom", spender: bob.publicKey, from: alice.publicKey, to: bob.publicKey, amount: 101n, nonce: 4 }); // + fee 1 > 101
    const [o] = await post(api.v1, over);
    expect(await final(o.id)).toMatchObject({ status: "rejected", code: "TOKEN_ALLOWANCE_EXCEEDED" });
    const tf = sign(bob, { type: "transferFrom", spender: bob.publicKey, from: alice.publicKey, to: bob.publicKey, amount: 100n, nonce: 4 });
    const [f] = await post(api.v1, tf);
    expect(await final(f.id)).toMatchObject({ status: "committed" });
    await waitFor(async () => (await get(`${api.v2}/v1/channels/${CH}/token/accounts/${alice.publicKey}/allowances/${bob.publicKey}`)).body.amount === "0", 30_000, () => "allowance not used");
    await waitFor(() => stream!.tokenEvents.some((e) => e.type === "Approval" && e.id === a.id), 30_000, () => "no Approval event");
    expect(stream!.tokenEvents.find((e) => e.id === f.id)).toMatchObject({ type: "Transfer", spender: bob.publicKey, from: alice.publicKey, amount: "100" });
  }, 90_000);

  it("an account's history: newest first, paged by `next`, the same on every node", async () => {
    const all = (await get(`${api.v1}/v1/channels/${CH}/token/accounts/${alice.publicKey}/transfers?limit=500`)).body;
    expect(all.next).toBeNull();
    const kinds = (all.transfers as Json[]).map((e) => `${e.event}:${e.amount}`);
    expect(kinds).toEqual(["Transfer:100", "Approval:101", "Transfer:11", "Transfer:10", "Transfer:10", "Transfer:999", "Transfer:5000"]);
    const first = (await get(`${api.v3}/v1/channels/${CH}/token/accounts/${alice.publicKey}/transfers?limit=3`)).body;
    expect(first.transfers).toEqual(all.transfers.slice(0, 3));
    const second = (await get(`${api.v3}/v1/channels/${CH}/token/accounts/${alice.publicKey}/transfers?limit=3&before=${first.next}`)).body;
    expect(second.transfers).toEqual(all.transfers.slice(3, 6));
    for (const page of [all, first, second]) expect(tokenAnswer(page), JSON.stringify(tokenAnswer.errors)).toBe(true);
    expect(tokenAnswer((await get(`${api.v3}/v1/channels/${CH}/token/accounts/${alice.publicKey}/allowances/${bob.publicKey}`)).body)).toBe(true);
  });

  it("refuses hostile token routes with codes", async () => {
    const base = `${api.v1}/v1/channels/${CH}/token`;
    expect((await get(`${base}/accounts/ABC`)).body.code).toBe("API_BAD_PARAM");
    expect((await get(`${base}/accounts/${alice.publicKey}/transfers?limit=0`)).body.code).toBe("API_BAD_PARAM");
    expect((await get(`${base}/accounts/${alice.publicKey}/transfers?limit=100000`)).body.code).toBe("API_BAD_PARAM");
    expect((await get(`${base}/accounts/${alice.publicKey}/transfers?before=1e9`)).body.code).toBe("API_BAD_PARAM");
    expect((await get(`${base}/accounts/${alice.publicKey}/transfers?x=1`)).body.code).toBe("API_BAD_PARAM");
    expect((await get(`${base}/fee?from=${alice.publicKey}&to=${bob.publicKey}&amount=-1`)).body.code).toBe("API_BAD_PARAM");
    expect(await get(`${api.v1}/v1/channels/nope/token`)).toMatchObject({ status: 404, body: { code: "NODE_NOT_HOSTED" } });
    expect((await get(`${base}/nothing`)).status).toBe(404);
    const r = await fetch(base, { method: "DELETE" });
    expect(r.status).toBe(405);
  });

  it("snapshots carry the token root at a certified token head; export has the token blocks; verify replays them and names a changed one", async () => {
    // Snapshots every 5 blocks of the channel's cells: the token's count too.
    let last: Json = {};
    await waitFor(async () => {
      const snaps = (await get(`${api.v1}/v1/export/${CH}/snapshots?from=1&limit=1000`)).body.snapshots as Json[];
      last = snaps[snaps.length - 1] ?? {};
      return snaps.length >= 2 && (last.block?.value?.token?.height ?? 0) > 0;
    }, 60_000, () => `no snapshot names a token head: ${JSON.stringify(last).slice(0, 300)}`);
    const value = last.block.value;
    const tokenBlock = (await get(`${api.v2}/v1/channels/${CH}/cells/token/blocks/${value.token.height}`)).body;
    expect(value.snapshot.token).toEqual({ stateRoot: tokenBlock.value.stateRoot });
    expect(value.token.hash).toBe(tokenBlock.hash);
    const file = join(dir, "coins.jsonl");
    let text = "";
    expect(await main(["export", "--node", api.v1, "--channel", CH, "--out", file], (t) => (text += t)), text).toBe(0);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const tokenLines = lines.map((l, i) => [i, JSON.parse(l)] as const).filter(([, r]) => r.type === "block" && r.cell === "token");
    expect(tokenLines.length).toBeGreaterThan(5);
    text = "";
    expect(await main(["verify", file, COINS], (t) => (text += t)), text).toBe(0);
    expect(text).toMatch(/ok: channel coins/);
    const exportRecord = new Ajv({ allowUnionTypes: true }).compile(exportSchema);
    for (const l of lines) expect(exportRecord(JSON.parse(l)), JSON.stringify(exportRecord.errors)).toBe(true);
    // Without the registration, the header's keys and token accounts bind the genesis.
    const header = JSON.parse(lines[0]);
    expect(header.tokenAccounts).toEqual({ treasury: treasury.publicKey });
    const noReg = lines.map((l) => (JSON.parse(l).type === "registration" ? JSON.stringify({ type: "registration", channel: CH, record: null, signatures: [], answer: null }) : l));
    writeFileSync(join(dir, "noreg.jsonl"), `${noReg.join("\n")}\n`);
    text = "";
    expect(await main(["verify", join(dir, "noreg.jsonl"), COINS], (t) => (text += t)), text).toBe(0);
    // A token block whose transfer was changed no longer hashes to its certificate: verify names it.
    const [at, rec] = tokenLines.find(([, r]) => r.block.value.inputs.length > 0)!;
    rec.block.value.inputs[0].data.amount = "4999";
    const tampered = [...lines];
    tampered[at] = JSON.stringify(rec);
    writeFileSync(join(dir, "tampered.jsonl"), `${tampered.join("\n")}\n`);
    text = "";
    expect(await main(["verify", join(dir, "tampered.jsonl"), COINS], (t) => (text += t))).toBe(1);
    expect(text).toContain(`tampered.jsonl:${at + 1}: CLI_VERIFY_DIVERGENCE (block, cell token, height ${rec.height})`);
  }, 120_000);

  it("a restarted node rebuilds the token state from its ledger to the same root and keeps committing", async () => {
    const before = (await get(`${api.v4}/v1/channels/${CH}/token`)).body;
    await nodes[3].stop();
    const { config } = loadNodeConfig(configs.v4);
    // An edited token snapshot in the ledger (a balance raised, the supply to match) is refused at start, loudly.
    const file = join(config!.data, "ledger.sqlite");
    const db = new Database(file);
    const row = db.prepare("SELECT s.cell_id AS id, s.user AS user FROM snapshots s JOIN cells c ON c.cell_id = s.cell_id WHERE c.channel = ? AND c.cell = 'token'").get(CH) as { id: number; user: string };
    const snap = JSON.parse(row.user) as { balances: Record<string, string>; supply: string };
    const edited = { ...snap, balances: { ...snap.balances, [bob.publicKey]: String(BigInt(snap.balances[bob.publicKey]) + 1000n) }, supply: String(BigInt(snap.supply) + 1000n) };
    db.prepare("UPDATE snapshots SET user = ? WHERE cell_id = ?").run(JSON.stringify(edited), row.id);
    db.close();
    await expect(startNode(config!, { log: silent })).rejects.toMatchObject({ code: "LEDGER_RESTORE_MISMATCH" });
    const undo = new Database(file);
    undo.prepare("UPDATE snapshots SET user = ? WHERE cell_id = ?").run(row.user, row.id);
    undo.close();
    nodes[3] = await startNode(config!, { log: silent });
    const after = (await get(`${api.v4}/v1/channels/${CH}/token`)).body;
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    if (after.height === before.height) expect(after.stateRoot).toBe(before.stateRoot);
    const sub = sign(treasury, { type: "transfer", from: treasury.publicKey, to: bob.publicKey, amount: 1n, nonce: 2 });
    const [r] = await post(api.v4, sub);
    expect(await final(r.id, "v4")).toMatchObject({ status: "committed" });
    const heads = await Promise.all(NAMES.map(async (n) => (await get(`${api[n]}/v1/channels/${CH}/cells/token/blocks/${(await final(r.id, "v4")).height}`)).body));
    expect(new Set(heads.map((h) => h.hash)).size).toBe(1);
  }, 90_000);
});
