/** Pinned outputs: a missing pin fails unless UPDATE_PINS=1 asks to write it. */
import { describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expectPinned, ROOT } from "./helpers.js";

describe("expectPinned", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-pins-"));
  const pin = relative(ROOT, join(dir, "missing.txt"));

  it("fails on a missing pin and does not write it", () => {
    expect(() => expectPinned("output\n", pin, {})).toThrow(/missing; review the output and write it with UPDATE_PINS=1/);
    expect(existsSync(join(dir, "missing.txt"))).toBe(false);
  });

  it("writes the pin with UPDATE_PINS=1, then compares with it", () => {
    expectPinned("output\n", pin, { UPDATE_PINS: "1" });
    expect(readFileSync(join(dir, "missing.txt"), "utf8")).toBe("output\n");
    expect(() => expectPinned("other\n", pin, {})).toThrow();
    expectPinned("output\n", pin, {});
    rmSync(dir, { recursive: true, force: true });
  });
});
