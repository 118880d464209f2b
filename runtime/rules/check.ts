/**
 * Static checks of a json-logic expression, collected (not thrown one at a
 * time) so the definition loader can report every problem of a channel file
 * with its YAML position: each problem's `path` is the JSON path (keys and
 * indices) of the offending node inside the expression.
 */
import type { Json } from "../core/canonical.js";
import { CONTEXT_ROOTS, type CheckOptions, type RuleProblem } from "./types.js";
import { ARITY, ITERATORS } from "./operators.js";
import { FORBIDDEN_SEGMENTS, isComputedPath, parseComputedPath, splitPath } from "./paths.js";
import { closest } from "./suggest.js";
import { preview } from "./text.js";

/** Deepest nesting of lists and objects an expression may have (same default as input limits). */
export const MAX_EXPRESSION_DEPTH = 32;
/** Most JSON nodes (values, lists, objects) an expression may have. */
export const MAX_EXPRESSION_NODES = 2000;

type Path = ReadonlyArray<string | number>;

/** Where a `var` path is resolved: against the rule context, an iterator's item, or reduce's {current, accumulator}. */
type Scope = "root" | "item" | "reduce";

/** Operators whose arguments must be written as a list. */
const LIST_ARGUMENTS: ReadonlySet<string> = new Set([
  "and", "or", "if", "?:", "??", "==", "===", "!=", "!==", "<", "<=", ">", ">=",
  "map", "filter", "all", "some", "none", "reduce", "in", "substr", "startsWith", "endsWith", "missing_some",
  "/", "%", "min", "max",
]);

const REDUCE_ROOTS = ["current", "accumulator"] as const;

/** Operators whose literal operands are checked (see checkArithmeticLiterals). */
const ARITHMETIC_OPERATORS: ReadonlySet<string> = new Set(["+", "-", "*", "/", "%"]);

interface Walk {
  operators: ReadonlySet<string>;
  operatorList: readonly string[];
  roots: readonly string[];
  params: Json | undefined;
  problems: RuleProblem[];
}

/** Runs every static check; see docs/errors.md for the codes. */
export function checkExpression(
  expr: Json,
  operators: readonly string[],
  params: Json | undefined,
  opts: CheckOptions = {},
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const size = measure(expr);
  if (size.nodes > MAX_EXPRESSION_NODES) {
    problems.push({
      code: "RULES_TOO_LARGE",
      message: `the expression has more than ${MAX_EXPRESSION_NODES} nodes`,
      remedy: "split it into several rules, or move the logic into a code hook",
      path: [],
    });
    return problems;
  }
  if (size.deepPath !== undefined) {
    problems.push({
      code: "RULES_TOO_DEEP",
      message: `the expression nests deeper than ${MAX_EXPRESSION_DEPTH} levels`,
      remedy: "flatten it: and/or take many arguments, and several rules are checked in order",
      path: size.deepPath,
    });
  }
  if (size.notJson !== undefined) {
    problems.push({
      code: "RULES_BAD_ARGUMENTS",
      message: `${size.notJson.what} is not a JSON value`,
      remedy: "use only null, booleans, finite numbers, text, lists and objects",
      path: size.notJson.path,
    });
    return problems;
  }
  const w: Walk = {
    operators: new Set(operators),
    operatorList: operators,
    roots: opts.roots ?? CONTEXT_ROOTS,
    params,
    problems,
  };
  walk(w, expr, [], "root", 1);
  return problems;
}

/**
 * Counts nodes, finds the first container deeper than the limit and the first
 * value JSON cannot carry (YAML's .nan and .inf, or undefined from a caller),
 * without recursion.
 */
function measure(expr: Json): { nodes: number; deepPath: Path | undefined; notJson: { path: Path; what: string } | undefined } {
  let nodes = 0;
  let deepPath: Path | undefined;
  let notJson: { path: Path; what: string } | undefined;
  const stack: Array<{ v: Json; path: Path; depth: number }> = [{ v: expr, path: [], depth: 1 }];
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    nodes++;
    if (nodes > MAX_EXPRESSION_NODES) break;
    const t = typeof v as string;
    if (notJson === undefined && (t === "undefined" || t === "function" || t === "symbol" || t === "bigint" || (t === "number" && !Number.isFinite(v)))) {
      notJson = { path, what: t === "number" ? String(v) : `a ${t}` };
    }
    if (v === null || typeof v !== "object") continue;
    if (depth > MAX_EXPRESSION_DEPTH) {
      if (deepPath === undefined || path.length < deepPath.length) deepPath = path;
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], path: [...path, i], depth: depth + 1 });
    } else {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) stack.push({ v: v[keys[i]], path: [...path, keys[i]], depth: depth + 1 });
    }
  }
  return { nodes, deepPath, notJson };
}

function walk(w: Walk, node: Json, path: Path, scope: Scope, depth: number): void {
  if (depth > MAX_EXPRESSION_DEPTH || node === null || typeof node !== "object") return;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) walk(w, node[i], [...path, i], scope, depth + 1);
    return;
  }
  const keys = Object.keys(node);
  if (keys.length === 0) return; // {} is a literal empty object
  if (keys.length > 1) {
    w.problems.push({
      code: "RULES_BAD_ARGUMENTS",
      message: `an object with ${keys.length} keys (${keys.slice(0, 4).join(", ")}${keys.length > 4 ? ", ..." : ""}) is not an expression: an expression has exactly one key, its operator`,
      remedy: "write one operator per object, e.g. { and: [ ..., ... ] }, or wrap a literal object in { preserve: ... }",
      path,
    });
    for (const k of keys) walk(w, node[k], [...path, k], scope, depth + 1);
    return;
  }
  const op = keys[0];
  const raw = node[op];
  const opPath: Path = [...path, op];
  const isList = Array.isArray(raw);
  const args: Json[] = isList ? raw : [raw];
  const argPath = (i: number): Path => (isList ? [...opPath, i] : opPath);
  // `depth` counts containers: the object, then its argument list if there is one.
  const argDepth = isList ? depth + 2 : depth + 1;

  if (!w.operators.has(op)) {
    const guess = closest(op, w.operatorList);
    w.problems.push({
      code: "RULES_UNKNOWN_OPERATOR",
      message: `unknown operator "${op}"${guess === undefined ? "" : `; did you mean "${guess}"?`}`,
      remedy: guess === undefined ? `use one of: ${w.operatorList.join(", ")}` : `write "${guess}"`,
      path: opPath,
    });
    args.forEach((a, i) => walk(w, a, argPath(i), scope, argDepth));
    return;
  }
  if (op === "preserve") return; // a literal, never evaluated

  if (LIST_ARGUMENTS.has(op) && !isList) {
    badArgs(w, opPath, `${op} takes a list of arguments, got a single value`, `write ${op}: [ ..., ... ]`);
  } else {
    const arity = ARITY[op];
    if (arity !== undefined && (args.length < arity[0] || args.length > arity[1])) {
      badArgs(w, opPath, `${op} takes ${arityText(arity)}, got ${args.length}`, `give ${op} ${arityText(arity)}`);
    }
  }

  if (ARITHMETIC_OPERATORS.has(op)) checkArithmeticLiterals(w, op, args, opPath);

  switch (op) {
    case "var":
      checkVar(w, args, isList, opPath, argPath, scope, argDepth);
      return;
    case "missing": {
      // missing: ["a", "b"] or missing: [{merge: ...}] (a computed list).
      args.forEach((a, i) => {
        if (typeof a === "string" || typeof a === "number") checkMissingPath(w, op, a, argPath(i), scope);
        else walk(w, a, argPath(i), scope, argDepth);
      });
      return;
    }
    case "missing_some": {
      walk(w, args[0] ?? null, argPath(0), scope, argDepth);
      const list = args[1];
      if (Array.isArray(list)) {
        list.forEach((a, i) => {
          const p = [...argPath(1), i];
          if (typeof a === "string" || typeof a === "number") checkMissingPath(w, op, a, p, scope);
          else walk(w, a, p, scope, argDepth + 1);
        });
      } else if (list !== undefined) {
        badArgs(w, argPath(1), "missing_some takes [count, [paths...]]", "write missing_some: [1, [data.a, data.b]]");
      }
      return;
    }
    case "reduce":
      walk(w, args[0] ?? null, argPath(0), scope, argDepth);
      walk(w, args[1] ?? null, argPath(1), "reduce", argDepth);
      if (args.length > 2) walk(w, args[2], argPath(2), scope, argDepth);
      return;
    default:
      if (ITERATORS.has(op)) {
        walk(w, args[0] ?? null, argPath(0), scope, argDepth);
        walk(w, args[1] ?? null, argPath(1), "item", argDepth);
        return;
      }
      args.forEach((a, i) => walk(w, a, argPath(i), scope, argDepth));
  }
}

function checkVar(
  w: Walk,
  args: Json[],
  isList: boolean,
  opPath: Path,
  argPath: (i: number) => Path,
  scope: Scope,
  depth: number,
): void {
  const target = args.length === 0 ? null : args[0];
  const p = args.length === 0 ? opPath : argPath(0);
  if (typeof target === "string" || typeof target === "number" || target === null) {
    checkPath(w, target ?? "", p, scope);
  } else if (Array.isArray(target) || typeof target === "boolean") {
    badArgs(w, p, `a var path must be text or a number, got ${Array.isArray(target) ? "a list" : "a boolean"}`, 'write var: data.x, or var: [data.x, default]');
  } else {
    // A computed path ({var: {cat: [...]}}): checked for forbidden segments at run time.
    walk(w, target, p, scope, depth);
  }
  if (isList && args.length > 1) walk(w, args[1], argPath(1), scope, depth);
}

/**
 * `missing` and `missing_some` read plain paths: a path with braces there would
 * be read as literal keys, not as a computed path, so it is refused.
 */
function checkMissingPath(w: Walk, op: string, raw: string | number, path: Path, scope: Scope): void {
  if (isComputedPath(raw)) {
    w.problems.push({
      code: "RULES_BAD_PATH",
      message: `${op} reads plain paths, but "${raw}" has a {placeholder}; computed paths are read by var only`,
      remedy: `test the value with var, e.g. { "==": [{ var: "${raw}" }, null] }`,
      path,
    });
    return;
  }
  checkPath(w, raw, path, scope);
}

/** Checks a `var` path: a plain one (split on every dot), or a computed one with `{placeholders}`. */
function checkPath(w: Walk, raw: string | number, path: Path, scope: Scope): void {
  if (isComputedPath(raw)) {
    checkComputedPath(w, raw, path, scope);
    return;
  }
  checkSegments(w, String(raw), splitPath(raw), path, scope, "");
}

/**
 * A computed path: its syntax (RULES_BAD_PATH), then its fixed part (the
 * literal segments: forbidden names, the root, `channel.params.X`) exactly as
 * a plain path's, then each placeholder as a plain path in the same scope.
 */
function checkComputedPath(w: Walk, raw: string, path: Path, scope: Scope): void {
  const parsed = parseComputedPath(raw);
  if (!parsed.ok) {
    w.problems.push({
      code: "RULES_BAD_PATH",
      message: parsed.message,
      remedy: "write dotted segments, each a name or one {placeholder} holding a plain path, e.g. state.nfts.{data.collection}.owner",
      path,
    });
    return;
  }
  const segments = parsed.parts.map((p) => ("literal" in p ? p.literal : undefined));
  checkSegments(w, raw, segments, path, scope, "");
  for (const part of parsed.parts) {
    if (!("placeholder" in part)) continue;
    if (isComputedPath(part.placeholder)) continue; // unreachable: the parser refuses braces in a placeholder
    checkSegments(w, part.placeholder, splitPath(part.placeholder), path, scope, ` (in the placeholder {${part.placeholder}} of "${raw}")`);
  }
}

/**
 * The checks of one path's segments; `undefined` stands for a placeholder
 * (a computed path's fixed part is checked around it). `where` ends every
 * message (it names the placeholder a problem is in).
 */
function checkSegments(w: Walk, text: string, segments: ReadonlyArray<string | undefined>, path: Path, scope: Scope, where: string): void {
  const bad = segments.find((s) => s !== undefined && FORBIDDEN_SEGMENTS.has(s));
  if (bad !== undefined) {
    w.problems.push({
      code: "RULES_FORBIDDEN_PATH",
      message: `the path "${text}" contains "${bad}", which rules may not read${where}`,
      remedy: "rename the field: __proto__, constructor and prototype are never readable",
      path,
    });
    return;
  }
  if (text.startsWith("../")) {
    badArgs(w, path, `parent-scope paths ("${text}") are not supported${where}`, "compute what you need from the outer scope before the iterator, or restructure with filter/map");
    return;
  }
  if (scope === "item") return;
  const roots: readonly string[] = scope === "reduce" ? REDUCE_ROOTS : w.roots;
  const first = segments[0];
  const where0 = scope === "reduce" ? "inside reduce, paths start with" : "paths start with";
  if (first === undefined) {
    w.problems.push({
      code: "RULES_UNKNOWN_ROOT",
      message: `"${text}" starts with a placeholder; ${where0} one of ${roots.join(", ")}, written out`,
      remedy: `start the path with one of: ${roots.join(", ")} (e.g. state.{data.k}); placeholders fill later segments`,
      path,
    });
    return;
  }
  if (text === "" || !roots.includes(first)) {
    const guess = text === "" ? undefined : closest(first, roots);
    // The first segment starts the text, so the suggestion is the text with it replaced.
    const fixed = guess === undefined ? "" : guess + text.slice(first.length);
    w.problems.push({
      code: "RULES_UNKNOWN_ROOT",
      message:
        text === ""
          ? `var "" reads the whole context; ${where0} one of ${roots.join(", ")}`
          : `"${text}" does not start with a known root${guess === undefined ? "" : `; did you mean "${fixed}"?`} (${where0} ${roots.join(", ")})${where}`,
      remedy: guess === undefined ? `start the path with one of: ${roots.join(", ")}` : `write "${fixed}"`,
      path,
    });
    return;
  }
  const name = segments[2];
  if (scope === "root" && first === "channel" && segments[1] === "params" && name !== undefined && w.params !== undefined) {
    const params = w.params;
    const known = params !== null && typeof params === "object" && !Array.isArray(params) && Object.prototype.hasOwnProperty.call(params, name);
    if (!known) {
      const names = params !== null && typeof params === "object" && !Array.isArray(params) ? Object.keys(params) : [];
      const guess = closest(name, names);
      w.problems.push({
        code: "RULES_UNKNOWN_PARAM",
        message: `the channel has no param "${name}"${guess === undefined ? "" : `; did you mean "${guess}"?`}${where}`,
        remedy: guess === undefined ? `add ${name} under params:, or use one of: ${names.join(", ") || "(none defined)"}` : `write "channel.params.${guess}"`,
        path,
      });
    }
  }
}

/**
 * Literal operands that make arithmetic fail whatever the data: a list, an
 * object, text that is not a number, a divisor that is 0. Reported at load,
 * at the operator, rather than as a RULES_RUNTIME on every input.
 */
function checkArithmeticLiterals(w: Walk, op: string, args: readonly Json[], opPath: Path): void {
  args.forEach((a, i) => {
    if (a !== null && typeof a === "object" && !Array.isArray(a) && Object.keys(a).length > 0) return; // an expression: known only at run time
    const what = Array.isArray(a) ? "a list" : a !== null && typeof a === "object" ? "an object" : typeof a === "string" && Number.isNaN(+a) ? preview(a) : undefined;
    if (what !== undefined) {
      badArgs(w, opPath, `${op} takes numbers, but argument ${i + 1} is ${what}`, "give arithmetic numbers (or numeric text); to join text, use cat");
      return;
    }
    const divisor = (op === "/" || op === "%") && (i === 1 || (op === "/" && args.length === 1));
    if (divisor && Number(a) === 0) {
      badArgs(w, opPath, `${op} divides by a constant 0 (argument ${i + 1})`, "divide by a value that cannot be 0");
    }
  });
}

function badArgs(w: Walk, path: Path, message: string, remedy: string): void {
  w.problems.push({ code: "RULES_BAD_ARGUMENTS", message, remedy, path });
}

function arityText([min, max]: readonly [number, number]): string {
  const n = (k: number): string => `${k} argument${k === 1 ? "" : "s"}`;
  if (min === max) return n(min);
  if (max === Infinity) return `at least ${n(min)}`;
  return `${min} to ${max} arguments`;
}
