/**
 * Runs test/fixtures/code/mixed-math.js over fixed inputs and prints the
 * results as JSON: determinism.test.ts runs it in two processes and compares
 * the bytes. Run: node --no-node-snapshot --import tsx determinism-worker.ts
 */
import { determinismRun } from "./determinism-run.js";

process.stdout.write(determinismRun());
