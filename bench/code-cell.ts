/**
 * Code-cell throughput: inputs/s through executeBlock for a cell whose code
 * validates every input and keeps its state with a reduce hook (the
 * air-quality `districts` cell: per-district count, sum, mean and max), in
 * blocks of 1,000 inputs, with real isolates. Also the same hooks with a
 * validate that reads ctx.state (a cap held in the state), which must see
 * what the earlier inputs of the block left, and a validate-only filter in
 * front of two declarative state updates. Target: >= 300,000 inputs/s for the
 * first, measured through the runner wrapper a node uses (timedRunner), with
 * the bare runner beside it. Besides the median of whole runs it prints the
 * fastest block: on a shared machine a neighbour's burst stretches whole
 * runs, while the fastest of many blocks stays near what the code costs.
 *
 * Run: node --no-node-snapshot --import tsx bench/code-cell.ts [blocks]
 */
import { availableParallelism, loadavg } from "node:os";
import { requireChannel } from "../runtime/definition/index.js";
import { admitInput, executeBlock, type BlockInput, type CellState } from "../runtime/cells/index.js";
import { createCodeRunner, type CodeRunner } from "../runtime/sandbox/index.js";
import { timedRunner } from "../runtime/node/metrics.js";

const TARGET = 300_000;
const PER_BLOCK = 1_000;
const BLOCKS = Number(process.argv[2] ?? 30);

const DISTRICTS = `
const DISTRICT_CODE = /^[a-z]{3}$/;
function validate(data) {
  if (typeof data.district !== "string" || !DISTRICT_CODE.test(data.district)) return { reject: "district must be three lowercase letters" };
  return true;
}
function reduce(state, data) {
  const prev = state[data.district] || { count: 0, sum: 0, mean: 0, max: data.pm25 };
  const count = prev.count + 1;
  const sum = prev.sum + data.pm25;
  state[data.district] = { count, sum, mean: Math.round((sum / count) * 100) / 100, max: Math.max(prev.max, data.pm25) };
  return state;
}`;
// A validate that reads the state a reduce keeps: at most 400 readings per district.
const CAPPED = DISTRICTS.replace("return true;", "const d = ctx.state[data.district]; return !d || d.count < 400 || { reject: 'district full' };").replace("function validate(data)", "function validate(data, ctx)");
const FILTER = `function validate(data) { return data.pm25 <= 500 || { reject: "implausible" }; }`;

function channel(state: string): string {
  return `
channel: bench-code
version: 1
groups:
  city: { validators: [a, b, c, d], threshold: 3 }
schemas:
  DistrictReading:
    type: object
    required: [district, sensor, pm25]
    properties:
      district: { type: string }
      sensor: { type: string }
      pm25: { type: number, minimum: 0 }
cells:
  districts:
    group: city
    accepts: DistrictReading
    code: ./hooks.js
    limits: { memoryMb: 32, timeMs: 50 }
${state}`;
}

function load(code: string, state = ""): { plan: ReturnType<typeof requireChannel>; runner: CodeRunner } {
  const plan = requireChannel(channel(state), { file: "bench/code-cell.yaml" }, {
    readFile: () => code,
    checkCode: (source) => ({ hooks: (["validate", "transform", "reduce"] as const).filter((h) => new RegExp(`function\\s+${h}\\b`).test(source)), problems: [] }),
  });
  const runner = createCodeRunner({ name: "bench-code/districts", source: code, file: "hooks.js", limits: plan.cells.districts.limits });
  return { plan, runner };
}

const districts = ["cen", "nor", "sou", "eas", "wes"];
function inputs(plan: ReturnType<typeof requireChannel>): BlockInput[][] {
  const out: BlockInput[][] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const block: BlockInput[] = [];
    for (let i = 0; i < PER_BLOCK; i++) {
      const n = b * PER_BLOCK + i;
      const r = admitInput(plan, "districts", { district: districts[n % 5], sensor: `${districts[n % 5]}-${n % 97}`, pm25: (n % 400) + 0.5 });
      if ("accepted" in r) throw new Error(`bench input not admitted: ${r.message}`);
      block.push(r);
    }
    out.push(block);
  }
  return out;
}

function run(plan: ReturnType<typeof requireChannel>, runner: CodeRunner, blocks: BlockInput[][]): { rate: number; accepted: number; root: string; fastest: number } {
  let state: CellState = {};
  let accepted = 0;
  let root = "";
  let fastest = Infinity;
  const t = performance.now();
  for (let b = 0; b < blocks.length; b++) {
    const tb = performance.now();
    const r = executeBlock(plan, "districts", state, blocks[b], { height: b + 1, time: 1_800_000_000_000 + b, hash: b.toString(16).padStart(64, "0") }, { code: () => runner });
    fastest = Math.min(fastest, performance.now() - tb);
    state = r.state;
    accepted += r.accepted;
    root = r.stateRoot;
  }
  return { rate: (blocks.length * PER_BLOCK) / ((performance.now() - t) / 1000), accepted, root, fastest };
}

function median(plan: ReturnType<typeof requireChannel>, runner: CodeRunner, blocks: BlockInput[][]): { rate: number; accepted: number; root: string; best: number } {
  run(plan, runner, blocks); // warm-up: a whole run, as bench/execute.ts does (the isolate's JIT is not settled after a few blocks)
  const runs = [run(plan, runner, blocks), run(plan, runner, blocks), run(plan, runner, blocks)].sort((a, b) => a.rate - b.rate);
  return { ...runs[1], best: PER_BLOCK / (Math.min(...runs.map((r) => r.fastest)) / 1000) };
}

const k = (x: number): string => Math.round(x).toLocaleString("en-US");
const main = load(DISTRICTS);
const mainBlocks = inputs(main.plan);
// The runner as a node wraps it for its metrics (timedRunner): what ships, so the target is read here.
// The bare runner beside it: the two must agree, and a wrapper that hid what batching needs would show.
const m = median(main.plan, timedRunner(main.runner, () => undefined), mainBlocks);
const bare = median(main.plan, main.runner, mainBlocks);
if (m.accepted !== BLOCKS * PER_BLOCK) throw new Error(`expected every input accepted, got ${m.accepted}`);
if (bare.root !== m.root) throw new Error("the node's timed runner and the bare runner reach different roots");
console.log(`code cell (validate + reduce, the districts cell), ${PER_BLOCK} inputs/block, ${BLOCKS} blocks, through the node's timed runner, median of 3: ${k(m.rate)} inputs/s, fastest block ${k(m.best)} inputs/s (root ${m.root.slice(0, 12)}...)`);
console.log(`  the bare runner, same blocks: ${k(bare.rate)} inputs/s, fastest block ${k(bare.best)}`);
const capped = load(CAPPED);
const c = median(capped.plan, capped.runner, inputs(capped.plan));
console.log(`  validate reading ctx.state (a cap of 400 per district kept by reduce): ${k(c.rate)} inputs/s, fastest block ${k(c.best)}, ${k(c.accepted)} accepted`);
const filter = load(FILTER, "    state:\n      - add: count.{data.district}\n      - set: last.{data.district}\n        value: { var: data.pm25 }\n");
const f = median(filter.plan, filter.runner, inputs(filter.plan));
console.log(`  validate-only filter + 2 declarative state updates: ${k(f.rate)} inputs/s, fastest block ${k(f.best)}`);
for (const r of [main.runner, capped.runner, filter.runner]) r.dispose();
console.log(`target >= ${k(TARGET)} inputs/s (validate + reduce): ${m.rate >= TARGET ? "PASS" : "MISS"} (load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores)`);
