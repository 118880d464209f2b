/**
 * Message and state-path templates: `"PM2.5 of {data.pm25} is above 500"`,
 * `"totals.{data.district}.count"`. A placeholder is a `var` path (checked
 * like one), computed paths included: `"{data.name} was seen at
 * {state.seen.{data.name}}"` (braces inside a placeholder pair up; see
 * parseComputedPath in paths.ts). Outside placeholders, `{{` and `}}` stand
 * for literal braces. Values render as text: strings as they are, everything
 * else as canonical JSON, missing as `null`.
 *
 * `render` fills a rejection message, so it runs once per rejected input and
 * must stay cheap whatever the state holds: a placeholder `{state.records}`
 * over 20,000 records used to produce 2.58 MB per rejection (200 rejections:
 * 22 s, 1.07 GB). Each placeholder now renders at most MAX_PLACEHOLDER_CHARS
 * code points and the whole message at most MAX_MESSAGE_CHARS, cut between
 * code points and ended with "…"; values are read without copying and encoded
 * only as far as the cap (encode.ts). `render` never throws.
 */
import type { Json } from "../core/canonical.js";
import type { CheckOptions, CompiledExpr, CompiledTemplate, RuleContext, RuleProblem } from "./types.js";
import { encodeCanonical } from "./encode.js";
import { cutText, toWellFormed } from "./text.js";
import { isComputedPath, parseComputedPath } from "./paths.js";

/** Most code points one placeholder renders (longer values are cut and end with "…"). */
export const MAX_PLACEHOLDER_CHARS = 256;
/** Most code points a rendered template has in all. */
export const MAX_MESSAGE_CHARS = 1024;

/** A compiled placeholder: the JSON result (`expr`, a fresh copy) and the value as read (`raw`, not copied). */
export interface CompiledPlaceholder {
  expr: CompiledExpr;
  raw: (ctx: RuleContext) => unknown;
}

type Part = { literal: string } | { path: string; offset: number };

/** Splits a template; returns the parts, or the problems (with `path: [offset]`). */
export function parseTemplate(text: string): { parts: Part[]; problems: RuleProblem[] } {
  const parts: Part[] = [];
  const problems: RuleProblem[] = [];
  let literal = "";
  let closes: Int32Array | undefined; // computed at the first placeholder
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "{" && text[i + 1] === "{") {
      literal += "{";
      i += 2;
    } else if (c === "}" && text[i + 1] === "}") {
      literal += "}";
      i += 2;
    } else if (c === "}") {
      problems.push(bad(i, "a lone } in a template", "write }} for a literal brace"));
      i++;
    } else if (c === "{") {
      closes ??= closingBraces(text);
      const end = closes[i];
      if (end < 0) {
        problems.push(bad(i, "a { in a template is not closed", "close the placeholder, as in {data.x}, or write {{ for a literal brace"));
        literal += c;
        i++;
        continue;
      }
      const path = text.slice(i + 1, end).trim();
      if (path === "") problems.push(bad(i, "an empty placeholder {} in a template", "name a path, as in {data.x}, or write {{}} for literal braces"));
      if (literal !== "") parts.push({ literal });
      literal = "";
      const parsed = isComputedPath(path) ? parseComputedPath(path) : undefined;
      if (parsed !== undefined && !parsed.ok) {
        // The message quotes the path (its start when long) already.
        problems.push(bad(i, `a placeholder is not a path: ${parsed.message}`, "write a path, as in {data.x}, or a computed path whose segments are each a name or one {placeholder}, as in {state.seen.{data.name}}"));
      } else parts.push({ path, offset: i + 1 });
      i = end + 1;
    } else {
      literal += c;
      i++;
    }
  }
  if (literal !== "") parts.push({ literal });
  return { parts, problems };
}

/**
 * For each `{` of `text`, the `}` that closes it (braces pair up, so a
 * computed path `{state.seen.{data.name}}` is one placeholder; the path
 * parser then refuses what is not a path), or -1 when none does. One pass
 * with a stack: scanning forward from every unclosed `{` would cost the
 * square of the text's length on a text of unclosed braces.
 */
function closingBraces(text: string): Int32Array {
  const close = new Int32Array(text.length).fill(-1);
  const open: number[] = [];
  for (let j = 0; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === 123) open.push(j);
    else if (c === 125 && open.length > 0) close[open.pop()!] = j;
  }
  return close;
}

function bad(offset: number, message: string, remedy: string): RuleProblem {
  return { code: "RULES_BAD_TEMPLATE", message: `${message} (at character ${offset + 1})`, remedy, path: [offset] };
}

/** Template problems: syntax, then each placeholder checked as a `var` path (problem path = [offset]). */
export function checkTemplateText(
  text: string,
  check: (expr: Json, opts?: CheckOptions) => RuleProblem[],
  opts?: CheckOptions,
): RuleProblem[] {
  const { parts, problems } = parseTemplate(text);
  for (const p of parts) {
    if (!("path" in p) || p.path === "") continue;
    for (const q of check({ var: p.path }, opts)) problems.push({ ...q, path: [p.offset] });
  }
  return problems;
}

/** Builds the template from checked text; `compileVar` compiles a `var` path. */
export function compileTemplateText(text: string, compileVar: (path: string) => CompiledPlaceholder): CompiledTemplate {
  const parsed = parseTemplate(text).parts;
  const compiled = parsed.map((p) => ("path" in p ? { path: p.path, ...compileVar(p.path) } : { literal: p.literal }));
  const parts = compiled.map((p) => ("path" in p ? { path: p.path, expr: p.expr } : p));
  return Object.freeze({
    parts: Object.freeze(parts),
    render(ctx: RuleContext): string {
      let out = "";
      for (const p of compiled) {
        out += "literal" in p ? p.literal : renderPlaceholder(p.raw, ctx);
        // Past twice the cap in code units there are more than MAX_MESSAGE_CHARS code points: the rest is cut anyway.
        if (out.length > 2 * MAX_MESSAGE_CHARS) break;
      }
      return cutText(out, MAX_MESSAGE_CHARS);
    },
  });
}

/**
 * One placeholder's text, at most MAX_PLACEHOLDER_CHARS code points. A value
 * that cannot be read (a context that throws when read) renders as null, like
 * a missing one. Costs the code points shown, plus one pass over the keys of
 * each object shown (to find the smallest keys: canonical order is sorted).
 */
function renderPlaceholder(raw: (ctx: RuleContext) => unknown, ctx: RuleContext): string {
  try {
    const v = raw(ctx);
    if (typeof v === "string") return toWellFormed(cutText(v, MAX_PLACEHOLDER_CHARS));
    // Twice the cap in code units holds at least MAX_PLACEHOLDER_CHARS code points.
    const r = encodeCanonical(v, { limit: 2 * MAX_PLACEHOLDER_CHARS, strict: false, what: "a template" });
    return cutText(r.text, MAX_PLACEHOLDER_CHARS, !r.complete);
  } catch {
    return "null";
  }
}
