/**
 * Channel snapshots verified per second by L0, with commit certificates of 4
 * and of 16 signers, against the bound ed25519 sets on this machine: the
 * node:crypto verify rate on one core (measured in the same run, interleaved
 * with the acceptance in chunks of 25 snapshots, so that both see the same
 * load of the shared machine) divided by the signatures checked per snapshot. Acceptance is the pure `acceptSnapshot` (shape, hash, chain,
 * definition, membership, every signature); each snapshot is new (no answer
 * is cached), and the chain advances after each one as it does in L0.
 *
 * Also, as figures only: the embedded service with its SQLite store
 * (synchronous=FULL), one durable transaction per snapshot and in batches of
 * 100 (what the HTTP edge does with snapshots that arrive together).
 *
 * Target: acceptance at >= 0.6 of the ed25519 bound, for 4 and for 16 signers.
 *
 * Run: npm run bench -- l0   (BENCH_SNAPSHOTS=n snapshots per run, default 1500)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keyPairFromName, signBytes, sha256Hex, utf8, verifyBytes, type KeyPair } from "../runtime/core/index.js";
import { precommitString } from "../runtime/consensus/index.js";
import {
  acceptSnapshot,
  ENCODING_V1,
  GENESIS_HASH,
  openL0,
  recordHash,
  signRecord,
  SNAPSHOT_CELL,
  type ChannelRegistry,
  type ChannelState,
  type Registration,
  type Snapshot,
  type SnapshotSubmission,
} from "../runtime/l0/index.js";

const TARGET = 0.6;
const N = Number(process.env.BENCH_SNAPSHOTS ?? 1_500);
const DEF = sha256Hex(utf8("bench-definition"));

function groupOf(n: number): { keys: KeyPair[]; threshold: number } {
  return { keys: Array.from({ length: n }, (_, i) => keyPairFromName(`bench-l0-${n}-${i}`)), threshold: Math.floor((2 * n) / 3) + 1 };
}

function registration(channel: string, g: { keys: KeyPair[]; threshold: number }): Registration {
  return {
    type: "registration",
    encoding: ENCODING_V1,
    channel,
    version: 1,
    definitionHash: DEF,
    groups: { snap: { validators: g.keys.map((k, i) => ({ name: `v${i}`, key: k.publicKey })), threshold: g.threshold } },
    snapshotGroup: "snap",
    token: null,
    prev: null,
  };
}

/** `count` chained submissions, each certified by every validator of the group (all signatures are checked). */
function chain(channel: string, g: { keys: KeyPair[] }, count: number): SnapshotSubmission[] {
  const out: SnapshotSubmission[] = [];
  let prev = GENESIS_HASH;
  for (let h = 1; h <= count; h++) {
    const cells: Snapshot["cells"] = {};
    for (const c of ["readings", "hourly", "city", "alerts"]) cells[c] = { height: h * 3, hash: sha256Hex(utf8(`${channel}${h}${c}h`)), stateRoot: sha256Hex(utf8(`${channel}${h}${c}r`)) };
    const snapshot: Snapshot = { type: "snapshot", encoding: ENCODING_V1, channel, definitionHash: DEF, height: h, prevHash: prev, cells, token: null };
    const hash = recordHash("snapshot", snapshot);
    const text = utf8(precommitString(channel, SNAPSHOT_CELL, h, 0, hash));
    out.push({ snapshot, hash, certificate: { channel, cell: SNAPSHOT_CELL, height: h, round: 0, valueId: hash, signatures: g.keys.map((k) => ({ validator: k.publicKey, signature: signBytes(k, text) })) } });
    prev = hash;
  }
  return out;
}

const verifyKey = keyPairFromName("bench-l0-verify");
const verifyItems = Array.from({ length: 64 }, (_, i) => {
  const m = utf8(precommitString("bench", SNAPSHOT_CELL, i + 1, 0, sha256Hex(utf8(String(i)))));
  return { m, s: signBytes(verifyKey, m) };
});

/** Times `count` node:crypto ed25519 verifies through the same call L0 makes (verifyBytes); returns ms. */
function verifyMs(count: number): number {
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const it = verifyItems[i & 63];
    if (!verifyBytes(verifyKey.publicKey, it.m, it.s)) throw new Error("verify failed");
  }
  return performance.now() - t0;
}

/**
 * Accepts `subs` in chunks of CHUNK and, between chunks, times as many bare
 * verifies as the chunk checked signatures: the machine is shared, and its
 * load changes within a second, so both rates are measured over the same
 * stretches of time.
 */
function measure(channel: string, g: { keys: KeyPair[]; threshold: number }, subs: SnapshotSubmission[]): { rate: number; verifies: number } {
  const CHUNK = 25;
  const rec = registration(channel, g);
  const reg: ChannelRegistry = { channel, versions: [{ version: 1, hash: recordHash("registration", rec), record: rec, signatures: [], fromHeight: 1 }], definitions: [{ fromHeight: 1, definitionHash: DEF, source: "" }] };
  const state: ChannelState = { channel, head: { height: 0, hash: GENESIS_HASH }, freezes: 0, frozen: null, evidence: 0, at: () => [] };
  const registry = { registration: () => reg };
  const states = { state: () => state };
  let acceptMs = 0;
  let verifyTotal = 0;
  let verified = 0;
  for (let i = 0; i < subs.length; i += CHUNK) {
    const chunk = subs.slice(i, i + CHUNK);
    const t0 = performance.now();
    for (const s of chunk) {
      const d = acceptSnapshot(registry, states, s);
      if (d.outcome !== "accepted") throw new Error(`bench snapshot refused: ${JSON.stringify(d)}`);
      state.head = { height: s.snapshot.height, hash: d.hash };
    }
    acceptMs += performance.now() - t0;
    const n = chunk.length * g.keys.length;
    verifyTotal += verifyMs(n);
    verified += n;
  }
  return { rate: (subs.length / acceptMs) * 1000, verifies: (verified / verifyTotal) * 1000 };
}

function serviceRate(dir: string, name: string, g: { keys: KeyPair[]; threshold: number }, subs: SnapshotSubmission[], batch: number): number {
  const l0 = openL0({ store: join(dir, `${name}.db`), key: keyPairFromName("bench-l0") });
  try {
    const rec = registration(subs[0].snapshot.channel, g);
    l0.register({ record: rec, signatures: g.keys.map((k) => signRecord("registration", rec, k)) });
    const t0 = performance.now();
    for (let i = 0; i < subs.length; i += batch) {
      for (const a of l0.submitSnapshots(subs.slice(i, i + batch))) if (!a.ok) throw new Error(a.refusal.code);
    }
    return (subs.length / (performance.now() - t0)) * 1000;
  } finally {
    l0.close();
  }
}

const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
let pass = true;
console.log(`L0 acceptance of chained snapshots (4 cells each), ${N} per run, every signature of the certificate checked`);
const sets = [4, 16].map((n) => ({ n, g: groupOf(n) }));
const built = sets.map(({ n, g }) => ({ n, g, subs: chain(`bench-${n}`, g, N), more: chain(`bench-${n}`, g, Math.min(N, 400)) }));
measure("warm", built[0].g, chain("warm", built[0].g, 100)); // compile the hot path before measuring
for (const { n, g, subs } of built) {
  const { rate, verifies } = measure(`bench-${n}`, g, subs);
  const bound = verifies / n;
  const ratio = rate / bound;
  pass &&= ratio >= TARGET;
  console.log(`  ${n} signers: ${fmt(rate)} snapshots/s; ed25519 ${fmt(verifies)} verifies/s / ${n} = bound ${fmt(bound)}/s; ratio ${ratio.toFixed(2)}`);
}
const dir = mkdtempSync(join(tmpdir(), "bench-l0-"));
try {
  for (const { n, g, more } of built) {
    const one = serviceRate(dir, `one-${n}`, g, more, 1);
    const hundred = serviceRate(dir, `hundred-${n}`, g, more, 100);
    console.log(`  service on SQLite (synchronous=FULL), ${n} signers, ${more.length} snapshots: ${fmt(one)}/s one transaction each, ${fmt(hundred)}/s in batches of 100`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`${pass ? "PASS" : "MISS"}: acceptance at >= ${TARGET} of the ed25519 bound for 4 and 16 signers`);
