/**
 * channels/token.yaml on a local network of real node processes started by
 * `statecell up` (four shops and an L0): the treasury, an account `up` made
 * a key file for and bound in network.yaml, pays a customer with
 * `statecell transfer` (its own process) and over HTTP; every refusal code of
 * the token is answered, at admission or as a committed verdict; balances,
 * nonces and the token root are identical on every node; a Transfer event
 * reaches a subscriber of another node's stream.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyFile, loadKeyFile } from "../../../runtime/node/config/index.js";
import { signTokenOp, type TokenOp } from "../../../runtime/token/index.js";
import type { KeyPair } from "../../../runtime/core/keys.js";
import { getJson, logTails, ROOT, runCli, StreamClient, up, waitFor, type UpNetwork } from "./network.js";

const CH = "loyalty-points";
type J = Record<string, any>;

describe("the token on a local network (statecell up channels/token.yaml)", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-token-up-"));
  let net: UpNetwork;
  let treasury: KeyPair;
  let alice: KeyPair;
  let stream: StreamClient | undefined;
  const api = (i: number) => net.nodes[i].api;
  const sign = (k: KeyPair, op: TokenOp) => signTokenOp(CH, k, op);
  const post = async (i: number, body: unknown): Promise<J[]> => {
    const r = await fetch(`${api(i)}/v1/channels/${CH}/cells/token/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    return ((await r.json()) as { results: J[] }).results;
  };
  const final = async (id: string, i = 1): Promise<J> => {
    let s: J = {};
    await waitFor(async () => {
      s = (await getJson<J>(`${api(i)}/v1/inputs/${id}`)).body;
      return s.status === "committed" || s.status === "rejected";
    }, 40_000, () => `input ${id}: ${JSON.stringify(s)}\n${logTails(dir)}`);
    return s;
  };
  const account = async (i: number, key: string) => (await getJson<J>(`${api(i)}/v1/channels/${CH}/token/accounts/${key}`)).body;

  beforeAll(async () => {
    net = await up([join(ROOT, "channels", "token.yaml")], dir);
    treasury = loadKeyFile(join(dir, "keys", "treasury.key"));
    createKeyFile(join(dir, "alice.key"));
    alice = loadKeyFile(join(dir, "alice.key"));
    stream = await StreamClient.open(api(3), { channels: [CH], events: ["Transfer"] });
  }, 220_000);

  afterAll(async () => {
    stream?.close();
    await net?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("statecell transfer pays from the treasury's key file; the Transfer reaches another node's stream", async () => {
    const r = await runCli(["transfer", "--key", join(dir, "keys", "treasury.key"), "--to", alice.publicKey, "--amount", "25.00", "--node", api(0), "--fee", "0.10", "--wait"]);
    expect(r.out).toMatch(/^[0-9a-f]{64}\n/);
    expect(r.out).toMatch(/committed at height \d+/);
    expect(r.code).toBe(0);
    const id = r.out.slice(0, 64);
    // 2500 base units; the fee is a tenth of a percent, at least one base unit: 2.
    for (let i = 0; i < 4; i++) await waitFor(async () => (await account(i, alice.publicKey)).balance === "2500", 30_000, () => `node ${i} lacks the transfer`);
    await waitFor(() => stream!.tokenEvents.some((e) => e.id === id), 20_000, () => "no Transfer event");
    expect(stream!.tokenEvents.find((e) => e.id === id)).toMatchObject({ type: "Transfer", from: treasury.publicKey, to: alice.publicKey, amount: "2500", fee: "2", nonce: 1 });
    // Clear usage errors, with codes.
    const bad = await runCli(["transfer", "--key", join(dir, "keys", "treasury.key"), "--to", alice.publicKey, "--amount", "1.234", "--node", api(0)]);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("CLI_TRANSFER_AMOUNT");
    const unknown = await runCli(["transfer", "--key", join(dir, "keys", "treasury.key"), "--to", alice.publicKey, "--amount", "1", "--node", api(0), "--channel", "no-such"]);
    expect(unknown.out).toContain("CLI_TRANSFER_UNKNOWN_CHANNEL");
    const noKey = await runCli(["transfer", "--key", join(dir, "missing.key"), "--to", alice.publicKey, "--amount", "1", "--node", api(0)]);
    expect(noKey.code).toBe(2);
    expect(noKey.out).toMatch(/statecell transfer: [A-Z_]+: /);
  }, 120_000);

  it("answers every refusal code; the committed ones leave the same balances, nonces and root on every node", async () => {
    createKeyFile(join(dir, "bob.key"));
    const bob = loadKeyFile(join(dir, "bob.key"));
    const admitted = await post(2, {
      inputs: [
        { ...sign(alice, { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 1n, nonce: 1 }), signer: bob.publicKey },
        sign(treasury, { type: "transfer", from: treasury.publicKey, to: bob.publicKey, amount: 1n, nonce: 1 }),
        { data: { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: "01", nonce: 1 }, signer: alice.publicKey, signature: "00".repeat(64) },
      ],
    });
    expect(admitted.map((r) => r.code)).toEqual(["TOKEN_NOT_SIGNED_BY_SOURCE", "TOKEN_BAD_NONCE", "TOKEN_AMOUNT"]);
    const same = sign(alice, { type: "transfer", from: alice.publicKey, to: alice.publicKey, amount: 1n, nonce: 1 });
    const broke = sign(bob, { type: "transfer", from: bob.publicKey, to: alice.publicKey, amount: 1n, nonce: 1 });
    const over = sign(bob, { type: "transferFrom", spender: bob.publicKey, from: alice.publicKey, to: bob.publicKey, amount: 1n, nonce: 1 });
    const [s, b] = await post(1, { inputs: [same, broke] });
    expect(await final(s.id)).toMatchObject({ status: "rejected", code: "TOKEN_SAME_ACCOUNT" });
    expect(await final(b.id)).toMatchObject({ status: "rejected", code: "TOKEN_INSUFFICIENT_BALANCE" });
    const [o] = await post(1, over);
    expect(await final(o.id)).toMatchObject({ status: "rejected", code: "TOKEN_ALLOWANCE_EXCEEDED" });
    const ok = sign(alice, { type: "transfer", from: alice.publicKey, to: bob.publicKey, amount: 1000n, nonce: 1 });
    const [k] = await post(3, ok);
    expect(await final(k.id, 0)).toMatchObject({ status: "committed" });
    // Every node: the same balances and nonces, and the same token block at the transfer's height.
    const { height } = await final(k.id, 0);
    for (let i = 0; i < 4; i++) {
      await waitFor(async () => (await account(i, bob.publicKey)).balance === "1000", 30_000, () => `node ${i} lacks the transfer`);
      expect(await account(i, alice.publicKey)).toMatchObject({ balance: String(2500 - 1000 - 1), nonce: 1 });
      expect(await account(i, treasury.publicKey)).toMatchObject({ nonce: 1 });
    }
    const hashes = await Promise.all([0, 1, 2, 3].map(async (i) => (await getJson<J>(`${api(i)}/v1/channels/${CH}/cells/token/blocks/${height}`)).body.hash));
    expect(new Set(hashes).size).toBe(1);
  }, 120_000);
});
