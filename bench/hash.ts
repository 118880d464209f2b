/**
 * sha256 as a node computes it (core/hash.ts, node:crypto's one-shot hash)
 * against @noble/hashes' sha256, the implementation the core used before,
 * at the sizes a node hashes: a vote or header (40-120 B), a submission
 * (300 B), a record (1 KB) and a 1,000-input block value (250 KB). Both give
 * the same digest (test/unit/core/hash.test.ts); this shows why the core
 * takes the native one. Figures only, no target: the ratio, measured in one
 * run, is what to read on a shared machine.
 *
 * Run: npm run bench -- hash
 */
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { sha256Hex } from "../runtime/core/hash.js";

const noble = (b: Uint8Array): string => bytesToHex(nobleSha256(b));

/** Microseconds per call of `f` on `b`, the best of 3 timed loops after a warm-up. */
function usPerCall(f: (b: Uint8Array) => string, b: Uint8Array): number {
  const reps = Math.max(20, Math.floor(4_000_000 / (b.length + 200)));
  let best = Infinity;
  for (let round = 0; round < 4; round++) {
    let n = 0;
    const t = performance.now();
    for (let i = 0; i < reps; i++) n += f(b).length;
    const us = ((performance.now() - t) * 1000) / reps;
    if (n !== reps * 64) throw new Error("a digest is not 64 hex characters");
    if (round > 0) best = Math.min(best, us);
  }
  return best;
}

console.log("sha256, microseconds per call (best of 3), node:crypto (core/hash.ts) vs @noble/hashes");
for (const [label, n] of [["vote / header", 80], ["submission", 300], ["record", 1000], ["block value, 1,000 inputs", 250_000]] as const) {
  const b = Uint8Array.from({ length: n }, (_, i) => (i * 31) & 255);
  if (sha256Hex(b) !== noble(b)) throw new Error(`the two disagree at ${n} bytes`);
  const ours = usPerCall(sha256Hex, b);
  const theirs = usPerCall(noble, b);
  console.log(`  ${label} (${n.toLocaleString("en")} B): node:crypto ${ours.toFixed(2)} us, noble ${theirs.toFixed(2)} us: ${(theirs / ours).toFixed(1)}x`);
}
