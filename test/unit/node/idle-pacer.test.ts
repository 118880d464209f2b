import { describe, expect, it } from "vitest";
import { createIdlePacer } from "../../../runtime/node/idle-pacer.js";

const commit = { step: "commit" as const, height: 5, round: 0 };
const propose = { step: "propose" as const, height: 5, round: 0 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("idle pacer", () => {
  it("holds an idle group's next height until the heartbeat", async () => {
    const pacer = createIdlePacer(() => false, 300);
    let firedAt = 0;
    const t0 = Date.now();
    pacer.schedule(10, () => (firedAt = Date.now()), commit);
    await sleep(100);
    expect(firedAt).toBe(0);
    expect(pacer.holding).toBe(true);
    await sleep(350);
    expect(firedAt - t0).toBeGreaterThanOrEqual(280);
    expect(pacer.holding).toBe(false);
  });

  it("starts the next height at once when work arrives during the hold", async () => {
    const pacer = createIdlePacer(() => false, 5000);
    let fired = 0;
    pacer.schedule(5, () => fired++, commit);
    await sleep(50);
    expect(fired).toBe(0);
    pacer.wake();
    expect(fired).toBe(1);
    pacer.wake();
    expect(fired).toBe(1);
  });

  it("does not hold when there is work, nor any timeout but commit", async () => {
    const busy = createIdlePacer(() => true, 5000);
    const idle = createIdlePacer(() => false, 5000);
    let fired = 0;
    busy.schedule(5, () => fired++, commit);
    idle.schedule(5, () => fired++, propose);
    idle.schedule(5, () => fired++);
    await sleep(60);
    expect(fired).toBe(3);
    expect(busy.holding).toBe(false);
    expect(idle.holding).toBe(false);
  });
});
