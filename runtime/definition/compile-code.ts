/**
 * A cell's `code:` to a CodePlan: the file read through the injected reader,
 * hashed, checked once per content by the injected sandbox checker within the
 * channel's budget for code checks, and the refusals its hooks may return by
 * name (`code: { file, rejects: { NAME: sentence } }`).
 */
import { posix } from "node:path";
import type { Json } from "../core/canonical.js";
import type { Problem, SourceLocation } from "../core/errors.js";
import { sha256Hex } from "../core/hash.js";
import { entries, isObj, type CompileContext } from "./compile-context.js";
import type { CodePlan } from "./plan.js";
import type { DocPath } from "./reporter.js";
import { formatCount } from "./suggest.js";

/**
 * Most milliseconds the code checks of one channel may take together. The
 * sandbox gives each file's top level 1 s, so 40 distinct files whose top
 * level loops would take 40 s; with this budget a load stops checking after
 * about 3 s (+ the file under way) and names the files left unchecked. A
 * trivial file takes 50-100 ms to check on this project's machine.
 */
export const MAX_CODE_CHECK_MS = 3_000;

const HOOKS = ["validate", "transform", "reduce"] as const;

/** The code files of one channel: each content checked once, all within MAX_CODE_CHECK_MS. */
export class CodeFiles {
  /** Code checks by content hash: a file named by many cells (or two files with the same text) is checked once. */
  private readonly checked = new Map<string, { file: string; hooks: readonly string[]; problems: readonly Problem[] }>();
  private readonly reported = new Set<string>();
  private spentMs = 0;
  /** Normalised relative path to sha256, for the plan hash. */
  readonly hashes: Record<string, string> = {};

  constructor(private readonly ctx: CompileContext) {}

  /**
   * The CodePlan of `code:` as written at `path` (a path, or `{ file, rejects }`),
   * or undefined after reporting why not.
   */
  compile(written: Json, path: DocPath): CodePlan | undefined {
    const file = typeof written === "string" ? written : isObj(written) && typeof written.file === "string" ? written.file : undefined;
    if (file === undefined) return undefined;
    const at = typeof written === "string" ? path : [...path, "file"];
    const code = this.read(file, at);
    if (!code) return undefined;
    // Keyed by the normalised relative path: the same on every machine, wherever the channel folder is.
    this.hashes[posix.normalize(code.path.replace(/\\/g, "/"))] = code.sha256;
    const rejects: Record<string, string> = {};
    if (isObj(written)) for (const [name, sentence] of entries(written.rejects)) if (typeof sentence === "string") rejects[name] = sentence;
    return { ...code, rejects };
  }

  private read(written: string, path: DocPath): Omit<CodePlan, "rejects"> | undefined {
    const { modules, reporter } = this.ctx;
    // Posix paths on every platform, so the plan (and its hash) does not depend on the OS.
    const relative = posix.normalize(written.replace(/\\/g, "/"));
    const resolved = posix.normalize(posix.join(posix.dirname(this.ctx.file.replace(/\\/g, "/")), relative));
    const source = modules.readFile ? modules.readFile(resolved) : undefined;
    if (source === undefined) {
      reporter.error(
        "DEFINITION_CODE_NOT_FOUND",
        path,
        modules.readFile ? `code file "${written}" not found (looked for ${resolved})` : `code file "${written}" cannot be read: no file reader was given to the loader`,
        "fix the path; it is relative to the folder of the channel file",
      );
      return undefined;
    }
    const sha256 = sha256Hex(new TextEncoder().encode(source));
    let hooks: Array<(typeof HOOKS)[number]>;
    if (modules.checkCode) {
      const found = this.check(source, sha256, written, resolved, path);
      if (!found) return undefined;
      hooks = HOOKS.filter((h) => found.includes(h));
    } else {
      // Without the sandbox's checker, find top-level hook functions by their declarations.
      const found = new Set<string>();
      for (const m of source.matchAll(/^[ \t]*(?:export\s+)?(?:async\s+)?function\s*\*?\s*(validate|transform|reduce)\s*\(/gm)) found.add(m[1]);
      hooks = HOOKS.filter((h) => found.has(h));
    }
    if (hooks.length === 0) {
      reporter.warn("DEFINITION_NO_HOOKS", path, `code file "${written}" defines none of validate, transform or reduce`, "define `function validate(data, ctx)`, `transform` or `reduce` at the top level");
    }
    return { path: written, resolved, source, sha256, hooks };
  }

  /** The hooks the sandbox finds in the file, its problems reported once per path; undefined when the budget is spent. */
  private check(source: string, sha256: string, written: string, resolved: string, path: DocPath): readonly string[] | undefined {
    const { modules, reporter } = this.ctx;
    const checkCode = modules.checkCode;
    if (!checkCode) return [];
    let checked = this.checked.get(sha256);
    if (!checked) {
      if (this.spentMs >= MAX_CODE_CHECK_MS) {
        reporter.error(
          "DEFINITION_CODE_BUDGET",
          path,
          `code file "${written}" was not checked: the code checks of this channel ran past their budget of ${formatCount(MAX_CODE_CHECK_MS)} ms for all its code files together`,
          "keep each code file's top level to constants and function declarations (it runs when the file is checked, and the work belongs in the hooks), or use fewer code files; a file named by several cells is checked once",
        );
        return undefined;
      }
      const now = modules.now ?? (() => performance.now());
      const started = now();
      const result = checkCode(source, resolved, { timeMs: MAX_CODE_CHECK_MS - this.spentMs });
      this.spentMs += Math.max(0, now() - started);
      checked = { file: resolved, hooks: result.hooks, problems: result.problems };
      this.checked.set(sha256, checked);
    }
    // A file's problems are reported once, at the first cell naming it; the same text under another path, at that path.
    const key = `${sha256}\u0000${resolved}`;
    const origin = checked.file;
    const relocate = (loc: SourceLocation): SourceLocation => (origin === resolved || loc.file !== origin ? loc : { ...loc, file: resolved });
    for (const p of this.reported.has(key) ? [] : checked.problems) {
      if (p.location) reporter.problems.push({ ...p, location: relocate(p.location), path: `${path.map(String).join(".")}` });
      else reporter.add(p.severity, p.code, path, p.message, p.remedy ?? "fix the code file");
    }
    this.reported.add(key);
    return checked.hooks;
  }
}
