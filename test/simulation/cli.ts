/**
 * `npm run simulate -- [--seed N] [--runs M] [--n 1|4|7] [--mode honest|byzantine|fork] [--app kv|cells] [--verbose]`
 * Runs M seeded schedules from seed N (default: seed 1, 200 runs). A failing
 * run prints its seed and violations; `--seed N` alone replays it exactly.
 * `--app cells` runs the real cells module (cells-app.ts) instead of the
 * key/value app. The last line is the summary.
 */
import { campaign } from "./campaign.js";
import type { Mode } from "./schedule.js";
import { cellsSimApp } from "./cells-app.js";
import { kvSimApp } from "./sim-app.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const seedArg = arg("seed");
const seed = seedArg === undefined ? 1 : Number(seedArg);
const runs = Number(arg("runs") ?? (seedArg === undefined ? 200 : 1));
const n = arg("n") === undefined ? undefined : Number(arg("n"));
const mode = arg("mode") as Mode | undefined;
const verbose = process.argv.includes("--verbose");
const appName = arg("app") ?? "kv";
const app = appName === "cells" ? cellsSimApp : appName === "kv" ? kvSimApp : undefined;
if (!Number.isSafeInteger(seed) || !Number.isSafeInteger(runs) || runs < 1 || (n !== undefined && ![1, 4, 7].includes(n)) || app === undefined) {
  console.error("usage: npm run simulate -- [--seed N] [--runs M] [--n 1|4|7] [--mode honest|byzantine|fork] [--app kv|cells] [--verbose]");
  process.exit(2);
}

let done = 0;
const t = campaign(seed, runs, { app, ...(n === undefined ? {} : { n }), ...(mode === undefined ? {} : { mode }) }, (r) => {
  done++;
  if (r.violations.length > 0) {
    console.log(`FAIL seed ${r.seed} (n=${r.n} q=${r.quorum} ${r.mode}): replay with npm run simulate -- --seed ${r.seed}${appName === "kv" ? "" : ` --app ${appName}`}`);
    for (const v of r.violations) console.log(`  ${v}`);
  } else if (verbose || runs === 1) {
    console.log(
      `seed ${r.seed} n=${r.n} q=${r.quorum} ${r.mode}: ${r.blocks} blocks, ${r.faults} faults ${JSON.stringify(r.faultKinds)}, ${r.evidence} evidence, ${r.badPeers} bad peers, ${r.catchupRequested} catch-up requests, ${r.catchupServed} served, drops ${JSON.stringify(r.drops)}, ${r.events} events, ${r.virtualMs} virtual ms${r.forks.length ? `, forks ${JSON.stringify(r.forks.map((f) => ({ h: f.height, signers: f.signers })))}` : ""}`,
    );
  }
  if (!verbose && runs >= 1000 && done % 1000 === 0) console.log(`... ${done}/${runs}`);
});
console.log(`modes ${JSON.stringify(t.byMode)}, sizes ${JSON.stringify(t.bySize)}, faults ${JSON.stringify(t.faultKinds)}`);
console.log(`forks detected in fork mode ${t.forksDetected}, evidence ${t.evidence}, bad peers disconnected ${t.badPeers}, catch-up responses served ${t.catchupServed}, ${(t.ms / t.schedules).toFixed(1)} ms/schedule, ${(t.ms / 1000).toFixed(1)} s`);
console.log(`app ${app.name}`);
console.log(`summary: schedules run ${t.schedules}, faults injected ${t.faults}, blocks committed ${t.blocks}, violations ${t.violations}`);
process.exit(t.violations > 0 ? 1 : 0);
