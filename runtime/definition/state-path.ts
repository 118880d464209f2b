/**
 * Computed paths: dotted segments, each a literal name or exactly one
 * `{path}` placeholder (`totals.{data.district}.count`), whose value fills
 * exactly that one segment, whatever it contains (a value with a dot in it is
 * one key). Dots inside a placeholder belong to it; spaces around its path
 * are trimmed. State updates write these paths and rules read them
 * (`{ var: "state.totals.{data.district}.count" }`): both use this one
 * definition of a segment, the contract the rules module's computed `var`
 * paths keep (a path it parses the same way: the same parts, the same refusals).
 */

/** Segments no path may contain (the rules module refuses them in `var` paths too). */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export type RawPathPart = { literal: string } | { placeholder: string };

export type ParsedStatePath = { ok: true; parts: RawPathPart[] } | { ok: false; message: string };

/** True when `path` is computed: text with a `{` or `}` in it (a path without one splits on every dot). */
export function isComputedPath(path: string): boolean {
  return path.includes("{") || path.includes("}");
}

/** Splits a computed path; never throws. */
export function parseStatePath(text: string): ParsedStatePath {
  const segments: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "{") {
      if (depth > 0) return { ok: false, message: `"${text}" nests a "{" inside a placeholder` };
      depth++;
    } else if (ch === "}") {
      if (depth === 0) return { ok: false, message: `"${text}" has a "}" without a "{"` };
      depth--;
    }
    if (ch === "." && depth === 0) {
      segments.push(cur);
      cur = "";
    } else cur += ch;
  }
  if (depth > 0) return { ok: false, message: `"${text}" has a "{" that is never closed` };
  segments.push(cur);
  const parts: RawPathPart[] = [];
  for (const seg of segments) {
    if (seg === "") return { ok: false, message: `"${text}" has an empty segment (two dots in a row, or a dot at an end)` };
    const m = /^\{\s*([^{}]*?)\s*\}$/.exec(seg);
    if (m) {
      if (m[1] === "") return { ok: false, message: `"${text}" has an empty placeholder "{}"` };
      parts.push({ placeholder: m[1] });
    } else if (/[{}]/.test(seg)) {
      return { ok: false, message: `"${seg}" in "${text}" mixes text and a placeholder; a segment is either a name or one {placeholder}` };
    } else parts.push({ literal: seg });
  }
  return { ok: true, parts };
}
