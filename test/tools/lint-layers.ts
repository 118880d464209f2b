/**
 * Layering lint: a module under runtime/ may import only from modules at its
 * own layer or below (docs/architecture.md, "Layers"). Prints `file:line: what is wrong`
 * and exits 1 on any upward import.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, dirname, sep } from "node:path";

/** Layer of each module; higher numbers may import lower ones. */
export const LAYERS: Record<string, number> = {
  core: 0,
  rules: 1,
  definition: 1.5,
  sandbox: 2,
  cells: 2.5,
  token: 2.5,
  testing: 2.7,
  consensus: 3,
  net: 3,
  ledger: 3,
  l0: 3.5,
  node: 4,
  cli: 5,
};

const runtimeRoot = resolve(dirname(new URL(import.meta.url).pathname), "..", "..", "runtime");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

export function layerProblems(root = runtimeRoot): string[] {
  const out: string[] = [];
  for (const f of files(root)) {
    const mod = relative(root, f).split(sep)[0];
    const mine = LAYERS[mod];
    if (mine === undefined) {
      out.push(`${relative(process.cwd(), f)}:1: module "${mod}" has no layer; add it to LAYERS in test/tools/lint-layers.ts`);
      continue;
    }
    readFileSync(f, "utf8")
      .split("\n")
      .forEach((line, i) => {
        const m = /(?:from|import)\s*\(?\s*["'](\.\.?\/[^"']+)["']/.exec(line);
        if (!m) return;
        const target = relative(root, resolve(dirname(f), m[1])).split(sep)[0];
        if (target === mod || target.startsWith("..")) return;
        const theirs = LAYERS[target];
        if (theirs === undefined || theirs > mine) {
          out.push(`${relative(process.cwd(), f)}:${i + 1}: ${mod} imports ${target}, which sits above it`);
        }
      });
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const problems = layerProblems();
  for (const p of problems) console.log(p);
  console.log(problems.length === 0 ? "layers: ok" : `layers: ${problems.length} problem(s)`);
  process.exit(problems.length === 0 ? 0 : 1);
}
