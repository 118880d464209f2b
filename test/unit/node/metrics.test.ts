/** /metrics: what the counters count, and label values bounded by what the channel declares. */
import { describe, expect, it } from "vitest";
import { createNodeMetrics, MAX_CODES_PER_CELL, timedRunner } from "../../../runtime/node/metrics.js";
import type { CodeRunner } from "../../../runtime/sandbox/index.js";
import { loadPlan } from "./ops-helpers.js";
import { readFileSync } from "node:fs";
import { requireChannel } from "../../../runtime/definition/index.js";

const plan = loadPlan();

function series(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe("node metrics", () => {
  it("counts blocks, inputs and rejections by rule, and observes commit latency", async () => {
    const m = createNodeMetrics({ defaults: false });
    m.declare(plan);
    m.committed({ channel: "meters", cell: "readings", height: 1, accepted: 3, rejected: [{ code: "CELL_RULE", rule: "plausible-use" }], latencyMs: 120 });
    m.committed({ channel: "meters", cell: "readings", height: 2, accepted: 0, rejected: [], latencyMs: 40 });
    m.refused("meters", "readings", "CELL_SCHEMA");
    const text = await m.text();
    expect(text).toContain('statecell_blocks_committed_total{channel="meters",cell="readings"} 2');
    expect(text).toContain('statecell_inputs_committed_total{channel="meters",cell="readings"} 3');
    expect(text).toContain('statecell_rejections_total{channel="meters",cell="readings",rule="plausible-use",code="CELL_RULE",stage="block"} 1');
    expect(text).toContain('statecell_rejections_total{channel="meters",cell="readings",rule="none",code="CELL_SCHEMA",stage="admission"} 1');
    expect(text).toContain('statecell_commit_latency_seconds_bucket{le="0.05",channel="meters",cell="readings"} 1');
    expect(text).toContain('statecell_commit_latency_seconds_bucket{le="0.25",channel="meters",cell="readings"} 2');
    expect(text).toContain('statecell_commit_latency_seconds_count{channel="meters",cell="readings"} 2');
  });

  it("counts the built-in token cell of a channel with a token, and not the token cell of one without", async () => {
    const m = createNodeMetrics({ defaults: false });
    const withToken = requireChannel(readFileSync("channels/token.yaml", "utf8"), { file: "channels/token.yaml" });
    m.declare(withToken);
    m.declare(plan);
    m.committed({ channel: withToken.channel, cell: "token", height: 1, accepted: 2, rejected: [{ code: "TOKEN_INSUFFICIENT_BALANCE" }], latencyMs: 30 });
    m.committed({ channel: "meters", cell: "token", height: 1, accepted: 5, rejected: [], latencyMs: 30 });
    const text = await m.text();
    expect(text).toContain(`statecell_inputs_committed_total{channel="${withToken.channel}",cell="token"} 2`);
    expect(text).toContain(`statecell_rejections_total{channel="${withToken.channel}",cell="token",rule="none",code="TOKEN_INSUFFICIENT_BALANCE",stage="block"} 1`);
    expect(text).not.toContain('channel="meters",cell="token"');
  });

  it("never makes a series per input: undeclared rules are `other`, codes are capped, unknown channels are not counted", async () => {
    const m = createNodeMetrics({ defaults: false });
    m.declare(plan);
    for (let i = 0; i < 2000; i++) {
      m.committed({ channel: "meters", cell: "readings", height: i, accepted: 0, rejected: [{ code: `CELL_X${i}`, rule: `rule-from-a-stranger-${i}` }], latencyMs: 1 });
      m.refused("meters", "readings", `lower-case code ${i} with spaces`, `r${i}`);
      m.committed({ channel: `channel-${i}`, cell: `cell-${i}`, height: 1, accepted: 1, rejected: [], latencyMs: 1 });
      m.refused(`channel-${i}`, "readings", "CELL_RULE");
    }
    const text = await m.text();
    const rej = series(text, "statecell_rejections_total");
    expect(rej.length).toBeLessThanOrEqual(MAX_CODES_PER_CELL + 2);
    expect(rej.every((l) => l.includes('rule="other"'))).toBe(true);
    expect(text).toContain('code="OTHER"');
    expect(text).not.toContain("channel-1");
    expect(series(text, "statecell_blocks_committed_total")).toHaveLength(1);
  });

  it("reads round, step, height, mempool and peers from the node at scrape time", async () => {
    const m = createNodeMetrics({ defaults: false });
    m.declare(plan);
    let height = 5;
    m.bind({
      cells: () => [{ channel: "meters", cell: "readings", height, round: 2, step: "prevote", mempool: { count: 7, bytes: 700 }, running: true }],
      peers: () => ({ connected: 2, known: 3 }),
    });
    let text = await m.text();
    expect(text).toContain('statecell_height{channel="meters",cell="readings"} 5');
    expect(text).toContain('statecell_consensus_round{channel="meters",cell="readings"} 2');
    expect(text).toContain('statecell_consensus_step{channel="meters",cell="readings",step="prevote"} 1');
    expect(text).toContain('statecell_consensus_step{channel="meters",cell="readings",step="propose"} 0');
    expect(text).toContain('statecell_mempool_inputs{channel="meters",cell="readings"} 7');
    expect(text).toContain("statecell_peers_connected 2");
    height = 9;
    text = await m.text();
    expect(text).toContain('statecell_height{channel="meters",cell="readings"} 9');
  });

  it("counts reloads and refused reloads, sets the L0 lag others report, times sandbox calls", async () => {
    const m = createNodeMetrics({ defaults: false });
    m.declare(plan);
    m.reload("meters", true);
    m.reload("meters", false);
    m.reload("meters", false);
    m.setL0Lag("meters", 12.5);
    m.setL0Lag("not-hosted", 1);
    const fake = { hooks: ["validate"], validate: () => { const t = Date.now(); while (Date.now() - t < 20); return []; }, transform: () => [], reduce: (s: unknown) => ({ state: s, results: [] }), dispose() {}, disposed: false } as unknown as CodeRunner;
    const timed = timedRunner(fake, (s) => m.sandbox("meters", "readings", s));
    timed.validate([]);
    const text = await m.text();
    expect(text).toContain('statecell_reloads_total{channel="meters"} 1');
    expect(text).toContain('statecell_reload_failures_total{channel="meters"} 2');
    expect(text).toContain('statecell_l0_submission_lag_seconds{channel="meters"} 12.5');
    expect(text).not.toContain("not-hosted");
    expect(text).toContain('statecell_sandbox_calls_total{channel="meters",cell="readings"} 1');
    const secs = Number(/statecell_sandbox_seconds_total\{channel="meters",cell="readings"\} ([0-9.e-]+)/.exec(text)![1]);
    expect(secs).toBeGreaterThanOrEqual(0.015);
  });
});

describe("sandbox heap gauges", () => {
  const fakeRunner = (heap: { usedBytes: number; totalBytes: number; limitBytes: number } | undefined) => ({ heap: () => heap }) as unknown as CodeRunner;

  it("reads each hosted code cell's isolate heap at scrape time, and only for declared cells", async () => {
    const m = createNodeMetrics({ defaults: false });
    m.declare(plan);
    let used = 1_000_000;
    m.bind({
      cells: () => [],
      peers: () => ({ connected: 0, known: 0 }),
      *sandboxes() {
        yield { channel: "meters", cell: "readings", runner: fakeRunner({ usedBytes: used, totalBytes: 2_000_000, limitBytes: 33_554_432 }) };
        // Not hosted (a stranger's name), and a runner without an isolate right now: no series.
        yield { channel: "other", cell: "x", runner: fakeRunner({ usedBytes: 5, totalBytes: 5, limitBytes: 5 }) };
        yield { channel: "meters", cell: "streets", runner: fakeRunner(undefined) };
      },
    });
    let text = await m.text();
    expect(series(text, "statecell_sandbox_heap_bytes")).toEqual(['statecell_sandbox_heap_bytes{channel="meters",cell="readings"} 1000000']);
    expect(series(text, "statecell_sandbox_heap_limit_bytes")).toEqual(['statecell_sandbox_heap_limit_bytes{channel="meters",cell="readings"} 33554432']);
    used = 3_000_000;
    text = await m.text();
    expect(series(text, "statecell_sandbox_heap_bytes")).toEqual(['statecell_sandbox_heap_bytes{channel="meters",cell="readings"} 3000000']);
    // A removed channel's series go with it.
    m.forget("meters");
    expect(series(await m.text(), "statecell_sandbox_heap_bytes")).toEqual([]);
  });

  it("passes the heap through a timed runner", () => {
    const heap = { usedBytes: 1, totalBytes: 2, limitBytes: 3 };
    const noop = () => [];
    const runner = { hooks: [], validate: noop, transform: noop, reduce: noop, dispose: noop, disposed: false, heap: () => heap } as unknown as CodeRunner;
    expect(timedRunner(runner, () => undefined).heap?.()).toBe(heap);
  });
});
