/**
 * JSON Pointers (as ajv reports them) to document paths, and values at a path: shared by the
 * language check of channel files and the checks of node, network and L0 files, so both report
 * problems at the same places.
 */
import type { Json } from "../core/canonical.js";
import type { DocPath } from "./reporter.js";

/** JSON Pointer to a path, with array indexes as numbers (the YAML locator needs to know). */
export function toPath(pointer: string, root: Json): Array<string | number> {
  if (pointer === "") return [];
  const out: Array<string | number> = [];
  let cur: unknown = root;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      const i = Number(seg);
      out.push(i);
      cur = cur[i];
    } else {
      out.push(seg);
      cur = cur !== null && typeof cur === "object" ? (cur as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

/** The value at `path` in `root`, or undefined where the path leaves it. */
export function valueAt(root: Json, path: DocPath): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

