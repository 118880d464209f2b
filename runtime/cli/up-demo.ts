/**
 * `statecell up --demo`: realistic traffic for the example channels, sent over
 * the nodes' WebSocket stream as a high-rate client would, and a line per
 * commit of every cell (time, cell, height, inputs, rejections, time since the
 * previous block), and a line per submission a node refused when it was sent
 * (code and rule: such a submission never reaches a block, so a commit line
 * cannot show it).
 *
 * Traffic: air-quality readings from 40 sensors in five districts, with the
 * faults real sensors have: a PM2.5 above the plausible limit and PM10 below
 * PM2.5 (refused at submission by the rules), a clock far ahead (refused by
 * not-from-the-future), the same reading sent twice (answered with the first
 * one's id: deduplicated, not stored twice), and a second, different reading
 * for the same sensor and time (admitted while the first is pending, then
 * rejected in the block: CELL_DUPLICATE_KEY). Channels without a generator
 * are only watched.
 */
import WebSocket from "ws";
import type { Json } from "../core/canonical.js";
import type { ChannelPlan } from "../definition/plan.js";

export interface DemoHandle {
  stop(): void;
}

type Generator = (n: number) => Array<{ cell: string; data: Json }>;

const DISTRICTS = ["cen", "nor", "sou", "eas", "wes"];

/** Deterministic enough for a demo, varied enough to look alive. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) / 16777216;
  };
}

const GENERATORS: Record<string, () => Generator> = {
  "air-quality": () => {
    const r = rng(42);
    let last: { sensor: string; pm25: number; pm10: number; at: number } | undefined;
    return (n) => {
      const out: Array<{ cell: string; data: Json }> = [];
      for (let i = 0; i < n; i++) {
        const roll = r();
        if (roll < 0.02 && last !== undefined) {
          out.push({ cell: "readings", data: last }); // sent twice: the same id, stored once
          continue;
        }
        if (roll < 0.03 && last !== undefined) {
          out.push({ cell: "readings", data: { ...last, pm25: last.pm25 + 1, pm10: last.pm10 + 1 } }); // same sensor and time: CELL_DUPLICATE_KEY in the block
          continue;
        }
        const sensor = `${DISTRICTS[Math.floor(r() * 5)]}-${1 + Math.floor(r() * 8)}`;
        const pm25 = roll < 0.06 ? 800 + Math.floor(r() * 200) : Math.round((4 + r() * 60) * 10) / 10;
        const pm10 = roll > 0.97 ? Math.round(pm25 / 2) : Math.round(pm25 * (1.2 + r()));
        const skew = roll > 0.955 && roll <= 0.97 ? 3_600_000 : 0; // a sensor whose clock is an hour ahead
        const data = { sensor, pm25, pm10, at: Date.now() - Math.floor(r() * 1000) + i + skew };
        last = data;
        out.push({ cell: "readings", data });
      }
      return out;
    };
  },
};

/** Wall-clock time of a line (UTC, to the ms). */
function clock(): string {
  return new Date().toISOString().slice(11, 23);
}

export function startDemo(plans: readonly ChannelPlan[], validators: Readonly<Record<string, { api: string }>>, out: (s: string) => void): DemoHandle {
  const sockets: WebSocket[] = [];
  const timers: NodeJS.Timeout[] = [];
  const lastCommit = new Map<string, number>();
  const seen = new Set<string>();
  const wsUrl = (api: string) => `${api.replace(/^http/, "ws")}/v1/stream`;

  for (const plan of plans) {
    // Watch each cell at one validator of its group.
    for (const cellName of plan.order) {
      const group = plan.groups[plan.cells[cellName].group];
      const at = validators[group.validators[0]];
      const ws = new WebSocket(wsUrl(at.api));
      sockets.push(ws);
      ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", channels: [plan.channel], events: ["commit"] })));
      ws.on("error", () => undefined);
      ws.on("message", (m) => {
        let e: { type?: string; channel?: string; cell?: string; height?: number; inputs?: number; rejected?: number };
        try {
          e = JSON.parse(String(m)) as typeof e;
        } catch {
          return;
        }
        if (e.type !== "commit" || e.cell !== cellName) return;
        const key = `${e.channel}/${e.cell}/${e.height}`;
        if (seen.has(key)) return;
        seen.add(key);
        const now = Date.now();
        const prev = lastCommit.get(`${e.channel}/${e.cell}`);
        lastCommit.set(`${e.channel}/${e.cell}`, now);
        out(`${clock()}  ${`${e.channel}/${e.cell}`.padEnd(24)} commit  height ${String(e.height).padStart(5)}  ${String(e.inputs).padStart(4)} inputs  ${String(e.rejected).padStart(3)} rejected${prev === undefined ? "" : `  +${((now - prev) / 1000).toFixed(2)} s`}\n`);
      });
    }
    const make = GENERATORS[plan.channel];
    if (make === undefined) {
      out(`demo: no traffic generator for ${plan.channel}; its blocks are shown as they commit\n`);
      continue;
    }
    const gen = make();
    // Submit to the validators of each source cell in turn.
    const source = plan.order.find((c) => plan.cells[c].upstream.length === 0)!;
    const entry = plan.groups[plan.cells[source].group].validators.map((v) => new WebSocket(wsUrl(validators[v].api)));
    const seenIds = new Set<string>();
    for (const ws of entry) {
      sockets.push(ws);
      ws.on("error", () => undefined);
      // Refusals at submission never reach a block: shown here, with the code and the rule.
      ws.on("message", (m) => {
        let a: { type?: string; results?: Array<{ id: string; status: string; code?: string; rule?: string; message?: string }> };
        try {
          a = JSON.parse(String(m)) as typeof a;
        } catch {
          return;
        }
        if (a.type !== "results" || !Array.isArray(a.results)) return;
        for (const r of a.results) {
          const where = `${plan.channel}/${source}`.padEnd(24);
          if (r.status === "rejected") out(`${clock()}  ${where} refused ${r.code ?? ""}${r.rule !== undefined ? ` rule ${r.rule}` : ""}: ${r.message ?? ""}\n`);
          else if (seenIds.has(r.id)) out(`${clock()}  ${where} duplicate of ${r.id.slice(0, 12)}…: answered with its status (${r.status}), stored once\n`);
          seenIds.add(r.id);
          if (seenIds.size > 100_000) seenIds.clear();
        }
      });
    }
    let tick = 0;
    const t = setInterval(() => {
      const ws = entry[tick++ % entry.length];
      if (ws.readyState !== WebSocket.OPEN) return;
      const batch = gen(25);
      ws.send(JSON.stringify({ type: "submit", ref: tick, channel: plan.channel, cell: source, inputs: batch.filter((b) => b.cell === source).map((b) => ({ data: b.data })) }));
    }, 400);
    timers.push(t);
  }
  return {
    stop() {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.terminate();
    },
  };
}
