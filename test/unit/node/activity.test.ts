/** What the dashboard keeps of the recent past: bounded whatever the traffic, inputs written only as far as shown. */
import { describe, expect, it } from "vitest";
import { BLOCKS_KEPT, ChannelActivity, inputText, MAX_INPUT_CHARS, REJECTIONS_KEPT } from "../../../runtime/node/activity.js";
import { loadPlan } from "./ops-helpers.js";

const plan = loadPlan();

describe("channel activity", () => {
  it("keeps the last blocks with inputs, the last rejections with the rule's plain-English text, and a per-second series", () => {
    const a = new ChannelActivity(plan);
    const t = 1_800_000_000_000;
    for (let h = 1; h <= 100; h++) {
      a.committed("readings", { height: h, time: t + h * 100 - 40, inputs: h % 2 === 0 ? [{ data: { litres: h } }] : [], verdicts: h % 2 === 0 ? [{ accepted: true }] : [] }, t + h * 100);
    }
    const blocks = a.blocksOf("readings");
    expect(blocks).toHaveLength(BLOCKS_KEPT);
    expect(blocks.every((b) => b.inputs === 1)).toBe(true);
    expect(blocks[blocks.length - 1]).toMatchObject({ height: 100, latencyMs: 40 });
    expect(a.lastBlock("readings")?.height).toBe(100);
    a.committed("readings", { height: 101, time: t + 10_100, inputs: [{ data: { meter: "m-1", litres: 9100 } }], verdicts: [{ accepted: false, code: "CELL_RULE", rule: "plausible-use", message: "too much" }] }, t + 10_150);
    expect(a.recentRejections()[0]).toMatchObject({ cell: "readings", height: 101, rule: "plausible-use", requires: "data.litres is at most 5000", description: "No household uses more than 5,000 litres a day.", input: '{"data":{"meter":"m-1","litres":9100}}' });
    const series = a.series(t + 10_150);
    expect(series).toHaveLength(60);
    expect(series.reduce((s, x) => s + x.inputs, 0)).toBe(50);
    expect(series.reduce((s, x) => s + x.rejected, 0)).toBe(1);
  });

  it("a block of 10,000 rejected megabyte inputs costs what it shows", () => {
    const a = new ChannelActivity(plan);
    const big = { data: { note: "x".repeat(1 << 20), list: Array.from({ length: 100_000 }, (_, i) => i) } };
    const n = 10_000;
    const t0 = performance.now();
    a.committed("readings", { height: 1, time: 0, inputs: Array.from({ length: n }, () => big), verdicts: Array.from({ length: n }, () => ({ accepted: false, code: "CELL_SCHEMA", message: "m".repeat(100_000) })) }, 10);
    for (let i = 0; i < n; i++) a.refused("readings", { code: "CELL_SCHEMA", message: "no", submission: big }, 20);
    expect(performance.now() - t0).toBeLessThan(2_000);
    const r = a.recentRejections();
    expect(r).toHaveLength(REJECTIONS_KEPT);
    expect(r.every((x) => x.input.length <= MAX_INPUT_CHARS && x.message.length <= 300)).toBe(true);
    expect(a.refused("no-such-cell", { code: "X", message: "", submission: 1 }, 0)).toBeUndefined();
  });

  it("writes any value as short JSON without throwing", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(inputText(cyclic)).toBe('{"a":1,"self":null}');
    expect(inputText({ n: Infinity, u: undefined, s: "<b>" })).toBe('{"n":null,"u":null,"s":"<b>"}');
    expect(inputText([1, [2, { x: true }]])).toBe('[1,[2,{"x":true}]]');
    expect(inputText({ deep: "y".repeat(10_000) }).length).toBeLessThanOrEqual(MAX_INPUT_CHARS);
  });
});
