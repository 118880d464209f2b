/** What `statecell test --state` and `--grep` do with states and names built to hurt them. */
import { describe, it, expect } from "vitest";
import { formatState, runTestFiles, shortenForDisplay } from "../../../runtime/testing/index.js";
import { CHANNEL } from "./fixture.js";

describe("hostile states under --state", () => {
  it("two 60,000-character keys that differ in their last character stay distinct, in under 1 s", () => {
    const a = `${"x".repeat(59_999)}a`;
    const b = `${"x".repeat(59_999)}b`;
    const t0 = performance.now();
    const shown = Object.keys(shortenForDisplay({ [a]: 1, [b]: 2 }) as object);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(new Set(shown).size).toBe(2);
    expect(shown.every((k) => k.length < 100)).toBe(true);
  });

  it("two 60,000-digit hex keys that differ only in their middle are shown whole, distinct, in under 1 s", () => {
    const a = `${"a".repeat(30_000)}0${"a".repeat(29_999)}`;
    const b = `${"a".repeat(30_000)}1${"a".repeat(29_999)}`;
    const t0 = performance.now();
    const shown = Object.keys(shortenForDisplay({ [a]: 1, [b]: 2 }) as object);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(shown).toHaveLength(2);
    expect(shown[0]).not.toBe(shown[1]);
  });

  it("10,000 sibling 64-digit keys with a common 40-digit head are shown distinct, in under 2 s", () => {
    const state: Record<string, number> = {};
    for (let i = 0; i < 10_000; i++) state[`${"f".repeat(40)}${i.toString(16).padStart(24, "0")}`] = i;
    const t0 = performance.now();
    const shown = Object.keys(shortenForDisplay(state) as object);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(new Set(shown).size).toBe(10_000);
  });

  it("a state nested 1,000 levels deep is laid out without overflowing the stack", () => {
    let v: Record<string, unknown> = { leaf: "x".repeat(200) };
    for (let i = 0; i < 1000; i++) v = { n: v };
    const lines = formatState({ deep: v as never }, {});
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.at(-1)).toMatch(/more lines; --format json has the whole state\)$/);
  });
});

describe("hostile names under --grep", () => {
  const channel = `${CHANNEL}tests:
  - name: "a (parenthesised) [name] .* with regex characters"
    submit: { cell: intake, data: { id: a, v: 2 } }
    expect: accepted
  - name: another
    submit: { cell: intake, data: { id: a, v: 2 } }
    expect: accepted
`;
  const io = { readFile: (p: string) => (p === "c.yaml" ? channel : undefined) };

  it("regex characters in the text are matched literally", () => {
    expect(runTestFiles(["c.yaml"], io, { grep: "(parenthesised) [name] .*" }).tests.map((t) => t.name)).toEqual([
      "a (parenthesised) [name] .* with regex characters",
    ]);
    expect(runTestFiles(["c.yaml"], io, { grep: ".*" }).tests).toHaveLength(1);
    expect(runTestFiles(["c.yaml"], io, { grep: "(" }).tests).toHaveLength(1);
  });
});
