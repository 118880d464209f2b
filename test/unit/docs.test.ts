import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

// Every error code the runtime can produce must be documented, so auditors and
// clients can look up any code they are shown (DEVELOPERS.md: docs/errors.md).
const CODE = /["'`]((?:CORE|RULES|DEFINITION|CELL|SANDBOX|CONSENSUS|LEDGER|TEST|CLI)_[A-Z0-9_]+)["'`]/g;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("docs/errors.md", () => {
  it("documents every error code used under runtime/", () => {
    const doc = readFileSync("docs/errors.md", "utf8");
    const used = new Map<string, string>();
    for (const f of files("runtime")) {
      for (const m of readFileSync(f, "utf8").matchAll(CODE)) if (!used.has(m[1])) used.set(m[1], f);
    }
    const missing = [...used].filter(([code]) => !new RegExp(`\\b${code}\\b`).test(doc)).map(([c, f]) => `${c} (${f})`);
    expect(missing).toEqual([]);
    expect(used.size).toBeGreaterThan(20);
  });
});
