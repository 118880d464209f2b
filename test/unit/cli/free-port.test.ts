import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { freePort } from "../../../runtime/cli/free-port.js";

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
});
