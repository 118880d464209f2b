/**
 * Reading a config file (node.yaml, network.yaml) the way channel files are
 * read: the same YAML stage (runtime/definition/parse-yaml.ts: size, depth,
 * alias and duplicate-key limits, DEFINITION_* codes for YAML problems) and
 * the same located problems (`file:line:col`, the line with a caret, a
 * remedy), then a check against the file's JSON Schema (schemas/*.schema.json,
 * the files editors read) whose errors become NODE_CONFIG_* problems.
 */
import { readFileSync, statSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import type { Json } from "../../core/canonical.js";
import type { Problem } from "../../core/errors.js";
import { closest } from "../../core/suggest.js";
import { MAX_FILE_BYTES, parseYaml } from "../../definition/parse-yaml.js";
import { sortProblems, type DocPath, type Reporter } from "../../definition/reporter.js";
import { toPath, valueAt } from "../../definition/json-pointer.js";

/** What a config loader returns: the config when the file has no errors, and every problem found. */
export interface ConfigResult<T> {
  config?: T;
  problems: Problem[];
}

/** A config file read and parsed: its reporter, JSON value, and mode bits. */
export interface ReadConfig {
  reporter: Reporter;
  value?: { [k: string]: Json };
  mode: number;
}

/** The most problems one file reports (a file of 10,000 wrong entries is described by its first ones). */
const MAX_PROBLEMS = 100;

/**
 * Reads `file` and checks it against `validate` (compiled from `schema`).
 * Returns the problems alone when the file cannot be read or is not YAML.
 */
export function readConfigFile(file: string, kind: string, validate: ValidateFunction): ReadConfig | { problems: Problem[] } {
  const at = { file, line: 1, col: 1 };
  let size: number;
  let mode: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return { problems: [problem("NODE_CONFIG_NOT_FOUND", `${file} is not a file`, `name the ${kind} file (a YAML file), not a folder`, at)] };
    size = st.size;
    mode = st.mode;
  } catch (e) {
    return { problems: [problem("NODE_CONFIG_NOT_FOUND", `the ${kind} file ${file} cannot be read (${errno(e)})`, "check the path (relative paths are read from the current folder)", at)] };
  }
  if (size > MAX_FILE_BYTES) {
    return { problems: [problem("NODE_CONFIG_TOO_LARGE", `the ${kind} file is ${size} bytes; the limit is ${MAX_FILE_BYTES} bytes (1 MiB)`, "keep the file to its keys: it names other files rather than holding them", at)] };
  }
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (e) {
    return { problems: [problem("NODE_CONFIG_NOT_FOUND", `the ${kind} file ${file} cannot be read (${errno(e)})`, "check the file's permissions", at)] };
  }
  const { reporter, value } = parseYaml(source, file);
  if (value === undefined) return { reporter, mode };
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    reporter.error("NODE_CONFIG_WRONG_TYPE", [], `a ${kind} file is a mapping of keys; this one is ${describeValue(value)}`, `start from the example in schemas/${kind}.schema.json`);
    return { reporter, mode };
  }
  if (!validate(value)) reportSchemaErrors(validate.errors ?? [], value, reporter);
  return { reporter, value, mode };
}

/** The problems of a read file, in file order, with secrets masked in their excerpts. */
export function problemsOf(read: ReadConfig | { problems: Problem[] }, secretKeys: readonly string[] = []): Problem[] {
  if (!("reporter" in read)) return read.problems;
  const all = sortProblems(read.reporter.problems).slice(0, MAX_PROBLEMS);
  return secretKeys.length === 0 ? all : all.map((p) => maskSecrets(p, secretKeys));
}

/**
 * A problem whose excerpt shows a line `KEY: value` for a secret KEY gets
 * the value replaced by `***`: an error message must never carry a secret,
 * whatever the problem is about (a YAML error on that line, a wrong type).
 */
function maskSecrets(p: Problem, keys: readonly string[]): Problem {
  if (p.excerpt === undefined) return p;
  const names = keys.join("|");
  const line = new RegExp(`^(\\d+ \\| \\s*["']?(?:${names})["']?\\s*:\\s*)(\\S.*)$`, "gm");
  const excerpt = p.excerpt.replace(line, (_m, head: string) => `${head}***`);
  return excerpt === p.excerpt ? p : { ...p, excerpt };
}

/** Compiles a config schema once (strict: an unknown keyword in the schema file is a bug). */
export function compileConfigSchema(schema: object): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true, verbose: true });
  return ajv.compile(schema);
}

interface SchemaNode {
  description?: string;
  properties?: Record<string, { description?: string }>;
}

function reportSchemaErrors(errors: ErrorObject[], root: Json, reporter: Reporter): void {
  const seen = new Set<string>();
  for (const e of errors) {
    if (reporter.problems.length >= MAX_PROBLEMS) return;
    const parent = toPath(e.instancePath, root);
    const where = describePlace(parent);
    const here = valueAt(root, parent);
    const params = e.params as Record<string, unknown>;
    const schema = e.parentSchema as SchemaNode | undefined;
    const secret = parent[0] === "token";
    const propertyName = (e as { propertyName?: string }).propertyName;
    if (e.keyword === "propertyNames" || e.keyword === "if") continue;
    let code: string;
    let path: DocPath = parent;
    let message: string;
    let remedy: string;
    let anchor: "key" | "value" = "value";
    if (propertyName !== undefined) {
      code = "NODE_CONFIG_BAD_VALUE";
      path = [...parent, propertyName];
      message = `${JSON.stringify(propertyName.slice(0, 80))} is not a valid name in ${where}`;
      remedy = `rename it: ${lowerFirst(firstSentence(schema?.description ?? "letters, digits, `.`, `_` or `-`"))}`;
      anchor = "key";
    } else if (e.keyword === "additionalProperties") {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(schema?.properties ?? {});
      const guess = closest(key, allowed);
      code = "NODE_CONFIG_UNKNOWN_KEY";
      path = [...parent, key];
      message = `unknown key ${JSON.stringify(key.slice(0, 80))} in ${where}${guess ? ` (did you mean "${guess}"?)` : ""}`;
      remedy = guess ? `write "${guess}"` : `use one of: ${allowed.join(", ")}`;
      anchor = "key";
    } else if (e.keyword === "required") {
      const missing = String(params.missingProperty);
      const desc = schema?.properties?.[missing]?.description;
      code = "NODE_CONFIG_MISSING_KEY";
      message = `${where} is missing "${missing}"`;
      remedy = `add \`${missing}:\`${desc ? ` (${lowerFirst(firstSentence(desc))})` : ""}`;
      anchor = "key";
    } else if (e.keyword === "type") {
      code = "NODE_CONFIG_WRONG_TYPE";
      const want = String(params.type).split(",").map(article).join(" or ");
      message = `${where} must be ${want}, not ${secret ? "that" : describeValue(here)}`;
      remedy = want.includes("list") ? "write a list: `[a, b]` or lines starting with `- `" : want.includes("mapping") ? "write a mapping: indented `key: value` lines" : `write ${want}`;
    } else if (e.keyword === "uniqueItems") {
      code = "NODE_CONFIG_DUPLICATE";
      const later = Math.max(Number(params.i), Number(params.j));
      path = [...parent, later];
      message = `${where} lists ${secret ? "an item" : JSON.stringify(Array.isArray(here) ? here[later] : "")} twice (items ${Math.min(Number(params.i), Number(params.j)) + 1} and ${later + 1})`;
      remedy = "list each one once";
    } else {
      code = "NODE_CONFIG_BAD_VALUE";
      const got = secret ? "" : here !== undefined && typeof here !== "object" ? ` (got ${JSON.stringify(typeof here === "string" && here.length > 80 ? `${here.slice(0, 80)}…` : here)})` : "";
      message = `${where} ${ownWords(e)}${got}`;
      remedy = schema?.description ? `write ${lowerFirst(firstSentence(schema.description))}` : "see the file's schema";
    }
    const id = `${code}\u0000${path.join("\u0000")}\u0000${message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    reporter.error(code, path, message, remedy, { anchor });
  }
}

/** What a keyword requires, in the loader's words. */
function ownWords(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "pattern":
      return "is not of the required form";
    case "minLength":
      return `must be at least ${String(p.limit)} characters`;
    case "maxLength":
      return `must be at most ${String(p.limit)} characters`;
    case "minItems":
      return `must list at least ${String(p.limit)}`;
    case "minProperties":
      return `must have at least ${String(p.limit)} entr${p.limit === 1 ? "y" : "ies"}`;
    case "enum":
      return `must be one of ${((p.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(", ")}`;
    default:
      return `is not valid (${e.keyword})`;
  }
}

/** A problem of a file before its text could be read (located at its first line). */
export function problem(code: string, message: string, remedy: string, location: { file: string; line: number; col: number }): Problem {
  return { code, severity: "error", message, remedy, location };
}

/** `ENOENT`, `EACCES`: the errno of a failed file operation. */
export function errno(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : "error";
}

/** "`listen.api`", "validator \"edge-1\"", "the file": how messages name a place. */
export function describePlace(path: DocPath): string {
  if (path.length === 0) return "the file";
  if (path[0] === "validators" && path.length >= 2) {
    const base = `validator "${String(path[1]).slice(0, 80)}"`;
    return path.length === 2 ? base : `\`${path.slice(2).join(".")}\` of ${base}`;
  }
  let out = "";
  for (const seg of path) out += typeof seg === "number" ? `[${seg}]` : out === "" ? seg : `.${seg}`;
  return `\`${out}\``;
}

/** `the text "abc"`, `a list`, `a mapping`, `the integer 3`: what the file holds. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return "empty (null)";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  if (typeof v === "number") return Number.isInteger(v) ? `the integer ${v}` : `the number ${v}`;
  if (typeof v === "string") return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

function article(type: string): string {
  if (type === "object") return "a mapping";
  if (type === "array") return "a list";
  if (type === "integer") return "an integer";
  return `a ${type}`;
}

function firstSentence(text: string): string {
  const m = /^(.*?\.)(\s|$)/.exec(text);
  return (m ? m[1] : text).replace(/\.$/, "");
}

function lowerFirst(s: string): string {
  return s.length > 0 && /[A-Z][a-z]/.test(s.slice(0, 2)) ? s[0].toLowerCase() + s.slice(1) : s;
}
