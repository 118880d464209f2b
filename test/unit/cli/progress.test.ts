/**
 * Progress of long CLI work on standard error: plain lines when it is not a
 * terminal (one every 2 s and a last one), a bar redrawn in place on a
 * terminal, nothing for work that ends within a second. `statecell test`
 * over the project's channels, with the delay set to 0, writes its lines.
 */
import { describe, expect, it } from "vitest";
import { progress } from "../../../runtime/cli/progress.js";
import { testCommand } from "../../../runtime/cli/test.js";

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, to: { isTTY, write: (s: string) => writes.push(s) } };
}

describe("progress off a terminal", () => {
  it("writes a plain line at most every 2 s after the first second, and a last line at the end", () => {
    let t = 0;
    const { writes, to } = sink(false);
    const p = progress("statecell export meters", "records", { to, now: () => t });
    for (let i = 1; i <= 100; i++) {
      t = i * 100; // 10 s in all
      p.update(i * 10, 1000);
    }
    p.end();
    expect(writes).toEqual([
      "statecell export meters: 100/1000 records\n",
      "statecell export meters: 300/1000 records\n",
      "statecell export meters: 500/1000 records\n",
      "statecell export meters: 700/1000 records\n",
      "statecell export meters: 900/1000 records\n",
      "statecell export meters: 1000/1000 records, done\n",
    ]);
    expect(writes.join("")).not.toContain("\r");
  });

  it("shows nothing for work that ends within the first second", () => {
    let t = 0;
    const { writes, to } = sink(false);
    const p = progress("statecell verify a.jsonl", "records", { to, now: () => t });
    for (let i = 1; i <= 50; i++) {
      t = i * 10;
      p.update(i, 50);
    }
    p.end();
    expect(writes).toEqual([]);
  });

  it("counts without a total, with a note", () => {
    const { writes, to } = sink(false);
    const p = progress("statecell test", "channel files", { to, afterMs: 0, everyMs: 0, now: () => 5 });
    p.update(2, 0, "40 tests");
    p.end();
    expect(writes).toEqual(["statecell test: 2 channel files, 40 tests\n", "statecell test: 2 channel files, 40 tests, done\n"]);
  });
});

describe("progress on a terminal", () => {
  it("redraws one bar in place, at most 10 times a second, and erases it at the end", () => {
    let t = 0;
    const { writes, to } = sink(true);
    const p = progress("statecell verify a.jsonl", "records", { to, now: () => t });
    for (let i = 1; i <= 200; i++) {
      t = 1000 + i * 10; // 2 s after the first second
      p.update(i, 200);
    }
    p.end();
    expect(writes.length).toBeGreaterThanOrEqual(19);
    expect(writes.length).toBeLessThanOrEqual(22);
    expect(writes.slice(0, -1).every((w) => w.startsWith("\r\x1b[Kstatecell verify a.jsonl [") && !w.includes("\n"))).toBe(true);
    expect(writes[writes.length - 2]).toMatch(/\[#{29,30}\.{0,1}\] 19\d\/200 records$/);
    expect(writes[writes.length - 1]).toBe("\r\x1b[K");
  });
});

describe("statecell test off a terminal", () => {
  it("writes plain progress lines of files and tests, and the report on standard output as before", async () => {
    const { writes, to } = sink(false);
    let out = "";
    const code = await testCommand(["channels/poll.yaml", "channels/air-quality.yaml"], { format: "text", coverage: false, progress: { to, afterMs: 0, everyMs: 0 } }, (s) => (out += s));
    expect(code).toBe(0);
    const lines = writes.join("").trimEnd().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.every((l) => /^statecell test: \d\/2 channel files, \d+ tests(, done)?$/.test(l))).toBe(true);
    expect(lines[lines.length - 1]).toMatch(/^statecell test: 2\/2 channel files, [1-9]\d* tests, done$/);
    const tests = Number(/(\d+) tests, done$/.exec(lines[lines.length - 1])![1]);
    expect(out).toContain(`${tests} passed`);
    expect(out).not.toContain("channel files");
  }, 60_000);
});
