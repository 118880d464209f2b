/**
 * The CLI's file I/O: reading channel files and the code files they name, so
 * the pure loader never touches the disk itself.
 */
import { readFileSync, statSync, existsSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** Largest file the CLI reads at all; the loader applies its own, smaller limit to channel files. */
const MAX_READ_BYTES = 8 * 1024 * 1024;

/** Read a text file, or undefined when it is missing, not a file, or too large. */
export function readTextFile(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size > MAX_READ_BYTES) return undefined;
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Expand arguments: a directory means every `*.yaml` channel file in it, and
 * with `includeTests` its `*.test.yaml` files too (lint checks those).
 */
export function expandChannelArgs(args: readonly string[], cwd = process.cwd(), opts: { includeTests?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const a of args) {
    const p = resolve(cwd, a);
    let names: string[] | undefined;
    try {
      names = existsSync(p) && statSync(p).isDirectory() ? readdirSync(p).sort() : undefined;
    } catch {
      // An unreadable folder is named as it is: reading it as a file then fails with CLI_FILE_NOT_FOUND.
      names = undefined;
    }
    if (names) {
      for (const n of names) {
        if (/\.ya?ml$/.test(n) && (opts.includeTests || !/\.test\.ya?ml$/.test(n))) out.push(join(a, n));
      }
    } else {
      out.push(a);
    }
  }
  return out;
}

/** Most channel files read in one folder when looking for the channel that names a code file. */
const MAX_OWNER_CANDIDATES = 200;

/**
 * The channel files (`*.yaml`, not tests files) beside `codeFile` or one
 * folder up whose text names it by its path relative to them (as `code:`
 * does: `./air-quality/districts.js`), as paths relative to the working
 * folder the way `codeFile` was given.
 */
export function channelsNaming(codeFile: string): string[] {
  const out: string[] = [];
  const here = dirname(codeFile);
  for (const dir of new Set([here, dirname(here)])) {
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && !/\.test\.ya?ml$/.test(n)).sort().slice(0, MAX_OWNER_CANDIDATES);
    } catch {
      continue;
    }
    const rel = relative(dir, codeFile).split(sep).join("/");
    for (const n of names) {
      const text = readTextFile(join(dir, n));
      if (text !== undefined && (text.includes(`./${rel}`) || text.includes(` ${rel}`) || text.includes(`"${rel}"`))) out.push(join(dir, n));
    }
  }
  return out;
}
