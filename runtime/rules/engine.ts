/**
 * createRuleEngine: one json-logic-engine instance per channel, stripped to the
 * vetted operators and extended with statecell's (see operators.ts). Compiles
 * once at load (DESIGN.md "compile once, run many"); evaluation never touches
 * a global registry, a clock or inherited properties.
 */
import { LogicEngine, Constants } from "json-logic-engine";
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type {
  CheckOptions,
  CompiledExpr,
  CompiledRule,
  CompiledTemplate,
  RuleContext,
  RuleEngine,
  RuleEngineOptions,
  RuleProblem,
} from "./types.js";
import { ITERATORS, KEPT_BUILTINS, WORK_OPERATOR, charge, statecellMethods, type RootSlot } from "./operators.js";
import { checkExpression } from "./check.js";
import { isComputedPath, ownProperty, parseComputedPath, placeholderSegment, resolveSegments, splitPath } from "./paths.js";
import { toJsonResult, toRuntimeError } from "./json-result.js";
import { describeExpression } from "./describe.js";
import { checkTemplateText, compileTemplateText } from "./template.js";
import { isTruthy } from "./truthy.js";
import { COMPARE_TWO, COMPARISON_OPERATORS, comparator } from "./compare.js";
import { ARITHMETIC, MAX_EXACT_INTEGER, spread } from "./arithmetic.js";

/** The library's marker for synchronous functions spliced into compiled code. */
const SYNC = Constants.Sync as symbol;

/** What json-logic-engine's compiler hands to a method's `compile`. */
interface BuildState {
  /** Set by the library while it builds the body of map/filter/all/some/none. */
  iteratorCompile?: boolean;
  compile: (strings: TemplateStringsArray, ...items: unknown[]) => unknown;
}

/**
 * Creates a channel's rule engine.
 *
 * @example
 * const rules = createRuleEngine({ params: { max: 500 } });
 * const ok = rules.compileRule({ "<=": [{ var: "data.pm25" }, { var: "channel.params.max" }] });
 * ok(ctx); // true or false; throws StatecellError RULES_RUNTIME on a fault
 * @throws never; compile* throw StatecellError with the problems `check` reports.
 */
export function createRuleEngine(opts: RuleEngineOptions = {}): RuleEngine {
  const slot: RootSlot = { root: null, work: 0 };
  const logic = buildLogicEngine(slot);
  const operators = Object.freeze(Object.keys(logic.methods).filter((op) => op !== WORK_OPERATOR).sort());
  const params = opts.params;

  /**
   * Static checks, then a trial build: json-logic-engine folds literal arguments
   * of arithmetic while compiling (1/0 fails there), so `check` reports exactly
   * what would make `compile` throw.
   */
  const analyze = (expr: Json, checkOpts?: CheckOptions): { problems: RuleProblem[]; fn?: (ctx: unknown) => unknown } => {
    const problems = checkExpression(expr, operators, params, checkOpts);
    if (problems.length > 0) return { problems };
    try {
      // A private copy: the compiled code keeps references to literal parts, and the
      // caller's expression must not be able to change a compiled rule afterwards.
      return { problems, fn: logic.build(prepare(expr)) as (ctx: unknown) => unknown };
    } catch (e: unknown) {
      return {
        problems: [
          {
            code: "RULES_BAD_ARGUMENTS",
            message: `the expression cannot be compiled: ${errorText(e)}`,
            remedy: "use arguments of the right type (numbers for arithmetic, no division by a constant 0)",
            path: locateBuildFailure(logic, expr, []) ?? [],
          },
        ],
      };
    }
  };

  const check = (expr: Json, checkOpts?: CheckOptions): RuleProblem[] => analyze(expr, checkOpts).problems;

  const build = (expr: Json, what: string, checkOpts?: CheckOptions): ((ctx: unknown) => unknown) => {
    const { problems, fn } = analyze(expr, checkOpts);
    if (fn === undefined) throw problemsError(problems, what);
    return fn;
  };

  const compile = (expr: Json, checkOpts?: CheckOptions): CompiledExpr => {
    const fn = build(expr, "expression", checkOpts);
    return (ctx: RuleContext): Json => toJsonResult(evaluate(slot, fn, ctx));
  };

  const compileRule = (expr: Json, checkOpts?: CheckOptions): CompiledRule => {
    const fn = build(expr, "rule", checkOpts);
    // Truthiness needs no copy of the result; a number compile() would refuse (not
    // finite, or beyond ±(2^53 − 1)) is still a fault.
    return (ctx: RuleContext): boolean => {
      const r = evaluate(slot, fn, ctx);
      if (typeof r === "number" && !(r <= MAX_EXACT_INTEGER && r >= -MAX_EXACT_INTEGER)) toJsonResult(r);
      return isTruthy(r);
    };
  };

  return Object.freeze({
    compile,
    compileRule,
    check,
    describe: (expr: Json): string => describeExpression(expr, params),
    compileTemplate: (text: string, checkOpts?: CheckOptions): CompiledTemplate => {
      const problems = checkTemplateText(text, check, checkOpts);
      if (problems.length > 0) throw problemsError(problems, "template");
      return compileTemplateText(text, (path) => {
        const fn = build({ var: path }, "template", checkOpts);
        return {
          expr: (ctx: RuleContext): Json => toJsonResult(evaluate(slot, fn, ctx)),
          // Messages read the value as it is (no copy): rendering encodes only what fits its cap.
          raw: (ctx: RuleContext): unknown => evaluate(slot, fn, ctx),
        };
      });
    },
    checkTemplate: (text: string, checkOpts?: CheckOptions): RuleProblem[] => checkTemplateText(text, check, checkOpts),
    operators,
  });
}

/**
 * Runs a compiled function with the slot set: date helpers read block.time from
 * it, and the work budget starts at zero. Saved and restored, so an evaluation
 * started inside another (a template rendered while a rule runs) cannot disturb it.
 */
function evaluate(slot: RootSlot, fn: (ctx: unknown) => unknown, ctx: RuleContext): unknown {
  const prevRoot = slot.root;
  const prevWork = slot.work;
  slot.root = ctx;
  slot.work = 0;
  try {
    return fn(ctx);
  } catch (e: unknown) {
    throw toRuntimeError(e);
  } finally {
    slot.root = prevRoot;
    slot.work = prevWork;
  }
}

function buildLogicEngine(slot: RootSlot): LogicEngine {
  // disableInline: no constant folding at build time, so a constant fault (1/0) is
  // a RULES_RUNTIME at evaluation like any other, and nothing runs at load.
  // disableInterpretedOptimization: the interpreter fallback (used by a few lazy
  // operators) keeps no cache keyed on expression objects.
  const engine = new LogicEngine(undefined, {
    disableInline: true,
    disableInterpretedOptimization: true,
    maxDepth: 0,
    maxArrayLength: 1 << 15,
    maxStringLength: 1 << 16,
  });
  // A null-prototype table: `engine.methods["toString"]` or `["__proto__"]` must
  // not find Object.prototype's members when an operator name is looked up.
  const table = Object.create(null) as Record<string, unknown>;
  for (const name of KEPT_BUILTINS) table[name] = (engine.methods as Record<string, unknown>)[name];
  engine.methods = table;
  // json-logic truthiness (jsonlogic.com/truthy): only false, 0, "", null and [] are false.
  // The library's own treats {} as false and reads value.constructor, which data controls.
  engine.truthy = isTruthy;

  const table2 = engine.methods as Record<string, Record<string, unknown>>;
  for (const [name, method] of Object.entries(statecellMethods(slot))) {
    engine.addMethod(name, method, { deterministic: false });
    // Arguments exactly as written: a list is the argument list, anything else is the
    // one argument. The library's default spreads a single argument that evaluates to
    // a list ({length: {var: xs}} would measure xs[0]), which json-logic-js does not do.
    const call = Object.assign((args: unknown[], ctx: unknown) => method(args, ctx), { [SYNC]: true });
    table2[name].compile = (data: unknown, buildState: BuildState): unknown =>
      Array.isArray(data) ? buildState.compile`${call}(${data}, context)` : buildState.compile`${call}([${data}], context)`;
  }
  // Arithmetic compiles to calls of arithmetic.ts (statecell's checks and messages, the
  // engine's semantics): two operands to a direct call, a list to a call on the list, and
  // a single argument that is not a list (`+: {var: xs}`) to the items it evaluates to.
  for (const [op, impl] of Object.entries(ARITHMETIC)) {
    engine.addMethod(op, (args: unknown) => impl.list(Array.isArray(args) ? args : [args]), { deterministic: false });
    const one = op === "+" || op === "-" || op === "*" ? Object.assign((v: unknown) => spread(op, v), { [SYNC]: true }) : undefined;
    table2[op].compile = (data: unknown, buildState: BuildState): unknown => {
      if (!Array.isArray(data)) return one !== undefined ? buildState.compile`${one}(${data})` : buildState.compile`${impl.list}([${data}])`;
      if (data.length === 2 && impl.two !== undefined) return buildState.compile`${impl.two}(${data[0]}, ${data[1]})`;
      return buildState.compile`${impl.list}(${data})`;
    };
  }
  // Comparisons compile to a call: the engine's generated code shares one variable
  // between operands (see compare.ts). A new method object, so the library's
  // shared defaults are not modified.
  for (const op of COMPARISON_OPERATORS) {
    const two = COMPARE_TWO[op]; // marked synchronous in compare.ts
    const chain = Object.assign(comparator(op), { [SYNC]: true });
    table2[op] = {
      ...table2[op],
      compile: (data: unknown, buildState: BuildState): unknown => {
        if (!Array.isArray(data) || data.length < 2) return false;
        if (data.length === 2) return buildState.compile`${two}(${data[0]}, ${data[1]})`;
        return buildState.compile`${chain}(${data})`;
      },
    };
  }
  // var with a literal path compiles to an inline own-property walk: generated code
  // gets its own inline caches per path (a shared walker function measured ~4x slower).
  // `prev` is assigned and read with no other expression evaluated in between, so the
  // sharing problem of compare.ts cannot arise; the default is evaluated after the walk.
  // The inline walk steps through objects and lists only. When it stops at text (a
  // path such as data.s.length or data.s.0), `prev` holds that text and the path is
  // walked again by resolveSegments, which counts code points (text.ts): only paths
  // into text pay for the second walk.
  const chargeSlot = (n: number): void => charge(slot, n);
  const generic = table2.var.compile as (data: unknown, buildState: BuildState) => unknown;
  table2.var.compile = (data: unknown, buildState: BuildState): unknown => {
    if (!Array.isArray(data) || data.length > 2) return generic(data, buildState);
    const path: unknown = data[0];
    if (typeof path !== "string" && typeof path !== "number") return generic(data, buildState);
    if (path === "") return generic(data, buildState);
    if (isComputedPath(path)) return compileComputedVar(path, data.length > 1 ? data[1] : null, buildState, chargeSlot);
    const segments = splitPath(path); // forbidden segments were refused by check()
    const notFound = data.length > 1 ? data[1] : null;
    // The top-level context (RuleContext, or reduce's {current, accumulator}) is built by
    // statecell with every root as an own key, so its first step needs no own-property
    // test; an iterator's item is data, so there every step is tested.
    let walk = buildState.iteratorCompile
      ? buildState.compile`${ownProperty}(prev = context, ${segments[0]})`
      : buildState.compile`(prev = context) != null`;
    for (let i = 1; i < segments.length; i++) {
      walk = buildState.compile`${walk} && ${ownProperty}(prev = prev[${segments[i - 1]}], ${segments[i]})`;
    }
    const throughText = Object.assign((ctx: unknown): unknown => resolveSegments(ctx, segments, undefined, chargeSlot), { [SYNC]: true });
    return buildState.compile`((${walk} && (prev = prev[${segments[segments.length - 1]}]) !== undefined) ? prev : (typeof prev === "string" && (prev = ${throughText}(context)) !== undefined) ? prev : ${notFound})`;
  };
  return engine;
}

/**
 * A computed `var` path (`state.nfts.{data.collection}.{data.token}.owner`),
 * parsed once here. The placeholders are plain var paths, compiled like any
 * other and evaluated first, each through placeholderSegment; then the same
 * inline own-property walk as a plain path runs with their segments as keys:
 *
 *   ((k1, k2) => (k1 !== undefined && k2 !== undefined ? WALK : (prev = null) !== null) ? prev
 *     : (typeof prev === "string" && (prev = TEXT(context, k1, k2)) !== undefined) ? prev : DEFAULT)(SEG(P1), SEG(P2))
 *
 * A value that fills no segment (null, a list, a forbidden name...) makes the
 * path name nothing, so the default applies (null without one): a placeholder
 * can never fault a read, reach a prototype, or be split on its dots. The
 * arrow function holds the keys (generated code has one variable, `prev`, which
 * the placeholders use themselves); the walk gets its own inline caches as a
 * plain path does. Measured: a rule reading a two-placeholder path costs ~90 ns
 * per evaluation, the same rule on a plain path ~37 ns and one that also reads
 * the two placeholders as plain vars ~66 ns; the rest is the lookups by keys
 * known only at run time. check() has refused malformed paths, forbidden literal
 * segments and a placeholder in first position outside an iterator.
 */
function compileComputedVar(path: string, notFound: unknown, buildState: BuildState, chargeSlot: (n: number) => void): unknown {
  const parsed = parseComputedPath(path);
  if (!parsed.ok) throw new Error("unchecked computed path"); // unreachable: check() refuses it first
  const parts = parsed.parts;
  const keyOf: unknown[] = []; // per segment: its literal text, or the compiled key variable
  const names: string[] = [];
  const values: unknown[] = [];
  for (const part of parts) {
    if ("literal" in part) {
      keyOf.push(part.literal);
      continue;
    }
    const name = `k${names.length}`;
    names.push(name);
    values.push(buildState.compile`${placeholderSegment}(${{ var: part.placeholder }})`);
    keyOf.push(buildState.compile([name] as unknown as TemplateStringsArray));
  }
  const join = (items: unknown[], sep: string): unknown =>
    buildState.compile(["", ...items.slice(1).map(() => sep), ""] as unknown as TemplateStringsArray, ...items);
  const keysOk = join(names.map((n) => buildState.compile([`${n} !== undefined`] as unknown as TemplateStringsArray)), " && ");
  let walk = buildState.iteratorCompile
    ? buildState.compile`${ownProperty}(prev = context, ${keyOf[0]})`
    : buildState.compile`(prev = context) != null`;
  for (let i = 1; i < keyOf.length; i++) {
    walk = buildState.compile`${walk} && ${ownProperty}(prev = prev[${keyOf[i - 1]}], ${keyOf[i]})`;
  }
  // The walk stopped at text (data.s.{data.i}): read code points, as a plain path does.
  const literals = keyOf.map((k) => (typeof k === "string" ? k : undefined));
  const throughText = Object.assign(
    (ctx: unknown, ...keys: string[]): unknown => {
      const segments: string[] = [];
      let j = 0;
      for (const l of literals) segments.push(l !== undefined ? l : keys[j++]);
      return resolveSegments(ctx, segments, undefined, chargeSlot);
    },
    { [SYNC]: true },
  );
  const args = join(names.map((n) => buildState.compile([n] as unknown as TemplateStringsArray)), ", ");
  const arrow = buildState.compile(
    ["((", ") => ((", " ? ", " && (prev = prev[", "]) !== undefined : (prev = null) !== null) ? prev : (typeof prev === \"string\" && (prev = ", "(context, ", ")) !== undefined) ? prev : ", "))("] as unknown as TemplateStringsArray,
    args, keysOk, walk, keyOf[keyOf.length - 1], throughText, args, notFound,
  );
  return buildState.compile(["", "", ")"] as unknown as TemplateStringsArray, arrow, join(values, ", "));
}

/**
 * The path of the innermost operator that fails to build on its own (only
 * called once a build failed, so the cost is paid on errors only). Arguments
 * are tried before their operator, so the path names `{"/": [x, 0]}`, not the
 * rule around it.
 */
function locateBuildFailure(logic: LogicEngine, expr: Json, path: ReadonlyArray<string | number>): ReadonlyArray<string | number> | undefined {
  if (expr === null || typeof expr !== "object") return undefined;
  if (Array.isArray(expr)) {
    for (let i = 0; i < expr.length; i++) {
      const found = locateBuildFailure(logic, expr[i], [...path, i]);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  const keys = Object.keys(expr);
  if (keys.length !== 1 || keys[0] === "preserve") return undefined;
  const op = keys[0];
  const args = expr[op];
  const inner = Array.isArray(args) ? locateBuildFailure(logic, args, [...path, op]) : locateBuildFailure(logic, args, [...path, op]);
  if (inner !== undefined) return inner;
  try {
    logic.build(prepare(expr));
    return undefined;
  } catch {
    return [...path, op];
  }
}

function problemsError(problems: RuleProblem[], what: string): StatecellError {
  const first = problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
  return new StatecellError(first.code, `${first.message}${more}`, {
    remedy: first.remedy,
    payload: { problems, what },
    problems: problems.map((p) => ({
      code: p.code,
      severity: "error" as const,
      message: p.message,
      remedy: p.remedy,
      path: p.path.map(String).join("."),
    })),
  });
}

/**
 * A private deep copy (through JSON text: own "__proto__" keys stay own keys, as
 * JSON.parse defines them), with iterator lists wrapped in the work-budget
 * operator and `if` of one or two arguments rewritten to the three-argument form. json-logic-engine compiles only `if` with 3+ arguments
 * and interprets the others, and its interpreter passes arguments differently;
 * the rewrite keeps every checked expression on the compiled path.
 */
function prepare(expr: Json): Json {
  const copy = JSON.parse(JSON.stringify(expr)) as Json;
  const fix = (v: Json): Json => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = fix(v[i]);
      return v;
    }
    const keys = Object.keys(v);
    if (keys.length !== 1 || keys[0] === "preserve") return v;
    const op = keys[0];
    const args = v[op];
    if ((op === "if" || op === "?:") && Array.isArray(args)) {
      if (args.length === 1) return fix(args[0]); // {if: [x]} is x
      if (args.length === 2) args.push(null); // {if: [c, a]} is {if: [c, a, null]}
    }
    // An iterator's list is checked and charged to the work budget before it is walked.
    if ((ITERATORS.has(op) || op === "reduce") && Array.isArray(args) && args.length > 0) {
      args[0] = { [WORK_OPERATOR]: [args[0], op, args.length > 2] };
    }
    v[op] = fix(args);
    return v;
  };
  return fix(copy);
}

/**
 * Why a trial build failed, in statecell's words (never the library's text:
 * it changes between versions). check() catches every known cause first, so
 * this is a fallback.
 */
function errorText(e: unknown): string {
  if (typeof e === "number" && Number.isNaN(e)) return "a constant argument is not a number, or divides by zero";
  return "an operator's arguments have a shape it cannot take";
}
