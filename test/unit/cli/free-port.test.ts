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

  it("skips a port that is in use", async () => {
    // Hold many ports of the range; every port handed out meanwhile must still be bindable.
    const held = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const p = await freePort();
        const s = createServer();
        await new Promise<void>((r) => s.listen(p, "127.0.0.1", () => r()));
        return s;
      }),
    );
    try {
      for (let i = 0; i < 10; i++) {
        const p = await freePort();
        const s = createServer();
        await new Promise<void>((res, rej) => {
          s.once("error", rej);
          s.listen(p, "127.0.0.1", () => res());
        });
        await new Promise<void>((r) => s.close(() => r()));
      }
    } finally {
      await Promise.all(held.map((s) => new Promise<void>((r) => s.close(() => r()))));
    }
  });
});
