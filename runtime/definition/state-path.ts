/**
 * Declarative state paths: dotted segments, each a literal name or exactly one
 * `{expr-path}` placeholder (`totals.{data.district}.count`). Dots inside a
 * placeholder belong to it.
 */

export type RawPathPart = { literal: string } | { placeholder: string };

export type ParsedStatePath = { ok: true; parts: RawPathPart[] } | { ok: false; message: string };

/** Splits a state path; never throws. */
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
