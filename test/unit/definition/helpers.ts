/** Shared by the definition tests: fixture paths and a file reader over the real tree. */
import { existsSync, readFileSync, readdirSync } from "node:fs";
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
