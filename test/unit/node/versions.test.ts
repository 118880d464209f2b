/**
 * Versions of a channel across upgrades at a height: the consensus
 * application that judges each block with the version in force at its
 * height, which versions a node runs (versionsInForce), what an upgrade at a
 * height may change (upgradeShapeProblem), and the ledger's stored versions,
 * loaded again from their text alone (a tampered text is refused).
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError } from "../../../runtime/core/errors.js";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { cellApplication, genesisCellChain, GENESIS_HASH, versionedApplication, type CellChainState } from "../../../runtime/consensus/index.js";
import { openLedger } from "../../../runtime/ledger/index.js";
import { readFileSync } from "node:fs";
import { definitionText, planOfStored, upgradeShapeProblem, versionsInForce } from "../../../runtime/node/versions.js";

const V1 = `channel: cap
version: 1
groups:
  g: { validators: [a], threshold: 1 }
cells:
  c:
    group: g
    accepts: { type: object, required: [n], properties: { n: { type: integer } } }
    rules:
      - name: small
        require: { "<=": [ { var: data.n }, 10 ] }
`;
const V2 = V1.replace("version: 1", "version: 2\nactivation: 3").replace("10 ] }", "5 ] }");

function plan(text: string, file = "/channels/cap.yaml"): ChannelPlan {
  const r = loadChannel(text, { file }, { readFile: () => undefined });
  if (r.plan === undefined) throw new Error(r.problems.map((p) => p.message).join("; "));
  return r.plan;
}

const T = 1_700_000_000_000;
const verdictOf = (app: ReturnType<typeof versionedApplication>, state: CellChainState, height: number, n: number): { accepted: boolean; rule?: string } => {
  const v = app.buildValue({ height, round: 0, prevHash: GENESIS_HASH, time: T + height, state, pending: [{ data: { n } } as Json] }) as unknown as { verdicts: Array<{ accepted: boolean; rule?: string }> };
  return v.verdicts[0];
};

describe("versions of a channel", () => {
  const p1 = plan(V1);
  const p2 = plan(V2);

  it("the versioned application judges each block by the version in force at its height, and re-applies it the same way", () => {
    const app = versionedApplication([{ from: 1, app: cellApplication(p1, "c") }]);
    app.stage({ from: 3, app: cellApplication(p2, "c") });
    let state = genesisCellChain();
    const values: Json[] = [];
    for (let h = 1; h <= 4; h++) {
      // 8 is within version 1's rule (10) and above version 2's (5).
      expect(verdictOf(app, state, h, 8)).toEqual(h < 3 ? { accepted: true } : { accepted: false, code: "CELL_RULE", rule: "small" });
      const v = app.buildValue({ height: h, round: 0, prevHash: h === 1 ? GENESIS_HASH : app.valueId(values[h - 2]), time: T + h, state, pending: [{ data: { n: 8 } } as Json] });
      expect(app.validateValue({ height: h, prevHash: h === 1 ? GENESIS_HASH : app.valueId(values[h - 2]), state }, v)).toBe(true);
      state = app.applyValue(state, v);
      values.push(v);
    }
    // A replay (a restart, catch-up, an auditor) from genesis with a fresh application gives the same chain.
    const replay = versionedApplication([
      { from: 1, app: cellApplication(p1, "c") },
      { from: 3, app: cellApplication(p2, "c") },
    ]);
    let again = genesisCellChain();
    for (const v of values) again = replay.applyValue(again, structuredClone(v));
    expect(again.stateRoot).toBe(state.stateRoot);
    // With version 1 only, block 3 does not re-execute: its verdict is version 2's.
    const old = cellApplication(p1, "c");
    let s = genesisCellChain();
    s = old.applyValue(s, structuredClone(values[0]));
    s = old.applyValue(s, structuredClone(values[1]));
    expect(() => old.applyValue(s, structuredClone(values[2]))).toThrow(/verdict/);
  });

  it("versions must come in increasing order of activation", () => {
    const app = versionedApplication([{ from: 1, app: cellApplication(p1, "c") }, { from: 5, app: cellApplication(p2, "c") }]);
    for (const from of [5, 4, 0, 1.5]) {
      const e = (() => {
        try {
          app.stage({ from, app: cellApplication(p2, "c") });
        } catch (x) {
          return x;
        }
        return undefined;
      })();
      expect(e).toBeInstanceOf(StatecellError);
      expect((e as StatecellError).code).toBe("CONSENSUS_VERSION_ORDER");
    }
    expect(() => versionedApplication([])).toThrow(/at least one version/);
  });

  it("versionsInForce: the first from 1, at one height the higher version, later ones from their activation", () => {
    expect(versionsInForce([{ from: 3, plan: p2 }, { from: 1, plan: p1 }]).map((v) => [v.from, v.plan.version])).toEqual([[1, 1], [3, 2]]);
    // A node file naming version 2 without activation: it runs from genesis, as before.
    const p2now = plan(V2.replace("activation: 3\n", ""));
    expect(versionsInForce([{ from: 1, plan: p1 }, { from: 1, plan: p2now }]).map((v) => [v.from, v.plan.version])).toEqual([[1, 2]]);
    // Only a later version known: it is in force from 1.
    expect(versionsInForce([{ from: 3, plan: p2 }]).map((v) => v.from)).toEqual([1]);
  });

  it("an upgrade at a height keeps cells, links, groups, the snapshot group and the token", () => {
    expect(upgradeShapeProblem(p1, p2)).toBeUndefined();
    expect(upgradeShapeProblem(p1, plan(V2.replace("  g: { validators: [a], threshold: 1 }", "  g: { validators: [a], threshold: 1 }\n  h: { validators: [a], threshold: 1 }").replace("group: g", "group: h")))).toMatch(/cell c moves from group g to h/);
    expect(upgradeShapeProblem(p1, plan(V2.replace("validators: [a]", "validators: [a, b, c, d]").replace("threshold: 1", "threshold: 3")))).toMatch(/group g has other validators/);
    expect(upgradeShapeProblem(p1, plan(`${V2}  d:\n    group: g\n    accepts: { type: object }\n`))).toMatch(/its cells/);
  });

  it("an upgrade at a height keeps the token's declaration: only its description may change", () => {
    const text = readFileSync("channels/token.yaml", "utf8");
    const base = plan(text, "/channels/token.yaml");
    const next = (edit: (t: string) => string) => plan(edit(text.replace(/^version: 2$/m, "version: 3\nactivation: 50")), "/channels/token.yaml");
    expect(upgradeShapeProblem(base, next((t) => t))).toBeUndefined();
    expect(upgradeShapeProblem(base, next((t) => t.replace("  description: Points earned and spent at the member shops.", "  description: Points of the member shops.")))).toBeUndefined();
    expect(upgradeShapeProblem(base, next((t) => t.replace(/^  fee:\n    expression: .*$/m, "  fee: \"0.02\"")))).toMatch(/the token's declaration changes/);
  });

  it("the ledger keeps each version once with its text; a stored version loads from its text, a tampered one is refused", () => {
    const ledger = openLedger(":memory:");
    try {
      const t1 = definitionText(p1, V1);
      ledger.versions.put({ channel: "cap", hash: p1.hash, version: 1, activation: 1, ...t1 });
      ledger.versions.put({ channel: "cap", hash: p2.hash, version: 2, activation: 3, ...definitionText(p2, V2) });
      ledger.versions.put({ channel: "cap", hash: p2.hash, version: 2, activation: 99, ...definitionText(p2, V2) });
      const stored = ledger.versions.list("cap");
      expect(stored.map((v) => [v.version, v.activation])).toEqual([[1, 1], [2, 3]]);
      const loaded = planOfStored(stored[1]);
      expect(typeof loaded === "string" ? loaded : loaded.hash).toBe(p2.hash);
      expect(planOfStored({ ...stored[1], source: V2.replace("5 ] }", "50 ] }") })).toMatch(/hashes to .* not the stored/);
      expect(planOfStored({ ...stored[1], source: "channel: [" })).toMatch(/./);
      expect(() => ledger.versions.put({ ...stored[1], activation: 0 })).toThrow(/activation height of 1 or more/);
    } finally {
      ledger.close();
    }
  });
});
