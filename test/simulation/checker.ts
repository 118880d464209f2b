/**
 * Checks after every run: agreement, validity (certificates and
 * re-execution), and fork attribution. Liveness and "no honest validator
 * signed twice" are checked while the run goes (simulator.ts), since they
 * need the timeline.
 */
import { verifyCertificate } from "../../runtime/consensus/index.js";
import type { Simulation } from "./simulator.js";

/** Two different certified blocks at one height, and who signed both. */
export interface Fork {
  height: number;
  valueIds: string[];
  /** Validators whose precommits are in both certificates. */
  signers: string[];
  /** Both certificates from one round: their common signers provably equivocated. */
  sameRound: boolean;
}

export function checkRun(sim: Simulation): { violations: string[]; forks: Fork[] } {
  const violations: string[] = [];
  const forks: Fork[] = [];
  const honest = sim.honest();
  const nameOf = new Map(sim.set.keys.map((k, i) => [k, sim.set.names[i]]));

  // Validity: every certificate verifies, every block re-executes from the node's previous state.
  const app = sim.simApp.app;
  for (const e of honest) {
    let state = sim.simApp.genesis;
    let prevHash = "0".repeat(64);
    for (let i = 0; i < e.ledger.length; i++) {
      const l = e.ledger[i];
      const height = i + 1;
      const valueId = app.valueId(l.block.value);
      if (valueId !== l.valueId) violations.push(`validity: ${e.name} stored height ${height} under id ${l.valueId.slice(0, 12)} but its value hashes to ${valueId.slice(0, 12)}`);
      const c = verifyCertificate(sim.set, null, { channel: "sim", cell: "counter", height, valueId }, l.block.certificate, sim.verifier);
      if (!c.ok) violations.push(`validity: ${e.name} height ${height}: ${c.code} ${c.message}`);
      if (!app.validateValue({ height, prevHash, state }, l.block.value)) violations.push(`validity: ${e.name} height ${height} does not re-execute to the same result`);
      try {
        state = app.applyValue(state, l.block.value);
      } catch (err) {
        // An application that checks what it applies (the cells app) refuses a block it does not reproduce:
        // the rest of this ledger has no state to re-execute from.
        violations.push(`validity: ${e.name} height ${height} cannot be applied: ${(err as { code?: string }).code ?? String(err)}`);
        break;
      }
      prevHash = valueId;
    }
  }

  // Agreement: one block per height across every honest node.
  const maxH = Math.max(0, ...honest.map((e) => e.ledger.length));
  for (let h = 1; h <= maxH; h++) {
    const byId = new Map<string, { round: number; signers: Set<string> }>();
    for (const e of honest) {
      const l = e.ledger[h - 1];
      if (l && !byId.has(l.valueId)) byId.set(l.valueId, { round: l.block.certificate.round, signers: new Set(l.block.certificate.signatures.map((s) => s.validator)) });
    }
    if (byId.size < 2) continue;
    const entries = [...byId];
    const [a, b] = [entries[0][1], entries[1][1]];
    const common = [...a.signers].filter((k) => b.signers.has(k)).map((k) => nameOf.get(k) ?? k).sort();
    forks.push({ height: h, valueIds: entries.map(([id]) => id), signers: common, sameRound: a.round === b.round });
    if (sim.schedule.mode !== "fork") {
      violations.push(`agreement: height ${h} has ${byId.size} certified blocks (${entries.map(([id]) => id.slice(0, 12)).join(", ")}); signed both: ${common.join(", ")}`);
    } else {
      const byz = new Set(sim.schedule.byzantine.map((i) => `v${i}`));
      const innocent = common.filter((s) => !byz.has(s));
      if (common.length === 0 || innocent.length > 0) violations.push(`fork attribution at height ${h}: named ${common.join(", ") || "nobody"}, Byzantine were ${[...byz].join(", ")}`);
    }
  }
  return { violations, forks };
}
