/** Shared by the definition and CLI tests: fixture paths, a file reader over the real tree, pinned outputs. */
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { expect } from "vitest";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const BAD = join(ROOT, "test", "fixtures", "bad");
export const GOOD = join(ROOT, "test", "fixtures", "good");

/** Reads a file relative to the repository root (the loader passes posix paths relative to it). */
export function readFile(path: string): string | undefined {
  const full = resolve(ROOT, path);
  return existsSync(full) ? readFileSync(full, "utf8") : undefined;
}

export function fixture(path: string): string {
  return readFileSync(join(ROOT, path), "utf8");
}

export function yamlFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort() : [];
}

/**
 * Compares `actual` with the pinned file `path` (relative to the repository
 * root). `UPDATE_PINS=1` rewrites the pin after a reviewed change; without
 * it, a missing pin is a failure, never written: a deleted pin must not pass.
 */
export function expectPinned(actual: string, path: string, env: NodeJS.ProcessEnv = process.env): void {
  const full = resolve(ROOT, path);
  if (env.UPDATE_PINS === "1") {
    writeFileSync(full, actual);
    return;
  }
  if (!existsSync(full)) throw new Error(`the pinned output ${path} is missing; review the output and write it with UPDATE_PINS=1`);
  expect(actual).toBe(readFileSync(full, "utf8"));
}
