/**
 * Rules of other cells read the token on a local network of real node
 * processes (`statecell up`): channels/token.yaml's gold tier, the same gold
 * tier checked by a group with a node outside the token's group
 * (fixtures/gold-club.yaml: club-1 follows the token from the shops'
 * certified blocks), and channels/poll-weighted.yaml's weighted ballots (its
 * rules unchanged; its groups mapped onto the same five nodes and its closing
 * time moved to the future, so ballots are taken today). Every block of a
 * reading cell names the token height and root its rules read, and that root
 * is the token cell's at that height.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKeyFile, loadKeyFile } from "../../../runtime/node/config/index.js";
import { signedMessage } from "../../../runtime/cells/index.js";
import { signBytes, type KeyPair } from "../../../runtime/core/keys.js";
import { signTokenOp, type TokenOp } from "../../../runtime/token/index.js";
import { alive, getJson, logTails, restart, ROOT, up, waitFor, type UpNetwork } from "./network.js";
import { main } from "../../../runtime/cli/main.js";
import { Ajv } from "ajv";
import exportSchema from "../../../schemas/export.schema.json" with { type: "json" };

const GOLD = join(ROOT, "test", "integration", "node", "fixtures", "gold-club.yaml");

type J = Record<string, any>;

describe("token balances in other cells' rules, on real nodes", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-token-reads-"));
  let net: UpNetwork;
  let treasury: KeyPair;
  const names = ["shop-1", "shop-2", "shop-3", "shop-4", "club-1"];
  const api = (name: string) => net.byName(name).api;

  const post = async (name: string, channel: string, cell: string, body: unknown): Promise<J> => {
    const r = await fetch(`${api(name)}/v1/channels/${channel}/cells/${cell}/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    expect(r.status).toBe(200);
    return ((await r.json()) as { results: J[] }).results[0];
  };
  const final = async (name: string, id: string): Promise<J> => {
    let s: J = {};
    await waitFor(async () => {
      s = (await getJson<J>(`${api(name)}/v1/inputs/${id}`)).body;
      return s.status === "committed" || s.status === "rejected";
    }, 60_000, () => `input ${id} at ${name}: ${JSON.stringify(s)}\n${logTails(dir)}`);
    return s;
  };
  const transfer = async (channel: string, from: KeyPair, to: string, amount: bigint, nonce: number, at = "shop-2"): Promise<void> => {
    const op: TokenOp = { type: "transfer", from: from.publicKey, to, amount, nonce };
    const r = await post(at, channel, "token", signTokenOp(channel, from, op));
    expect(r.status).toBe("pending");
    expect(await final(at, r.id)).toMatchObject({ status: "committed" });
  };
  const newKey = (file: string): KeyPair => {
    createKeyFile(join(dir, file));
    return loadKeyFile(join(dir, file));
  };
  const signed = (channel: string, cell: string, k: KeyPair, data: J) => ({ data, signer: k.publicKey, signature: signBytes(k, signedMessage(channel, cell, data)) });
  /** The token head the block of `cell` at `height` names, as node `name` serves it. */
  const tokenReadOf = async (name: string, channel: string, cell: string, height: number) => (await getJson<J>(`${api(name)}/v1/channels/${channel}/cells/${cell}/blocks/${height}`)).body.value.token as { height: number; root: string };
  const tokenRootAt = async (channel: string, height: number): Promise<string> => (await getJson<J>(`${api("shop-1")}/v1/channels/${channel}/cells/token/blocks/${height}`)).body.value.stateRoot;

  beforeAll(async () => {
    // poll-weighted.yaml with its rules as written: its groups on the five nodes, and a closing time ahead.
    const poll = readFileSync(join(ROOT, "channels", "poll-weighted.yaml"), "utf8")
      .replace("validators: [clerk-1, clerk-2, clerk-3, clerk-4, clerk-5, clerk-6, clerk-7]\n    threshold: 2/3", "validators: [shop-1, shop-2, shop-3, shop-4]\n    threshold: 3")
      .replace("validators: [clerk-1, observer-1, observer-2, observer-3]", "validators: [shop-1, club-1]")
      .replace("closesAt: 1700086400000", "closesAt: 4102444800000");
    expect(poll).toContain("[shop-1, club-1]");
    writeFileSync(join(dir, "poll-weighted.yaml"), poll);
    net = await up([join(ROOT, "channels", "token.yaml"), GOLD, join(dir, "poll-weighted.yaml")], dir, 240_000);
    treasury = loadKeyFile(join(dir, "keys", "treasury.key"));
    expect(net.nodes.map((n) => n.name).sort()).toEqual([...names].sort());
  }, 260_000);

  afterAll(async () => {
    await net?.stop();
    if (process.env.STATECELL_KEEP_TEST_DIR === undefined) rmSync(dir, { recursive: true, force: true });
  });

  for (const [channel, reader] of [
    ["loyalty-points", "shop-4"],
    ["gold-club", "club-1"],
  ] as const) {
    it(`${channel}: a gold claim is refused while the member is poor and accepted on every node once a treasury transfer made them rich`, async () => {
      const poor = newKey(`${channel}-poor.key`);
      const rich = newKey(`${channel}-rich.key`);
      const cells = names.filter((n) => channel === "loyalty-points" ? n !== "club-1" : n !== "shop-4");
      // Before: nobody but the treasury holds points.
      const before = await post(reader, channel, "claims", signed(channel, "claims", poor, { tier: "gold" }));
      const refused = before.status === "rejected" ? before : await final(reader, before.id);
      expect(refused).toMatchObject({ status: "rejected", code: "CELL_RULE", rule: "holds-enough" });
      await transfer(channel, treasury, rich.publicKey, 15_000n, 1);
      // After: the claim is admitted (the dry run reads the freshest token the reader holds: a refusal against a
      // view a moment old is not remembered, so the same claim sent again is checked again) and committed on every node.
      const claim = signed(channel, "claims", rich, { tier: "gold" });
      let after: J = {};
      await waitFor(async () => (after = await post(reader, channel, "claims", claim)).status === "pending", 20_000, () => `${reader} refuses the claim: ${JSON.stringify(after)}`);
      const done = await final(reader, after.id);
      expect(done).toMatchObject({ status: "committed" });
      for (const n of cells) {
        await waitFor(async () => (await getJson<J>(`${api(n)}/v1/inputs/${after.id}`)).body.status === "committed", 30_000, () => `${n} lacks the claim`);
        await waitFor(async () => (await getJson<J>(`${api(n)}/v1/channels/${channel}/cells/claims/state`)).body.state.gold === 1, 30_000, () => `${n}: no gold`);
      }
      // The block commits the token head its rule read: a height at or after the transfer's, with the token's root there.
      const read = await tokenReadOf(reader, channel, "claims", done.height);
      expect(read.height).toBeGreaterThanOrEqual(1);
      expect(read.root).toBe(await tokenRootAt(channel, read.height));
      // The still poor member stays refused (a new submission: another signer).
      const again = await post(cells[0], channel, "claims", signed(channel, "claims", newKey(`${channel}-poor2.key`), { tier: "gold" }));
      expect(again.status === "rejected" ? again : await final(cells[0], again.id)).toMatchObject({ code: "CELL_RULE", rule: "holds-enough" });
    }, 180_000);
  }

  it("gold-club: club-1 killed while the token moves comes back: it replays its blocks, follows the token it missed, and takes claims again", async () => {
    const club = net.byName("club-1");
    // club-1 is not in the token's group: it serves no token routes, yet its claims read the token.
    expect((await getJson<J>(`${api("club-1")}/v1/channels/gold-club/token`)).status).toBe(404);
    process.kill(club.pid, "SIGKILL");
    await waitFor(() => !alive(club.pid), 10_000, () => "club-1 still alive");
    const late = newKey("gold-club-late.key");
    await transfer("gold-club", treasury, late.publicKey, 20_000n, 2);
    const missed = (await getJson<J>(`${api("shop-1")}/v1/channels/gold-club/cells/token`)).body.height as number;
    restart(net, club);
    await waitFor(async () => {
      try {
        return (await fetch(`${club.api}/readyz`)).status === 200;
      } catch {
        return false;
      }
    }, 90_000, () => `club-1 not ready again\n${logTails(dir)}`);
    const claim = signed("gold-club", "claims", late, { tier: "gold" });
    let r: J = {};
    await waitFor(async () => (r = await post("club-1", "gold-club", "claims", claim)).status === "pending", 30_000, () => `club-1 refuses the claim: ${JSON.stringify(r)}`);
    const done = await final("club-1", r.id);
    expect(done).toMatchObject({ status: "committed" });
    expect((await tokenReadOf("club-1", "gold-club", "claims", done.height)).height).toBeGreaterThanOrEqual(missed);
    await waitFor(async () => (await getJson<J>(`${api("club-1")}/v1/channels/gold-club/cells/claims/state`)).body.state.gold === 2, 30_000, () => "club-1: gold is not 2");
    // Catching up claims blocks that name token heights it did not hold yet, it waited for them: no server was called bad.
    expect(readFileSync(join(dir, "nodes", "club-1", "node.log"), "utf8")).not.toContain("invalid-certified-value");
  }, 180_000);

  it("gold-club: the export verifies (each claims block reads the replayed token at the height it names); a changed token root is named", async () => {
    const file = join(dir, "gold-club.jsonl");
    let text = "";
    expect(await main(["export", "--node", api("shop-1"), "--channel", "gold-club", "--out", file], (t) => (text += t)), text).toBe(0);
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    text = "";
    expect(await main(["verify", file, GOLD], (t) => (text += t)), text).toBe(0);
    expect(text).toMatch(/ok: channel gold-club/);
    const exportRecord = new Ajv({ allowUnionTypes: true }).compile(exportSchema);
    for (const l of lines) expect(exportRecord(JSON.parse(l)), JSON.stringify(exportRecord.errors)).toBe(true);
    // A claims block that names another token root: verify names its line, cell and height.
    const at = lines.findIndex((l) => {
      const r = JSON.parse(l);
      return r.type === "block" && r.cell === "claims" && r.block.value.token.height > 0;
    });
    expect(at).toBeGreaterThan(0);
    const rec = JSON.parse(lines[at]);
    rec.block.value.token.root = "0".repeat(64);
    const tampered = [...lines];
    tampered[at] = JSON.stringify(rec);
    writeFileSync(join(dir, "tampered.jsonl"), `${tampered.join("\n")}\n`);
    text = "";
    expect(await main(["verify", join(dir, "tampered.jsonl"), GOLD], (t) => (text += t))).toBe(1);
    expect(text).toContain(`tampered.jsonl:${at + 1}: CLI_VERIFY_DIVERGENCE (block, cell claims, height ${rec.height})`);
    expect(text).toContain("the replayed token has the root");
  }, 120_000);

  it("city-poll-weighted: a ballot counts with the voter's balance as committed, also after a transfer moved shares", async () => {
    const ch = "city-poll-weighted";
    const alice = loadKeyFile(join(dir, "keys", "alice.key"));
    const bob = loadKeyFile(join(dir, "keys", "bob.key"));
    const carol = loadKeyFile(join(dir, "keys", "carol.key"));
    // bob gives carol 25 of his 30 shares: carol then holds 35.
    await transfer(ch, bob, carol.publicKey, 25n, 1, "shop-3");
    const a = await post("shop-1", ch, "ballots", signed(ch, "ballots", alice, { choice: "parks" }));
    const c = await post("shop-2", ch, "ballots", signed(ch, "ballots", carol, { choice: "transit" }));
    expect(await final("shop-1", a.id)).toMatchObject({ status: "committed" });
    expect(await final("shop-2", c.id)).toMatchObject({ status: "committed" });
    for (const n of ["shop-1", "club-1"]) {
      await waitFor(async () => {
        const s = (await getJson<J>(`${api(n)}/v1/channels/${ch}/cells/tally/state`)).body.state;
        return s.ballots === 2;
      }, 60_000, () => `${n}: tally ${JSON.stringify(net.output().slice(-2000))}\n${logTails(dir)}`);
      expect((await getJson<J>(`${api(n)}/v1/channels/${ch}/cells/tally/state`)).body.state).toMatchObject({ weights: { parks: 60, transit: 35 }, ballots: 2 });
    }
  }, 180_000);
});
