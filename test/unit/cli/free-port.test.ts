import { execFile } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CLAIM_MS, claimDir, freePort } from "../../../runtime/cli/free-port.js";

/** The first of `n` ports nobody holds or claimed lately, that this process never gave, with no claim files left. */
async function quietRange(n: number): Promise<number> {
  for (;;) {
    // The port drawn is this process's now; the n after it are checked free.
    const base = (await freePort(20_000, 29_000)) + 1;
    const ports = Array.from({ length: n }, (_, i) => base + i);
    const holders = await Promise.all(ports.map((p) => new Promise<boolean>((r) => {
      const s = createServer();
      s.once("error", () => r(false));
      s.listen(p, "127.0.0.1", () => s.close(() => r(true)));
    })));
    // A claim another process made (it may not have bound its port yet) is left alone: another range is drawn.
    const claimedLately = (p: number) => {
      const f = join(claimDir(), String(p));
      return existsSync(f) && Date.now() - statSync(f).mtimeMs < CLAIM_MS;
    };
    if (holders.every(Boolean) && !ports.some(claimedLately)) {
      // Stale claims (older runs) would be taken over by any draw; removed, so the tests below start from none.
      for (const p of ports) rmSync(join(claimDir(), String(p)), { force: true });
      return base;
    }
  }
}

/** The first port the OS hands to outgoing connections and listen(0). */
function ephemeralLow(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
  } catch {
    return 32_768;
  }
}

describe("freePort", () => {
  it("draws ports an outgoing connection cannot take (below the ephemeral range), each once", async () => {
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(10_000);
      expect(p).toBeLessThan(ephemeralLow());
    }
  });

  it("skips a port that is in use, and one it gave before, within its range", async () => {
    // A range of three: the test holds one port of it, freePort has given another, so the third it must be.
    const base = await freePort();
    const busy = createServer();
    // Held by the test (or already by someone else: busy either way).
    await new Promise<void>((r) => {
      busy.once("error", () => r());
      busy.listen(base + 1, "127.0.0.1", () => r());
    });
    try {
      const third = await freePort(base, base + 2);
      expect(third).toBe(base + 2);
      // Nothing left in the range: a port the OS picks, still never one given before.
      const other = await freePort(base, base + 2);
      expect([base, base + 1, base + 2]).not.toContain(other);
    } finally {
      if (busy.listening) await new Promise<void>((r) => busy.close(() => r()));
    }
  });

  it("leaves a port another process claimed a moment ago, and takes over a stale claim", async () => {
    const p = await quietRange(1);
    // Claimed just now by someone else: not drawn, so the draw falls back to a port the OS picks.
    mkdirSync(claimDir(), { recursive: true });
    closeSync(openSync(join(claimDir(), String(p)), "w"));
    expect(await freePort(p, p)).not.toBe(p);
    // The same claim, older than a node needs to bind: stale, so the port is drawn again.
    const old = new Date(Date.now() - CLAIM_MS - 1000);
    utimesSync(join(claimDir(), String(p)), old, old);
    expect(await freePort(p, p)).toBe(p);
  });

  it("never gives two processes drawing at once the same port", async () => {
    // Two processes draw 8 ports each from the same 12, at the same time: whatever each gets inside the range is its own.
    const base = await quietRange(12);
    const script = `const { freePort } = await import(${JSON.stringify(new URL("../../../runtime/cli/free-port.ts", import.meta.url).href)});
      const got = []; for (let i = 0; i < 8; i++) got.push(await freePort(${base}, ${base + 11})); console.log(JSON.stringify(got));`;
    const run = () => promisify(execFile)(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { timeout: 30_000 });
    const [a, b] = await Promise.all([run(), run()]);
    const inRange = (out: { stdout: string }) => (JSON.parse(out.stdout.trim()) as number[]).filter((x) => x >= base && x <= base + 11);
    const mine = inRange(a), theirs = inRange(b);
    expect(mine.length + theirs.length).toBe(12);
    expect(mine.filter((x) => theirs.includes(x))).toEqual([]);
  }, 40_000);
});
