/**
 * Child process of determinism.test.ts: executes a fixed pipeline of blocks
 * (generated from a seeded LCG, so every process sees the same inputs) and
 * prints, per block and cell, the verdicts, the canonical state, the outputs
 * and the state root as one JSON document on stdout.
 */
import { canonicalString } from "../../../runtime/core/canonical.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import { admitInput, executeBlock, type BlockInput, type CellState } from "../../../runtime/cells/index.js";
import { outputInput } from "../../../runtime/cells/index.js";
import { DETERMINISM_CHANNEL } from "./channel.js";

const plan = requireChannel(DETERMINISM_CHANNEL, { file: "determinism.yaml" });
let seed = 20261125;
const rand = (n: number): number => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const districts = ["cen", "nor", "sou", "eas", "wes", "é"];
const hostile = ['{"__proto__":{"x":1}}', "[".repeat(5000), '{"pm25": 1e400}', '{"a":1,"a":2}', "nope"];

const out: unknown[] = [];
let readings: CellState = {};
let sums: CellState = {};
for (let h = 1; h <= 40; h++) {
  const header = { height: h, time: 1_700_000_000_000 + h * 1000, hash: h.toString(16).padStart(64, "0") };
  const texts: string[] = [];
  for (let i = 0; i < 50; i++) {
    const r = rand(100);
    if (r < 3) texts.push(hostile[rand(hostile.length)]);
    else
      texts.push(
        JSON.stringify({ sensor: `s-${rand(1500)}`, district: districts[rand(districts.length)], pm25: rand(600) + rand(100) / 100, at: h * 100 + i, close: rand(10) === 0 }),
      );
  }
  const admitted = texts.map((t) => admitInput(plan, "readings", t));
  const inputs = admitted.filter((a): a is BlockInput => !("accepted" in a));
  const r1 = executeBlock(plan, "readings", readings, inputs, header);
  readings = r1.state;
  const r2 = executeBlock(plan, "sums", sums, r1.outputs.filter((o) => o.to === "sums").map(outputInput), header);
  sums = r2.state;
  out.push({
    height: h,
    admission: admitted.map((a) => ("accepted" in a ? a.code : "ok")),
    readings: { verdicts: r1.verdicts, root: r1.stateRoot, outputs: r1.outputs, state: canonicalString(r1.state) },
    sums: { verdicts: r2.verdicts, root: r2.stateRoot, state: canonicalString(r2.state) },
  });
}
process.stdout.write(JSON.stringify(out));
