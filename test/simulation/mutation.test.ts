import { describe, expect, it } from "vitest";
import { runSchedule } from "./simulator.js";

// The simulator must be able to see what the locking rule prevents. With `unsafeDisableLocking`
// (a flag only this test sets), honest validators prevote any valid proposal whatever they
// precommitted earlier; a Byzantine validator below the threshold that does the same ("amnesia")
// and a harsh network must then produce two certified blocks at one height.
const OPTS = { n: 4, mode: "byzantine" as const, misbehaviour: ["amnesia" as const], stress: true };
const safety = (v: string) => v.startsWith("agreement");

describe("mutation: locking disabled", () => {
  it("the simulator finds a safety violation, and the same schedules are safe with locks", () => {
    let found: { seed: number; violation: string } | null = null;
    for (let seed = 1; seed <= 150 && found === null; seed++) {
      const unlocked = runSchedule(seed, { ...OPTS, disableLocking: true });
      const v = unlocked.violations.find(safety);
      if (v) found = { seed, violation: v };
    }
    expect(found).not.toBeNull();
    expect(found!.violation).toMatch(/^agreement: height \d+ has 2 certified blocks/);
    const locked = runSchedule(found!.seed, OPTS);
    expect(locked.violations.filter(safety)).toEqual([]);
  });
});
