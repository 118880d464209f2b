/**
 * Sources, docs, schemas, channels and remedies point readers at documents:
 * every one they name must exist in this repository, which stands on its own.
 */
import { describe, expect, it } from "vitest";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { DEFINITION_CODES } from "../../../runtime/definition/index.js";
import { ROOT } from "./helpers.js";

const OWN = ["runtime", "bench", "docs", "schemas", "channels", "README.md"];

function files(rel: string): string[] {
  const full = join(ROOT, rel);
  if (!statSync(full).isDirectory()) return [rel];
  return readdirSync(full).flatMap((n) => files(join(rel, n)));
}

/** `docs/x`, `NAME.md`, `shared/NAME.md`: what a citation of a document looks like. */
const CITATION = /(?:\b[\w./-]*\.md\b|\bdocs\/[\w.-]+)/g;

function cited(text: string): string[] {
  return [...text.matchAll(CITATION)].map((m) => m[0].replace(/[.,;:]+$/, ""));
}

function resolves(name: string, from = ""): boolean {
  if (existsSync(join(ROOT, name))) return true;
  // A link inside docs/ names a sibling document.
  if (from !== "" && existsSync(join(ROOT, dirname(from), name))) return true;
  // `docs/rules` names a folder or a document without its extension.
  return existsSync(join(ROOT, `${name}.md`));
}

describe("citations", () => {
  it("every document named in the module's sources exists", () => {
    const missing: string[] = [];
    for (const f of OWN.flatMap(files)) {
      for (const name of cited(readFileSync(join(ROOT, f), "utf8"))) if (!resolves(name, f)) missing.push(`${f}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it("every document named in a remedy exists", () => {
    const missing = Object.entries(DEFINITION_CODES).flatMap(([code, [meaning, remedy]]) =>
      cited(`${meaning} ${remedy}`).filter((n) => !resolves(n)).map((n) => `${code}: ${n}`),
    );
    expect(missing).toEqual([]);
  });
});
