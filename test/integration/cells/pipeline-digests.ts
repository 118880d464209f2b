/**
 * Child process of pipeline-property.test.ts: regenerates the seeded cases
 * and prints one digest per case, one per line.
 */
import fc from "fast-check";
import { caseArbitrary, digestCase } from "./pipeline-cases.js";

const [seed, runs] = process.argv.slice(2).map(Number);
for (const c of fc.sample(caseArbitrary, { seed, numRuns: runs })) process.stdout.write(`${digestCase(c)}\n`);
