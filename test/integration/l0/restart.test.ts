/**
 * L0 as a real process (`statecell l0 --config l0.yaml`), killed with
 * SIGKILL at random moments while channels submit snapshots, again and again
 * on the same data folder. After every restart: every acknowledgement a
 * channel received is answered again unchanged, the heads never go back, a
 * fork's freeze and an upgrade's approvals are still there, and the global
 * chain verifies from ordinal 1 with every acknowledged snapshot in the global
 * snapshot its acknowledgement names (or in the pending one).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { embeddedValidators, ENCODING_V1, l0Client, verifyAck, verifyGlobal, type CertifiedGlobal, type SignedAck } from "../../../runtime/l0/index.js";
import { defHash, group, signed, tempDir, TestChannel } from "../../unit/l0/helpers.js";

const ROUNDS = 5;

/** mulberry32: the kill delays of a failing run can be read back from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Starts the CLI's entry directly (no launcher in between, so SIGKILL hits the process that holds the store). */
function startL0(config: string): Promise<{ child: ChildProcess; url: string; key: string; exited: Promise<NodeJS.Signals | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", "runtime/cli/main.ts", "l0", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_code, signal) => r(signal)));
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`L0 did not start: ${out} ${err}`));
    }, 45_000);
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (d: string) => {
      out += d;
      const url = /l0 listening on (\S+)/.exec(out)?.[1];
      const key = /\nkey ([0-9a-f]{64})/.exec(out)?.[1];
      if (url !== undefined && key !== undefined && out.includes("\nready\n")) {
        clearTimeout(guard);
        resolve({ child, url, key, exited });
      }
    });
    child.on("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`L0 exited with ${String(code)} before it was ready: ${out} ${err}`));
    });
  });
}

describe("an L0 process killed with SIGKILL", () => {
  it(`keeps every acknowledgement, head, freeze, approval and global snapshot (${ROUNDS} kills)`, async () => {
    const t = tempDir("l0-kill-");
    const config = join(t.dir, "l0.yaml");
    writeFileSync(config, "identity: l0.key\nlisten: 127.0.0.1:0\ndataDir: data\ncutEveryMs: 40\n");
    const random = rng(20_250_101);
    const snap = group("snap", 4);
    const channels = ["air-quality", "water", "traffic"].map((n) => new TestChannel(n, snap));
    const acks = new Map<string, SignedAck>(); // channel@height -> the acknowledgement received
    let key = "";
    let kills = 0;
    let forked = false;
    const upgrade = { type: "upgrade" as const, encoding: ENCODING_V1, channel: "traffic", registration: 1, fromDefinitionHash: defHash("v1"), toDefinitionHash: defHash("v2"), atHeight: 1_000 };
    try {
      for (let round = 0; round <= ROUNDS; round++) {
        const l0 = await startL0(config);
        if (key === "") key = l0.key;
        expect(l0.key).toBe(key);
        const client = l0Client(l0.url, { l0Keys: [key], timeoutMs: 20_000 });

        // 1. Everything acknowledged before the kill is still there, unchanged.
        for (const ch of channels) {
          if (round === 0) expect((await client.register(ch.registration())).ok).toBe(true);
          const view = await client.channel(ch.name);
          if (!view.ok) throw new Error(view.code);
          const acked = [...acks.keys()].filter((k) => k.startsWith(`${ch.name}@`)).map((k) => Number(k.split("@")[1]));
          expect(view.channel.head.height).toBeGreaterThanOrEqual(Math.max(0, ...acked));
          ch.head = view.channel.head; // a snapshot accepted but not yet answered when the kill came is L0's head now
        }
        for (const [k, ack] of acks) {
          const [name, h] = k.split("@");
          const list = await client.snapshots(name, { from: Number(h), limit: 1 });
          if (!list.ok) throw new Error(list.code);
          expect(list.snapshots[0].ack, `${k} after ${kills} kills`).toEqual(ack);
        }
        if (forked) expect((await client.channel("water")).ok && (await client.channel("water"))).toMatchObject({ channel: { status: "frozen" } });
        if (round > 2) expect(await client.upgrades("traffic")).toMatchObject({ ok: true, upgrades: { upgrades: [{ approvals: [{ name: "snap-1" }, { name: "snap-2" }], ready: false }] } });

        // 2. The global chain verifies from 1, and each acknowledged snapshot is where its acknowledgement says.
        const latest = await client.latestGlobal();
        const globals: CertifiedGlobal[] = [];
        if (latest.ok) {
          for (let o = 1; o <= latest.global.global.ordinal; o++) {
            const g = await client.global(o);
            if (!g.ok) throw new Error(g.code);
            expect(verifyGlobal(g.global, embeddedValidators(key), o === 1 ? undefined : { ordinal: o - 1, hash: globals[o - 2].hash, time: globals[o - 2].global.time })).toEqual({ ok: true });
            globals.push(g.global);
          }
        }
        for (const ack of acks.values()) {
          expect(verifyAck(ack, [key])).toEqual({ ok: true });
          const g = globals[ack.ack.ordinal - 1];
          if (g !== undefined) expect(g.global.snapshots).toContainEqual({ channel: ack.ack.channel, height: ack.ack.height, hash: ack.ack.hash });
          else expect(ack.ack.ordinal).toBe(globals.length + 1);
        }
        if (round === ROUNDS) {
          l0.child.kill("SIGTERM");
          expect(await l0.exited).toBe(null);
          break;
        }

        // 3. Channels submit (and one forks, one gathers upgrade approvals) until a random kill.
        if (round === 1) {
          const w = channels[1];
          const other = new TestChannel("water", snap);
          other.head = { ...w.head };
          const mine = w.next();
          expect(await client.submitSnapshot(mine)).toMatchObject({ ok: true });
          expect(await client.submitSnapshot(other.next({ salt: "fork" }))).toMatchObject({ ok: false, code: "L0_FORK" });
          w.advance(mine);
          forked = true;
        }
        if (round === 2) {
          expect(await client.upgrade(signed(upgrade, snap, 1, 0))).toMatchObject({ ok: true, status: "open" });
          expect(await client.upgrade(signed(upgrade, snap, 1, 1))).toMatchObject({ ok: true, status: "open" });
        }
        const delay = Math.floor(150 + random() * 600);
        let stop = false;
        const killer = setTimeout(() => {
          stop = true;
          l0.child.kill("SIGKILL");
        }, delay);
        const submitting = channels
          .filter((ch) => !(forked && ch.name === "water"))
          .map(async (ch) => {
            while (!stop) {
              const sub = ch.next();
              const r = await client.submitSnapshot(sub);
              if (r.ok) {
                acks.set(`${ch.name}@${sub.snapshot.height}`, r.ack);
                ch.advance(sub);
              } else if (r.retryable) {
                return; // the process is gone
              } else {
                throw new Error(`${ch.name}@${sub.snapshot.height}: ${r.code} ${r.message}`);
              }
            }
          });
        await Promise.all(submitting);
        clearTimeout(killer);
        if (!stop) l0.child.kill("SIGKILL");
        expect(await l0.exited).toBe("SIGKILL");
        kills++;
      }
      expect(kills).toBe(ROUNDS);
      expect(acks.size).toBeGreaterThan(ROUNDS * 3);
    } finally {
      t.cleanup();
    }
  }, 180_000);
});
