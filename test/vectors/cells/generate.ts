/**
 * Regenerates vectors.json (run only when an encoding change is intended, and
 * say so in the commit): npx tsx test/vectors/cells/generate.ts
 */
import { writeFileSync } from "node:fs";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { sha256Hex } from "../../../runtime/core/hash.js";
import { utf8 } from "../../../runtime/core/canonical.js";
import { requireChannel } from "../../../runtime/definition/index.js";
import { admitInput, executeBlock, type BlockInput, type CellState } from "../../../runtime/cells/index.js";
import { VECTOR_BLOCKS, VECTOR_CHANNEL } from "./block.js";

const values: unknown[] = [
  null, true, false, 0, 1, -1, 1.5, 1e21, 1e-7, 123456789012345680000, 0.1, 5e-324, 1.7976931348623157e308,
  "", "a", "é", "\u20ac", "😀", "\u0000\u001f\"\\/", "\u2028\u2029",
  [], {}, [1, "a", null], { b: 1, a: 2 }, { "\u20ac": 1, "\r": 2, "1": 3, "10": 4, "9": 5, a: { z: [], y: {} } },
  { sensor: "cen-1", pm25: 12, at: 1700000000000, nested: { list: [1.0, 2.50, -0.0001] } },
];
const canonical = values.map((value) => {
  const c = canonicalString(value);
  return { value, canonical: c, sha256: sha256Hex(utf8(c)) };
});

const plan = requireChannel(VECTOR_CHANNEL, { file: "vectors.yaml" });
let state: CellState = {};
const blocks = VECTOR_BLOCKS.map((b) => {
  const inputs = b.inputs.map((t) => admitInput(plan, "readings", t) as BlockInput);
  const r = executeBlock(plan, "readings", state, inputs, b.header);
  state = r.state;
  return { verdicts: r.verdicts, stateRoot: r.stateRoot, userRoot: r.userRoot, commitment: r.commitment, state: canonicalString(r.state) };
});
writeFileSync(new URL("./vectors.json", import.meta.url), JSON.stringify({ canonical, blocks }, null, 1) + "\n");
console.log("wrote vectors.json", canonical.length, "values", blocks.length, "blocks");
