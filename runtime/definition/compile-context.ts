/**
 * What every per-key compiler of a channel shares: the document, the file's
 * reporter, the channel's expression and schema compilers, and the names the
 * document defines (so a reference can be checked before what it names is
 * compiled). Built once per load by compileChannel; read-only for the passes.
 */
import type { Json } from "../core/canonical.js";
import type { Problem } from "../core/errors.js";
import type { SchemaCompiler } from "./compile-schemas.js";
import type { Expressions } from "./expressions.js";
import type { SchemaPlan } from "./plan.js";
import type { DocPath, Reporter } from "./reporter.js";

/** A JSON object of the document. */
export type Obj = { [k: string]: Json };
/** True for a JSON object (not null, not a list). */
export const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
/** The entries of `v` when it is an object, else none (passes read what they can of a malformed document). */
export const entries = (v: Json | undefined): Array<[string, Json]> => (isObj(v) ? Object.entries(v) : []);
/** `v` when it is a number, else `fallback`. */
export const num = (v: Json | undefined, fallback: number): number => (typeof v === "number" ? v : fallback);
/** The keys of `v` when it is an object, else none. */
export const keysOf = (v: Json | undefined): Set<string> => new Set(isObj(v) ? Object.keys(v) : []);

/** Collaborators injected by the caller (the pure core does no I/O). */
export interface LoadModules {
  /** Reads a code file (posix path, resolved against the channel file's folder); undefined when it does not exist. */
  readFile?: (path: string) => string | undefined;
  /**
   * The sandbox's static check of a code file: the hooks it defines and its
   * problems. Called once per distinct file content in a load; `opts.timeMs`
   * is what is left of the channel's budget for code checks (MAX_CODE_CHECK_MS),
   * for a checker that can stop a file's top level sooner than its own limit.
   */
  checkCode?: (source: string, file: string, opts?: { timeMs: number }) => { hooks: readonly string[]; problems: readonly Problem[] };
  /** A monotonic clock in milliseconds, for the code-check budget; default `performance.now`. */
  now?: () => number;
  /**
   * Error codes a verdict can carry that tests may expect, besides VERDICT_CODES
   * (for a caller whose cells or sandbox report codes this module does not list yet).
   */
  verdictCodes?: Iterable<string>;
}

/** The names a document defines, read before anything is compiled. */
export interface DocumentNames {
  groups: ReadonlySet<string>;
  schemas: ReadonlySet<string>;
  cells: ReadonlySet<string>;
  /** Each cell's operation names as written; absent for a cell without `operations:`. */
  operations: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Shared by the passes of one channel's compilation. */
export interface CompileContext {
  readonly doc: Obj;
  /** The channel file as given to the loader. */
  readonly file: string;
  readonly reporter: Reporter;
  readonly modules: LoadModules;
  readonly exprs: Expressions;
  readonly schemas: SchemaCompiler;
  /** The named schemas that compiled (compiled before anything that accepts them). */
  readonly namedSchemas: Readonly<Record<string, SchemaPlan>>;
  readonly names: DocumentNames;
  /** True when the channel declares a token (expressions reading `token` are warned about otherwise). */
  readonly hasToken: boolean;
}

/** The names of `doc`: groups, schemas, cells and each cell's operations. */
export function documentNames(doc: Obj): DocumentNames {
  const operations = new Map<string, ReadonlySet<string>>();
  for (const [name, c] of entries(doc.cells)) if (isObj(c) && isObj(c.operations)) operations.set(name, keysOf(c.operations));
  return { groups: keysOf(doc.groups), schemas: keysOf(doc.schemas), cells: keysOf(doc.cells), operations };
}

/** Warns when `expr` reads `token` in a channel without one. */
export function warnTokenRead(ctx: CompileContext, expr: Json, path: DocPath): void {
  if (ctx.hasToken || !ctx.exprs.varRoots(expr).has("token")) return;
  ctx.reporter.warn("DEFINITION_NO_TOKEN", path, "this expression reads `token`, but the channel declares no token, so it is always null", "add a `token:` section, or drop the reference");
}
