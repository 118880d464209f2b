/**
 * Hostile peers against real validator processes of the meter channel,
 * while a client keeps submitting: a process with a key the network does not
 * name, forged votes from an authenticated connection, a replayed handshake,
 * a frame over the consensus limit, and garbage bytes (before and after the
 * handshake, and not even HTTP) are each refused, the node says why in its
 * close frame, and the channel keeps committing with identical chains.
 *
 * The authenticated attacker holds meter-4's real key (taken from the
 * network's folder after meter-4 was killed): everything it sends passes the
 * handshake, so only the layers above can refuse it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { InitiatorHandshake, prologueFor } from "../../../runtime/net/handshake.js";
import { loadKeyFile } from "../../../runtime/node/config/index.js";
import { closedOf, nextMessage, openWs, rawPeer, socketClosed, tcp } from "../../unit/net/helpers.js";
import { alive, chain, committedOnce, head, restart, up, waitFor, type UpNetwork, type UpNode } from "./network.js";
import { Load, METER, meterReading } from "./traffic.js";

const dir = mkdtempSync(join(tmpdir(), "statecell-hostile-"));
let net: UpNetwork | undefined;
const NETWORK = "statecell-local";
const CH = "meter";
const CELL = "readings";

afterAll(async () => {
  await net?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function sameChains(nodes: readonly UpNode[]): Promise<number> {
  const h = Math.min(...(await Promise.all(nodes.map((n) => head(n.api, CH, CELL)))).map((x) => x.height));
  const chains = await Promise.all(nodes.map((n) => chain(n.api, CH, CELL, h)));
  for (const c of chains.slice(1)) expect(c).toEqual(chains[0]);
  return h;
}

/** The height at `n` moves past where it is now. */
async function stillCommitting(n: UpNode, by = 3): Promise<void> {
  const from = (await head(n.api, CH, CELL)).height;
  await waitFor(async () => (await head(n.api, CH, CELL)).height >= from + by, 30_000, () => `${n.name} stopped committing at ${from}`);
}

describe("hostile peers against validator processes", () => {
  it("unknown keys, forged votes, replayed handshakes, oversized frames and garbage are refused while the channel commits", async () => {
    net = await up([METER], dir);
    const [m1, m2, m3, m4] = ["meter-1", "meter-2", "meter-3", "meter-4"].map((n) => net!.byName(n));
    const keys = (parse(readFileSync(join(dir, "network.yaml"), "utf8")) as { validators: Record<string, { key: string }> }).validators;
    const load = new Load(() => [m2, m3], CH, CELL, () => meterReading(), 10);
    load.start(150);
    await waitFor(async () => (await head(m1.api, CH, CELL)).height >= 3, 60_000, () => "first commits");

    // The attacker takes meter-4's place (three of four still make a quorum).
    process.kill(m4.pid, "SIGKILL");
    await waitFor(() => !alive(m4.pid), 5000, () => "meter-4 dead");
    const stolen = loadKeyFile(join(dir, "keys", "meter-4.key"));
    await stillCommitting(m1);

    // 1. A process whose key the network file does not name.
    {
      const ws = await openWs(m1.peer);
      const closed = closedOf(ws);
      const hs = new InitiatorHandshake(keyPairFromName("mallory"), prologueFor(NETWORK));
      ws.send(hs.start());
      const r = hs.readResponse(await nextMessage(ws));
      expect(r.ok && r.peerKey).toBe(keys["meter-1"].key);
      const f = hs.finish();
      if (!f.ok) throw new Error(f.reason);
      ws.send(f.message);
      expect((await closed).reason).toBe("not-allowed");
    }

    // 2. Forged votes on an authenticated connection: dropped by consensus, nothing else changes.
    const session = await rawPeer(m1.peer, stolen, keys["meter-1"].key, NETWORK);
    const at = (await head(m1.api, CH, CELL)).height + 1;
    const forged = (validator: string, type: "prevote" | "precommit") =>
      Buffer.from(JSON.stringify({ ch: CH, c: CELL, m: { type, channel: CH, cell: CELL, height: at, round: 0, valueId: "ab".repeat(32), validator, signature: "00".repeat(64) } }));
    for (const v of ["meter-1", "meter-2", "meter-3", "meter-4"]) for (const t of ["prevote", "precommit"] as const) session.sendData(1, forged(keys[v].key, t));
    // A vote signed with meter-4's real key for a value nobody proposed: one vote is no quorum.
    await stillCommitting(m1);
    const h1 = await sameChains([m1, m2, m3]);
    const b = await fetch(`${m1.api}/v1/channels/${CH}/cells/${CELL}/blocks/${at}`).then((r) => r.json() as Promise<{ hash: string }>);
    expect(b.hash).not.toBe("ab".repeat(32));
    expect(h1).toBeGreaterThanOrEqual(at);

    // 3. A frame over the consensus channel's 1 MiB limit closes that connection.
    session.sendData(1, Buffer.alloc(1024 * 1024 + 1));
    expect((await session.closed).reason).toBe("oversized-frame");

    // 4. The recorded handshake played again: the node answers with a fresh ephemeral key, so it fails.
    {
      const ws = await openWs(m1.peer);
      const closed = closedOf(ws);
      ws.send(session.sent.first);
      await nextMessage(ws);
      ws.send(session.sent.third);
      expect((await closed).reason).toBe("handshake-failed");
    }

    // 5. Garbage: in place of the handshake, after it, and bytes that are not HTTP at all.
    {
      const ws = await openWs(m1.peer);
      const closed = closedOf(ws);
      ws.send(randomBytes(96));
      expect((await closed).reason).toBe("handshake-failed");
      const s2 = await rawPeer(m1.peer, stolen, keys["meter-1"].key, NETWORK);
      s2.sendWire(randomBytes(200));
      expect((await s2.closed).reason).toBe("decrypt-failed");
      const sock = await tcp(Number(new URL(m1.peer).port));
      sock.write(randomBytes(300));
      await socketClosed(sock);
    }

    // The channel kept committing through all of it, and the real meter-4 comes back and catches up.
    await stillCommitting(m1);
    await load.stop();
    restart(net, m4);
    await waitFor(async () => (await fetch(`${m4.api}/readyz`).catch(() => null))?.status === 200, 60_000, () => "meter-4 ready again");
    await committedOnce(m1.api, CH, CELL, load.acked.keys(), 60_000);
    expect(load.acked.size).toBeGreaterThan(20);
    await waitFor(async () => (await head(m4.api, CH, CELL)).height >= h1, 30_000, () => "meter-4 caught up");
    await sameChains([m1, m2, m3, m4]);
    for (const n of [m1, m2, m3]) expect(alive(n.pid), `${n.name} alive`).toBe(true);
  }, 290_000);
});
