/**
 * What a node saw lately, per hosted channel, for the dashboard: the last
 * blocks of each cell, the last rejections (with the rule's plain-English
 * text and a cut copy of the input that caused them), and a per-second
 * series of throughput and commit latency. Everything is bounded (rings of
 * fixed length, inputs cut to MAX_INPUT_CHARS), so a busy or hostile channel
 * costs the same memory as a quiet one. Local to this node: never part of
 * what validators compare.
 */
import type { ChannelPlan } from "../definition/plan.js";
import { TOKEN_CELL } from "../definition/token-amount.js";

/** Blocks with inputs kept per cell (empty blocks are counted, not kept: the last one is). */
export const BLOCKS_KEPT = 20;
/** Rejections kept per channel. */
export const REJECTIONS_KEPT = 30;
/** Seconds of throughput and latency kept. */
export const SERIES_SECONDS = 120;
/** Characters of an input shown with its rejection. */
export const MAX_INPUT_CHARS = 400;
/** Characters of a refusal's message shown. */
const MAX_MESSAGE_CHARS = 300;

export interface BlockSeen {
  height: number;
  /** The block's time (its proposer's clock), ms. */
  time: number;
  /** When this node committed it, ms. */
  at: number;
  inputs: number;
  rejected: number;
  latencyMs: number;
}

export interface RejectionSeen {
  cell: string;
  /** The block that rejected it; absent when refused before any block. */
  height?: number;
  at: number;
  code: string;
  rule?: string;
  /** The rule's plain-English text (what it requires), from the definition. */
  requires?: string;
  /** The rule's description as the author wrote it. */
  description?: string;
  message: string;
  /** The input as sent, as JSON text cut to MAX_INPUT_CHARS. */
  input: string;
}

export interface SecondSeen {
  /** Unix second. */
  t: number;
  inputs: number;
  blocks: number;
  rejected: number;
  /** Mean commit latency of the second's blocks, ms (0 without blocks). */
  latencyMs: number;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * An input as JSON text of at most `max` characters, written only as far
 * as it is shown: a megabyte input costs no more than a small one. Never
 * throws (what JSON cannot write is shown as null).
 */
export function inputText(submission: unknown, max = MAX_INPUT_CHARS): string {
  let out = "";
  const seen = new Set<object>();
  const write = (v: unknown): boolean => {
    if (out.length > max) return false;
    if (v === null || typeof v === "boolean") out += String(v);
    else if (typeof v === "number") out += Number.isFinite(v) ? String(v) : "null";
    else if (typeof v === "string") out += JSON.stringify(v.length > max ? v.slice(0, max) : v);
    else if (typeof v === "object" && !seen.has(v)) {
      seen.add(v);
      const arr = Array.isArray(v);
      out += arr ? "[" : "{";
      let first = true;
      for (const k of arr ? (v as unknown[]).keys() : Object.keys(v)) {
        if (!first) out += ",";
        first = false;
        if (!arr) out += `${JSON.stringify(k)}:`;
        if (!write((v as Record<string | number, unknown>)[k])) return false;
      }
      out += arr ? "]" : "}";
    } else out += "null";
    return out.length <= max;
  };
  write(submission);
  return cut(out, max);
}

/** The recent activity of one channel. */
export class ChannelActivity {
  private readonly blocks = new Map<string, BlockSeen[]>();
  private readonly latest = new Map<string, BlockSeen>();
  private readonly rejections: RejectionSeen[] = [];
  private readonly seconds: SecondSeen[] = [];
  private readonly latencySum = new Map<number, number>();
  private readonly rules = new Map<string, { requires: string; description?: string }>();
  /** Bumped on every change: the feed sends a view only when it moved. */
  version = 0;

  constructor(plan: ChannelPlan) {
    for (const [cellName, cell] of Object.entries(plan.cells)) {
      this.blocks.set(cellName, []);
      const all = [...cell.rules, ...Object.values(cell.operations ?? {}).flatMap((o) => o.rules)];
      for (const r of all) this.rules.set(`${cellName}/${r.name}`, { requires: r.english, ...(r.description !== undefined ? { description: r.description } : {}) });
      for (const [name, sentence] of Object.entries(cell.code?.rejects ?? {})) this.rules.set(`${cellName}/${name}`, { requires: sentence });
    }
    // The built-in token cell's blocks and refusals are shown like a cell's.
    if (plan.token !== undefined) this.blocks.set(TOKEN_CELL, []);
  }

  committed(cell: string, b: { height: number; time: number; inputs: readonly unknown[]; verdicts: ReadonlyArray<{ accepted: boolean; code?: string; rule?: string; message?: string }> }, now: number): BlockSeen | undefined {
    const ring = this.blocks.get(cell);
    if (ring === undefined) return undefined;
    let rejected = 0;
    for (const v of b.verdicts) if (!v.accepted) rejected++;
    // Only the last REJECTIONS_KEPT of a block can be shown: the others are not written out.
    let skip = Math.max(0, rejected - REJECTIONS_KEPT);
    b.verdicts.forEach((v, i) => {
      if (v.accepted) return;
      if (skip > 0) {
        skip--;
        return;
      }
      this.reject({ cell, height: b.height, at: now, code: v.code ?? "unknown", ...(v.rule !== undefined ? { rule: v.rule } : {}), message: v.message ?? "", input: b.inputs[i] });
    });
    const seen: BlockSeen = { height: b.height, time: b.time, at: now, inputs: b.inputs.length, rejected, latencyMs: Math.max(0, now - b.time) };
    this.latest.set(cell, seen);
    if (seen.inputs > 0) {
      ring.push(seen);
      if (ring.length > BLOCKS_KEPT) ring.shift();
    }
    const sec = this.second(now);
    sec.blocks++;
    sec.inputs += b.inputs.length - rejected;
    sec.rejected += rejected;
    const sum = (this.latencySum.get(sec.t) ?? 0) + seen.latencyMs;
    this.latencySum.set(sec.t, sum);
    sec.latencyMs = Math.round(sum / sec.blocks);
    this.version++;
    return seen;
  }

  refused(cell: string, r: { code: string; rule?: string; message: string; submission: unknown }, now: number): void {
    if (!this.blocks.has(cell)) return;
    this.reject({ cell, at: now, code: r.code, ...(r.rule !== undefined ? { rule: r.rule } : {}), message: r.message, input: r.submission });
    this.second(now).rejected++;
    this.version++;
  }

  private reject(r: { cell: string; height?: number; at: number; code: string; rule?: string; message: string; input: unknown }): void {
    const rule = r.rule === undefined ? undefined : this.rules.get(`${r.cell}/${r.rule}`);
    const seen: RejectionSeen = {
      cell: r.cell,
      ...(r.height !== undefined ? { height: r.height } : {}),
      at: r.at,
      code: r.code.slice(0, 64),
      ...(r.rule !== undefined ? { rule: r.rule.slice(0, 128) } : {}),
      ...(rule !== undefined ? { requires: rule.requires } : {}),
      ...(rule?.description !== undefined ? { description: rule.description } : {}),
      message: cut(r.message, MAX_MESSAGE_CHARS),
      input: inputText(r.input),
    };
    this.rejections.push(seen);
    if (this.rejections.length > REJECTIONS_KEPT) this.rejections.shift();
  }

  private second(now: number): SecondSeen {
    const t = Math.floor(now / 1000);
    const last = this.seconds[this.seconds.length - 1];
    if (last !== undefined && last.t === t) return last;
    const s: SecondSeen = { t, inputs: 0, blocks: 0, rejected: 0, latencyMs: 0 };
    this.seconds.push(s);
    while (this.seconds.length > 0 && this.seconds[0].t <= t - SERIES_SECONDS) {
      this.latencySum.delete(this.seconds[0].t);
      this.seconds.shift();
    }
    return s;
  }

  /** The recent blocks of `cell` that carried inputs, oldest first. */
  blocksOf(cell: string): readonly BlockSeen[] {
    return this.blocks.get(cell) ?? [];
  }

  /** The last block of `cell` committed here, empty or not. */
  lastBlock(cell: string): BlockSeen | undefined {
    return this.latest.get(cell);
  }

  /** The recent rejections, newest first. */
  recentRejections(): RejectionSeen[] {
    return [...this.rejections].reverse();
  }

  /** The last SERIES_SECONDS seconds up to `now`, one entry per second (zeros where nothing happened). */
  series(now: number): SecondSeen[] {
    const end = Math.floor(now / 1000);
    const byT = new Map(this.seconds.map((s) => [s.t, s]));
    const out: SecondSeen[] = [];
    for (let t = end - 59; t <= end; t++) out.push(byT.get(t) ?? { t, inputs: 0, blocks: 0, rejected: 0, latencyMs: 0 });
    return out;
  }
}
