/**
 * Message and state-path templates: `"PM2.5 of {data.pm25} is above 500"`,
 * `"totals.{data.district}.count"`. A placeholder is a `var` path (checked
 * like one); `{{` and `}}` stand for literal braces. Values render as text:
 * strings as they are, everything else as canonical JSON, missing as `null`.
 */
import type { Json } from "../core/canonical.js";
import { canonicalString } from "../core/canonical.js";
import type { CheckOptions, CompiledExpr, CompiledTemplate, RuleContext, RuleProblem } from "./types.js";

type Part = { literal: string } | { path: string; offset: number };

/** Splits a template; returns the parts, or the problems (with `path: [offset]`). */
export function parseTemplate(text: string): { parts: Part[]; problems: RuleProblem[] } {
  const parts: Part[] = [];
  const problems: RuleProblem[] = [];
  let literal = "";
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
      const end = text.indexOf("}", i + 1);
      const nested = text.indexOf("{", i + 1);
      if (end < 0 || (nested >= 0 && nested < end)) {
        problems.push(bad(i, "a { in a template is not closed", "close the placeholder, as in {data.x}, or write {{ for a literal brace"));
        literal += c;
        i++;
        continue;
      }
      const path = text.slice(i + 1, end).trim();
      if (path === "") problems.push(bad(i, "an empty placeholder {} in a template", "name a path, as in {data.x}, or write {{}} for literal braces"));
      if (literal !== "") parts.push({ literal });
      literal = "";
      parts.push({ path, offset: i + 1 });
      i = end + 1;
    } else {
      literal += c;
      i++;
    }
  }
  if (literal !== "") parts.push({ literal });
  return { parts, problems };
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
export function compileTemplateText(text: string, compileVar: (path: string) => CompiledExpr): CompiledTemplate {
  const parsed = parseTemplate(text).parts;
  const parts = parsed.map((p) => ("path" in p ? { path: p.path, expr: compileVar(p.path) } : { literal: p.literal }));
  return Object.freeze({
    parts: Object.freeze(parts),
    render(ctx: RuleContext): string {
      let out = "";
      for (const p of parts) out += "literal" in p ? p.literal : renderValue(p.expr(ctx));
      return out;
    },
  });
}

/** Strings as they are; every other value (null included) as canonical JSON. */
export function renderValue(v: Json): string {
  return typeof v === "string" ? v : canonicalString(v);
}
