/**
 * Lint-time check of a hook file: syntax (with file:line:col), which hooks it
 * defines, and names that look like misspelt hooks. The file is loaded the way
 * a node loads it (in a sandbox with the default limits: its top level runs,
 * no hook does), so the hooks lint reports are exactly the ones the runner has.
 */
import { excerptAt, isStatecellError, type Problem } from "../core/index.js";
import { editDistance } from "../core/suggest.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { createCodeRunner } from "./runner.js";
import { HOOK_NAMES, type HookName } from "./types.js";

/** Top-level declarations: at column 1, optionally after `export`. */
const DECLARATION =
  /^(export[ \t]+)?(?:(?:async[ \t]+)?function[ \t]*\*?[ \t]*|(?:const|let|var)[ \t]+)([A-Za-z_$][\w$]*)/gm;

/**
 * Checks a hook file without running it.
 * @returns the hooks it defines and every problem found: SANDBOX_SYNTAX,
 *   SANDBOX_NO_HOOKS, SANDBOX_UNKNOWN_HOOK (an error when the file defines no
 *   real hook, else a warning).
 * @example checkCode("function validat(d) { return true }", "x.js").problems[0].code // "SANDBOX_UNKNOWN_HOOK"
 */
export function checkCode(source: string, file: string): { hooks: HookName[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const declared = topLevelNames(source);
  // Without a loadable file, the declarations are the best guess of its hooks.
  let hooks: HookName[] = HOOK_NAMES.filter((h) => declared.some((d) => d.name === h));
  try {
    const runner = createCodeRunner({ name: file, source, file, limits: DEFAULT_LIMITS });
    hooks = [...runner.hooks];
    runner.dispose();
  } catch (e: unknown) {
    if (!isStatecellError(e)) throw e;
    if (e.code === "SANDBOX_NO_HOOKS") hooks = [];
    else {
      const location = e.location ?? { file, line: 1, col: 1 };
      problems.push({
        ...e.problems[0],
        location,
        excerpt: e.problems[0]?.excerpt ?? excerptAt(source, location),
      });
      return { hooks, problems };
    }
  }
  for (const d of declared) {
    if ((HOOK_NAMES as readonly string[]).includes(d.name)) continue;
    const near = nearestHook(d.name);
    if (near === undefined) continue;
    const location = { file, line: d.line, col: d.col, endLine: d.line, endCol: d.col + d.name.length };
    problems.push({
      code: "SANDBOX_UNKNOWN_HOOK",
      severity: hooks.length === 0 ? "error" : "warning",
      message: `"${d.name}" is not a hook name, so statecell will never call it`,
      remedy: `rename it to ${near} if it is meant as the ${near} hook; hooks are ${HOOK_NAMES.join(", ")}`,
      location,
      excerpt: excerptAt(source, location),
    });
  }
  if (hooks.length === 0 && !problems.some((p) => p.severity === "error")) {
    const location = { file, line: 1, col: 1 };
    problems.push({
      code: "SANDBOX_NO_HOOKS",
      severity: "error",
      message: "the file defines no hook",
      remedy: "define at least one top-level function named validate(data, ctx), transform(data, ctx) or reduce(state, data, ctx)",
      location,
      excerpt: excerptAt(source, location),
    });
  }
  return { hooks, problems };
}

function topLevelNames(source: string): Array<{ name: string; line: number; col: number }> {
  const out: Array<{ name: string; line: number; col: number }> = [];
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) lineStarts.push(i + 1);
  for (const m of source.matchAll(DECLARATION)) {
    const name = m[2];
    const at = (m.index ?? 0) + m[0].length - name.length;
    let line = 0;
    while (line + 1 < lineStarts.length && lineStarts[line + 1] <= at) line++;
    out.push({ name, line: line + 1, col: at - lineStarts[line] + 1 });
  }
  return out;
}

/** The hook a name is probably a misspelling of: same letters in another case, or 1-2 edits away. */
function nearestHook(name: string): HookName | undefined {
  const lower = name.toLowerCase();
  for (const h of HOOK_NAMES) {
    // reduce is short: two edits would also catch ordinary words like "reuse".
    const maxEdits = h.length >= 8 ? 2 : 1;
    if (lower === h || editDistance(lower, h) <= maxEdits) return h;
  }
  return undefined;
}

