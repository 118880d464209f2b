/**
 * Two nodes in two processes peer over a real WebSocket on 127.0.0.1:
 * messages both ways on every logical channel, then the child is killed
 * and restarted on the same port and the parent reconnects by itself.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { createPeerNetwork, STATECELL_CHANNELS, type PeerNetwork } from "../../../runtime/net/index.js";

const script = fileURLToPath(new URL("./peer-process.ts", import.meta.url));
const NETWORK = "two-processes";

interface Child {
  proc: ChildProcess;
  events: Array<Record<string, unknown>>;
  port: number;
  send(cmd: unknown): void;
}

const children: ChildProcess[] = [];
let parent: PeerNetwork | null = null;

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
  await parent?.close();
  parent = null;
});

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startChild(port: number): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify({ name: "bob", allow: ["alice"], port, networkId: NETWORK })], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  children.push(proc);
  const events: Array<Record<string, unknown>> = [];
  createInterface({ input: proc.stdout! }).on("line", (l) => events.push(JSON.parse(l) as Record<string, unknown>));
  await waitFor(() => events.some((e) => "listening" in e), 20_000, "child listening");
  const listening = events.find((e) => "listening" in e)!;
  return { proc, events, port: listening.listening as number, send: (cmd) => proc.stdin!.write(`${JSON.stringify(cmd)}\n`) };
}

test("two processes exchange messages on every channel, and reconnect after the child restarts", async () => {
  const alice = keyPairFromName("alice");
  const bob = keyPairFromName("bob").publicKey;
  const inbox: Array<{ channel: string; text: string }> = [];
  const ups: string[] = [];
  parent = createPeerNetwork(
    { identity: alice, networkId: NETWORK, channels: STATECELL_CHANNELS, allow: new Set([bob]), limits: { reconnectBaseMs: 50, reconnectMaxMs: 300 } },
    {
      onMessage: (_from, channel, bytes) => inbox.push({ channel, text: Buffer.from(bytes).toString() }),
      onPeerUp: (k) => ups.push(k),
    },
  );
  let child = await startChild(0);
  const port = child.port;
  parent.addPeer(bob, `ws://127.0.0.1:${port}/`);
  await waitFor(() => parent!.connectedPeers().includes(bob) && child.events.some((e) => e.up === "alice"), 10_000, "connected");

  const channels = ["consensus", "outputs", "catchup", "mempool"];
  for (const ch of channels) for (let i = 0; i < 5; i++) expect(parent.send(bob, ch, Buffer.from(`${ch}-${i}`))).toBe("queued");
  child.send({ send: { to: "alice", channel: "consensus", text: "from the child" } });
  await waitFor(() => inbox.length === 21, 10_000, "echoes");
  for (const ch of channels) {
    expect(inbox.filter((m) => m.channel === ch && m.text.startsWith("echo:")).map((m) => m.text)).toEqual([0, 1, 2, 3, 4].map((i) => `echo:${ch}-${i}`));
  }
  expect(inbox).toContainEqual({ channel: "consensus", text: "from the child" });
  expect(child.events.filter((e) => "message" in e)).toHaveLength(20);

  // Kill the child outright (no close frame), start it again on the same port.
  child.proc.kill("SIGKILL");
  await waitFor(() => !parent!.connectedPeers().includes(bob), 10_000, "peer down");
  child = await startChild(port);
  await waitFor(() => parent!.connectedPeers().includes(bob) && child.events.some((e) => e.up === "alice"), 10_000, "reconnected");
  expect(parent.send(bob, "consensus", Buffer.from("again"))).toBe("queued");
  await waitFor(() => inbox.some((m) => m.text === "echo:again"), 10_000, "echo after restart");
  expect(ups).toEqual([bob, bob]);
  expect(parent.stats().dials).toBeGreaterThanOrEqual(2);
}, 90_000);
