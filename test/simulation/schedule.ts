/**
 * A schedule: everything a simulation run throws at the group, drawn from
 * one seed. The same seed always yields the same schedule (and, the
 * simulator being deterministic, the same run).
 */
import { Rng } from "./prng.js";

export type Mode = "honest" | "byzantine" | "fork";
export type PartitionKind = "split" | "isolate" | "one-way-deaf" | "one-way-mute" | "ring";
export type Misbehaviour = "equivocate" | "amnesia" | "garbage" | "forge" | "malformed" | "silent" | "bad-catchup";

export interface Partition {
  kind: PartitionKind;
  start: number;
  end: number;
  /** blocked[from][to]: messages from -> to are lost while the partition holds. */
  blocked: boolean[][];
}

export interface Crash {
  node: number;
  at: number;
  restartAt: number;
  /** What happens to the write in progress when the crash lands. */
  torn: "clean" | "lose" | "tear";
}

export interface Pause {
  node: number;
  start: number;
  end: number;
}

export interface Schedule {
  seed: number;
  n: number;
  quorum: number;
  mode: Mode;
  /** Indices of Byzantine validators. */
  byzantine: number[];
  misbehaviour: Misbehaviour[];
  /** Fork mode: the side of each honest node (0 or 1). */
  sides: number[];
  net: { drop: number; duplicate: number; delayMin: number; delayMax: number; spike: number; spikeMax: number };
  /** Stress runs: a fixed extra latency per link (ms), so some links are always slow. */
  linkLatency?: number[][];
  partitions: Partition[];
  crashes: Crash[];
  pauses: Pause[];
  /** Per-node clock offset (ms). */
  skew: number[];
  /** Time after which no fault is active (the last heal). */
  healAt: number;
  /** A stalled node re-sends what it holds this often (ms). */
  rebroadcast: number;
  /** Mean ms between client inputs. */
  inputEvery: number;
  /** Timeouts: base + round * delta. */
  timeouts: { propose: { base: number; delta: number }; prevote: { base: number; delta: number }; precommit: { base: number; delta: number }; commit: number };
}

export interface ScheduleOptions {
  /** Force a group size (1, 4 or 7). */
  n?: number;
  /** Force a mode. */
  mode?: Mode;
  /** Harsher network (the mutation test uses it to make lock violations reachable). */
  stress?: boolean;
  /** Force what Byzantine validators do. */
  misbehaviour?: Misbehaviour[];
}

function matrix(n: number, f: (from: number, to: number) => boolean): boolean[][] {
  return Array.from({ length: n }, (_, a) => Array.from({ length: n }, (_, b) => a !== b && f(a, b)));
}

/** Draws a schedule from `seed`. */
export function makeSchedule(seed: number, opts: ScheduleOptions = {}): Schedule {
  const rng = new Rng(seed);
  const n = opts.n ?? rng.pick([1, 4, 4, 7, 7]);
  const quorum = n === 1 ? 1 : n === 4 ? (rng.chance(0.15) ? 4 : 3) : 5;
  const safetyFaults = Math.max(0, 2 * quorum - n - 1);
  const livenessFaults = n - quorum;
  const belowMax = Math.min(safetyFaults, livenessFaults);
  let mode: Mode = opts.mode ?? (n > 1 && quorum < n && rng.chance(0.06) ? "fork" : belowMax > 0 && rng.chance(0.4) ? "byzantine" : "honest");
  if (mode === "byzantine" && belowMax === 0) mode = "honest";
  const ids = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const byzCount = mode === "fork" ? 2 * quorum - n : mode === "byzantine" ? rng.int(1, belowMax) : 0;
  const byzantine = ids.slice(0, byzCount).sort((a, b) => a - b);
  const honest = ids.slice(byzCount);
  const all: Misbehaviour[] = ["equivocate", "amnesia", "garbage", "forge", "malformed", "silent", "bad-catchup"];
  const drawn = mode === "byzantine" ? all.filter(() => rng.chance(0.5)) : [];
  const misbehaviour = mode === "byzantine" && opts.misbehaviour ? [...opts.misbehaviour] : drawn;
  if (mode === "byzantine" && misbehaviour.length === 0) misbehaviour.push(rng.pick(all));
  const sides = Array.from({ length: n }, () => 0);
  if (mode === "fork") honest.forEach((h, i) => (sides[h] = i % 2));

  const stress = opts.stress === true;
  const window = mode === "fork" ? 800 : rng.int(150, 1200);
  const net = {
    drop: stress ? rng.float() * 0.3 : rng.chance(0.5) ? rng.float() * 0.15 : 0,
    duplicate: rng.chance(0.4) ? rng.float() * 0.1 : 0,
    delayMin: rng.int(1, 5),
    delayMax: stress ? rng.int(30, 120) : rng.int(8, 40),
    spike: rng.chance(0.3) ? rng.float() * 0.05 : 0,
    spikeMax: rng.int(50, 250),
  };
  const partitions: Partition[] = [];
  const crashes: Crash[] = [];
  const pauses: Pause[] = [];
  if (n > 1 && mode !== "fork") {
    const count = rng.int(0, 2);
    for (let i = 0; i < count; i++) {
      const kind = rng.pick<PartitionKind>(["split", "isolate", "one-way-deaf", "one-way-mute", "ring"]);
      const start = rng.int(0, window - 100);
      const end = rng.int(start + 50, window);
      const order = rng.shuffle(Array.from({ length: n }, (_, k) => k));
      let blocked: boolean[][];
      if (kind === "split") {
        const cut = n === 4 ? 2 : rng.int(2, n - 2);
        const side = new Set(order.slice(0, cut));
        blocked = matrix(n, (a, b) => side.has(a) !== side.has(b));
      } else if (kind === "isolate") {
        blocked = matrix(n, (a, b) => a === order[0] || b === order[0]);
      } else if (kind === "one-way-deaf") {
        blocked = matrix(n, (_a, b) => b === order[0]); // can send, cannot hear
      } else if (kind === "one-way-mute") {
        blocked = matrix(n, (a) => a === order[0]); // can hear, cannot send
      } else {
        const pos = new Map(order.map((v, k) => [v, k]));
        blocked = matrix(n, (a, b) => {
          const d = Math.abs(pos.get(a)! - pos.get(b)!);
          return d !== 1 && d !== n - 1;
        });
      }
      partitions.push({ kind, start, end, blocked });
    }
  }
  if (mode !== "fork") {
    const crashCount = rng.int(0, n === 1 ? 1 : 2);
    const candidates = rng.shuffle(honest);
    for (let i = 0; i < crashCount && i < candidates.length; i++) {
      const at = rng.int(0, window - 50);
      crashes.push({ node: candidates[i], at, restartAt: Math.min(window, at + rng.int(20, 800)), torn: rng.pick(["clean", "lose", "tear"] as const) });
    }
    if (rng.chance(0.3)) {
      const start = rng.int(0, window - 50);
      pauses.push({ node: rng.pick(honest), start, end: Math.min(window, start + rng.int(50, 600)) });
    }
  }
  let linkLatency: number[][] | undefined;
  if (stress && n > 1) {
    const lr = new Rng(seed ^ 0x1a7e);
    linkLatency = Array.from({ length: n }, () => Array.from({ length: n }, () => (lr.chance(0.3) ? lr.int(40, 200) : 0)));
    // Many short one-sided cuts over a longer run: the asymmetry that lets a minority decide
    // while the next proposer never saw the proof-of-lock (what locks exist to survive).
    const sr = new Rng(seed ^ 0x57e55);
    const count = sr.int(4, 10);
    for (let i = 0; i < count; i++) {
      const node = sr.int(0, n - 1);
      const start = sr.int(0, 2800);
      const end = start + sr.int(30, 300);
      const kind = sr.pick<PartitionKind>(["one-way-deaf", "one-way-mute", "isolate"]);
      const blocked = matrix(n, (a, b) => (kind === "one-way-deaf" ? b === node : kind === "one-way-mute" ? a === node : a === node || b === node));
      partitions.push({ kind, start, end, blocked });
    }
  }
  const skew = Array.from({ length: n }, () => (rng.chance(0.3) ? rng.int(-3000, 3000) : 0));
  const healAt = Math.max(0, ...partitions.map((p) => p.end), ...crashes.map((c) => c.restartAt), ...pauses.map((p) => p.end));
  return {
    seed,
    n,
    quorum,
    mode,
    byzantine,
    misbehaviour,
    sides,
    net,
    ...(linkLatency ? { linkLatency } : {}),
    partitions,
    crashes,
    pauses,
    skew,
    healAt: mode === "fork" ? window : healAt,
    inputEvery: rng.int(20, 200),
    // Stress: slow gossip and a long pause after each decision keep a lagging minority from being
    // rescued by relays or catch-up before the next round completes.
    rebroadcast: stress ? 1000 : 200,
    timeouts: stress
      ? { propose: { base: 60, delta: 20 }, prevote: { base: 30, delta: 10 }, precommit: { base: 30, delta: 10 }, commit: 1500 }
      : { propose: { base: 150, delta: 50 }, prevote: { base: 80, delta: 40 }, precommit: { base: 80, delta: 40 }, commit: 150 },
  };
}

/** Scheduled faults (the per-message ones are counted while running). */
export function scheduledFaults(s: Schedule): number {
  return s.partitions.length + s.crashes.length + s.pauses.length + s.byzantine.length + s.skew.filter((x) => x !== 0).length;
}
