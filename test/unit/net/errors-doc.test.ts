/**
 * Every NET_ code the module can throw is listed in docs/errors.md, and every
 * close reason is described in docs/net.md (test/unit/docs.test.ts checks the
 * other modules' prefixes).
 */
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CLOSE_REASONS } from "../../../runtime/net/index.js";

describe("net documentation", () => {
  it("docs/errors.md lists every NET_ code used under runtime/net", () => {
    const doc = readFileSync("docs/errors.md", "utf8");
    const used = new Set<string>();
    for (const f of readdirSync("runtime/net")) {
      for (const m of readFileSync(`runtime/net/${f}`, "utf8").matchAll(/["'`](NET_[A-Z0-9_]+)["'`]/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThanOrEqual(6);
    expect([...used].filter((c) => !new RegExp(`\\b${c}\\b`).test(doc))).toEqual([]);
  });

  it("docs/net.md describes every close reason", () => {
    const doc = readFileSync("docs/net.md", "utf8");
    expect(CLOSE_REASONS.filter((r) => !doc.includes(`\`${r}\``))).toEqual([]);
  });
});
