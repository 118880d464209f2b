/**
 * Stage 3: a structurally checked document to a ChannelPlan. Resolves names
 * (groups, schemas, cells), thresholds, the emit pipeline, code files and
 * every json-logic expression. Written defensively: it also runs on documents
 * with structural errors (skipping what it cannot read) so one lint run shows
 * as many problems as possible.
 */
import { posix } from "node:path";
import type { Json } from "../core/canonical.js";
import type { Problem, SourceLocation } from "../core/errors.js";
import { hashJson, sha256Hex } from "../core/hash.js";
import { createRuleEngine } from "../rules/index.js";
import { createSchemaCompiler } from "./compile-schemas.js";
import { Expressions } from "./expressions.js";
import { deepFreeze } from "./freeze.js";
import { checkFanOut, type FanOutCell } from "./fan-out.js";
import { analysePipeline } from "./pipeline.js";
import type {
  CellPlan,
  ChannelPlan,
  CodePlan,
  EmitPlan,
  GroupPlan,
  RulePlan,
  SchemaPlan,
  SnapshotsPlan,
  StateUpdatePlan,
  TokenPlan,
} from "./plan.js";
import type { DocPath, Reporter } from "./reporter.js";
import { parseStatePath } from "./state-path.js";
import { didYouMean, formatCount, listSome } from "./suggest.js";
import { normaliseTests } from "./tests-plan.js";
import { resolveThreshold } from "./thresholds.js";

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
}

/**
 * Most milliseconds the code checks of one channel may take together. The
 * sandbox gives each file's top level 1 s, so 40 distinct files whose top
 * level loops would take 40 s; with this budget a load stops checking after
 * about 3 s (+ the file under way) and names the files left unchecked. A
 * trivial file takes 50-100 ms to check on this project's machine.
 */
export const MAX_CODE_CHECK_MS = 3_000;

export const DEFAULT_INPUT_LIMITS = { maxBytes: 65_536, maxDepth: 32 } as const;
export const DEFAULT_CODE_LIMITS = { memoryMb: 32, timeMs: 50, blockTimeMs: 2_000 } as const;
export const DEFAULT_OUTPUT_LIMITS = { perInput: 64, perInputBytes: 262_144, perBlock: 10_000, perBlockBytes: 16_777_216 } as const;
export const DEFAULT_BLOCK_LIMITS = { maxBytes: 786_432, maxInputs: 1_000 } as const;

type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const entries = (v: Json | undefined): Array<[string, Json]> => (isObj(v) ? Object.entries(v) : []);
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);
const HOOKS = ["validate", "transform", "reduce"] as const;
const num = (v: Json | undefined, fallback: number): number => (typeof v === "number" ? v : fallback);

/** Compiles `doc`; returns undefined when any error was reported. */
export function compileChannel(doc: Obj, file: string, reporter: Reporter, modules: LoadModules): ChannelPlan | undefined {
  const exprs = new Expressions(createRuleEngine({ params: isObj(doc.params) ? doc.params : {} }), reporter);
  const docLimits = isObj(doc.limits) ? doc.limits : {};
  const schemaCompiler = createSchemaCompiler(reporter, { maxDepth: num(docLimits.maxDepth, DEFAULT_INPUT_LIMITS.maxDepth) });
  const hasToken = isObj(doc.token);

  // Groups and thresholds.
  const groupNames = new Set(Object.keys(isObj(doc.groups) ? doc.groups : {}));
  const groups: Record<string, GroupPlan> = {};
  for (const [name, g] of entries(doc.groups)) {
    if (!isObj(g) || !Array.isArray(g.validators)) continue;
    const validators = g.validators.filter((v): v is string => typeof v === "string");
    const written = g.threshold;
    if (validators.length === 0 || (typeof written !== "number" && typeof written !== "string")) continue;
    const r = resolveThreshold(written, new Set(validators).size);
    if (!r.ok) {
      // Malformed thresholds were reported by the language check already.
      if (r.code !== "DEFINITION_BAD_VALUE") reporter.error(r.code, ["groups", name, "threshold"], `group "${name}": ${r.message}`, r.remedy);
      continue;
    }
    groups[name] = { name, validators, threshold: r.plan, ...(typeof g.description === "string" ? { description: g.description } : {}) };
  }

  // Named schemas.
  const schemaNames = new Set(Object.keys(isObj(doc.schemas) ? doc.schemas : {}));
  const schemas: Record<string, SchemaPlan> = {};
  for (const [name, s] of entries(doc.schemas)) {
    if (!isObj(s) && typeof s !== "boolean") continue;
    const compiled = schemaCompiler.compile(name, s, ["schemas", name]);
    if (compiled) schemas[name] = compiled;
  }

  // Cells.
  const cellNames = new Set(Object.keys(isObj(doc.cells) ? doc.cells : {}));
  const usedGroups = new Set<string>();
  const usedSchemas = new Set<string>();
  const cells: Record<string, Omit<CellPlan, "upstream" | "downstream">> = {};
  const edges: Array<{ from: string; to: string; path: DocPath }> = [];
  const cellRules = new Map<string, Set<string>>();
  const codeHashes: Record<string, string> = {};
  // Code checks by content hash: a file named by many cells (or two files with the same text) is checked once.
  const checkedCode = new Map<string, { file: string; hooks: readonly string[]; problems: readonly Problem[] }>();
  const reportedCode = new Set<string>();
  const now = modules.now ?? (() => performance.now());
  let codeCheckMs = 0;

  for (const [name, c] of entries(doc.cells)) {
    if (!isObj(c)) continue;
    const base = ["cells", name];
    let ok = true;
    const fail = (): undefined => {
      ok = false;
      return undefined;
    };

    // Group.
    const group = typeof c.group === "string" ? c.group : undefined;
    if (group !== undefined) {
      usedGroups.add(group);
      if (!groupNames.has(group)) {
        reporter.error("DEFINITION_UNKNOWN_GROUP", [...base, "group"], `cell "${name}" names group "${group}", which is not defined${didYouMean(group, groupNames, reporter.suggestions)}`, groupNames.size ? `use one of: ${listSome(groupNames)}` : "define the group under `groups:`");
        fail();
      }
    }

    // Accepted schema.
    let accepts: SchemaPlan | undefined;
    let schemaName: string | undefined;
    if (typeof c.accepts === "string") {
      schemaName = c.accepts;
      usedSchemas.add(c.accepts);
      if (!schemaNames.has(c.accepts)) {
        reporter.error("DEFINITION_UNKNOWN_SCHEMA", [...base, "accepts"], `cell "${name}" accepts schema "${c.accepts}", which is not defined${didYouMean(c.accepts, schemaNames, reporter.suggestions)}`, schemaNames.size ? `use one of: ${listSome(schemaNames)}, or an inline schema` : "define it under `schemas:`, or write an inline schema");
        fail();
      } else accepts = schemas[c.accepts];
    } else if (isObj(c.accepts) || typeof c.accepts === "boolean") {
      accepts = schemaCompiler.compile(`of cell ${name}`, c.accepts, [...base, "accepts"]);
    }

    // Record key.
    let key;
    if (c.key !== undefined) key = exprs.mapping(c.key, [...base, "key"]) ?? fail();

    // Rules.
    const rules: RulePlan[] = [];
    const ruleNames = new Map<string, number>();
    cellRules.set(name, new Set());
    (Array.isArray(c.rules) ? c.rules : []).forEach((r, i) => {
      if (!isObj(r) || typeof r.name !== "string") return fail();
      const path = [...base, "rules", i];
      const prior = ruleNames.get(r.name);
      cellRules.get(name)?.add(r.name);
      if (prior !== undefined) {
        reporter.error("DEFINITION_DUPLICATE_NAME", [...path, "name"], `cell "${name}" has two rules named "${r.name}" (rules ${prior + 1} and ${i + 1})`, "give each rule of a cell its own name; tests and rejections refer to it");
        fail();
      } else ruleNames.set(r.name, i);
      if (r.require === undefined) return fail();
      const compiled = exprs.rule(r.require, [...path, "require"]);
      const message = typeof r.message === "string" ? r.message : `rule ${r.name} failed`;
      const templateOk = typeof r.message === "string" ? exprs.template(r.message, [...path, "message"]) : true;
      if (!compiled || !templateOk) return fail();
      rules.push({
        name: r.name,
        require: r.require,
        message,
        compiled,
        english: exprs.engine.describe(r.require),
        location: reporter.locate(path),
        ...(typeof r.description === "string" ? { description: r.description } : {}),
      });
      if (!hasToken) tokenWarning(r.require, [...path, "require"]);
      if (c.signed !== true && exprs.varRoots(r.require).has("signer")) {
        reporter.warn("DEFINITION_SIGNER_UNSIGNED", [...path, "require"], `rule "${r.name}" reads \`signer\`, but cell "${name}" is not signed: signer is null whenever the sender did not sign`, "add `signed: true` to the cell");
      }
    });

    // Declarative state updates.
    const state: StateUpdatePlan[] = [];
    (Array.isArray(c.state) ? c.state : []).forEach((u, i) => {
      const compiled = stateUpdate(u, [...base, "state", i]);
      if (compiled) state.push(compiled);
      else fail();
    });

    // Emits.
    const emit: EmitPlan[] = [];
    (Array.isArray(c.emit) ? c.emit : []).forEach((e, i) => {
      const path = [...base, "emit", i];
      if (!isObj(e) || typeof e.to !== "string") return fail();
      if (e.to === name) {
        reporter.error("DEFINITION_EMIT_SELF", [...path, "to"], `cell "${name}" emits to itself`, "emit to another cell; to remember a value, use a `state:` update");
        return fail();
      }
      if (!cellNames.has(e.to)) {
        reporter.error("DEFINITION_UNKNOWN_CELL", [...path, "to"], `cell "${name}" emits to "${e.to}", which is not a cell${didYouMean(e.to, cellNames, reporter.suggestions)}`, `use one of: ${listSome(cellNames, { exclude: name }) || "(no other cells)"}`);
        return fail();
      }
      edges.push({ from: name, to: e.to, path: [...path, "to"] });
      const plan: EmitPlan = { to: e.to, location: reporter.locate(path) };
      if (e.when !== undefined) {
        const when = exprs.rule(e.when, [...path, "when"]);
        if (!when) return fail();
        Object.assign(plan, { when: (ctx: Parameters<typeof when>[0]) => when(ctx), whenSource: e.when });
        if (!hasToken) tokenWarning(e.when, [...path, "when"]);
      }
      if (e.data !== undefined) {
        const data = exprs.mapping(e.data, [...path, "data"]);
        if (!data) return fail();
        Object.assign(plan, { data, dataSource: e.data });
      }
      emit.push(plan);
    });

    // Code hooks.
    let code: CodePlan | undefined;
    if (typeof c.code === "string") {
      code = codeFile(c.code, [...base, "code"]) ?? fail();
      if (code) {
        // Keyed by the normalised relative path: the same on every machine, wherever the channel folder is.
        codeHashes[posix.normalize(code.path.replace(/\\/g, "/"))] = code.sha256;
        if (code.hooks.includes("reduce") && Array.isArray(c.state) && c.state.length > 0) {
          reporter.error("DEFINITION_STATE_AND_REDUCE", [...base, "state"], `cell "${name}" has \`state:\` updates and its code defines a \`reduce\` hook; a cell's state comes from one or the other`, "remove the `state:` list (and update state in reduce), or remove the reduce hook", { anchor: "key" });
          fail();
        }
      }
    }

    const limits = isObj(c.limits) ? c.limits : {};
    if (!ok || !accepts || group === undefined) continue;
    cells[name] = {
      name,
      group,
      accepts,
      signed: c.signed === true,
      direct: c.direct === true,
      rules,
      state,
      emit,
      limits: {
        memoryMb: typeof limits.memoryMb === "number" ? limits.memoryMb : DEFAULT_CODE_LIMITS.memoryMb,
        timeMs: typeof limits.timeMs === "number" ? limits.timeMs : DEFAULT_CODE_LIMITS.timeMs,
        blockTimeMs: typeof limits.blockTimeMs === "number" ? limits.blockTimeMs : DEFAULT_CODE_LIMITS.blockTimeMs,
      },
      ...(typeof c.description === "string" ? { description: c.description } : {}),
      ...(schemaName !== undefined ? { schemaName } : {}),
      ...(key ? { key, keySource: c.key as Json } : {}),
      ...(code ? { code } : {}),
    };
  }

  const pipeline = analysePipeline([...cellNames], edges, reporter);
  const inputLimits = {
    maxBytes: num(docLimits.maxInputBytes, DEFAULT_INPUT_LIMITS.maxBytes),
    maxDepth: num(docLimits.maxDepth, DEFAULT_INPUT_LIMITS.maxDepth),
  };
  const outputLimits = {
    perInput: num(docLimits.maxOutputsPerInput, DEFAULT_OUTPUT_LIMITS.perInput),
    perInputBytes: num(docLimits.maxOutputBytesPerInput, DEFAULT_OUTPUT_LIMITS.perInputBytes),
    perBlock: num(docLimits.maxOutputsPerBlock, DEFAULT_OUTPUT_LIMITS.perBlock),
    perBlockBytes: num(docLimits.maxOutputBytesPerBlock, DEFAULT_OUTPUT_LIMITS.perBlockBytes),
  };
  const blockLimits = {
    maxBytes: num(docLimits.maxBlockBytes, DEFAULT_BLOCK_LIMITS.maxBytes),
    maxInputs: num(docLimits.maxBlockInputs, DEFAULT_BLOCK_LIMITS.maxInputs),
  };
  if (pipeline) {
    const fan = new Map<string, FanOutCell>();
    for (const [name, c] of Object.entries(cells)) {
      const written = isObj(doc.cells) && isObj(doc.cells[name]) && isObj((doc.cells[name] as Obj).limits) ? Object.keys((doc.cells[name] as Obj).limits as Obj) : [];
      fan.set(name, { name, emits: c.emit.length, transform: c.code?.hooks.includes("transform") ?? false, limits: c.limits, written: new Set(written) });
    }
    checkFanOut(fan, pipeline.order, pipeline.upstream, { input: inputLimits, output: outputLimits, block: blockLimits, written: new Set(Object.keys(docLimits)) }, reporter);
  }

  // Snapshots.
  let snapshots: SnapshotsPlan | undefined;
  if (isObj(doc.snapshots) && typeof doc.snapshots.group === "string") {
    const s = doc.snapshots;
    const group = s.group as string;
    usedGroups.add(group);
    const every = typeof s.every === "number" ? s.every : undefined;
    const seconds = typeof s.seconds === "number" ? s.seconds : undefined;
    if (!groupNames.has(group)) {
      reporter.error("DEFINITION_UNKNOWN_GROUP", ["snapshots", "group"], `snapshots name group "${group}", which is not defined${didYouMean(group, groupNames, reporter.suggestions)}`, `use one of: ${listSome(groupNames)}`);
    } else if (every !== undefined && seconds !== undefined) {
      reporter.error("DEFINITION_CONFLICTING_KEYS", ["snapshots", "seconds"], "snapshots have both `every` (blocks) and `seconds`", "keep one of them", { anchor: "key" });
    } else if (every === undefined && seconds === undefined) {
      reporter.error("DEFINITION_MISSING_KEY", ["snapshots"], "snapshots need `every: N` (blocks) or `seconds: N`", "add `every: 10` or `seconds: 60`", { anchor: "key" });
    } else {
      snapshots = { group, ...(every !== undefined ? { every } : { seconds: seconds as number }) };
    }
  }

  // Token.
  let token: TokenPlan | undefined;
  if (isObj(doc.token) && typeof doc.token.name === "string" && typeof doc.token.symbol === "string") {
    const t = doc.token;
    const decimals = typeof t.decimals === "number" ? t.decimals : 0;
    const genesis: Record<string, number> = {};
    let supply = 0;
    for (const [account, amount] of entries(t.genesis)) {
      if (typeof amount !== "number") continue;
      // Amounts are in whole units with at most `decimals` digits after the point.
      const scaled = amount * 10 ** decimals;
      if (Math.abs(scaled - Math.round(scaled)) > 1e-6 * Math.max(1, Math.abs(scaled))) {
        reporter.error("DEFINITION_BAD_VALUE", ["token", "genesis", account], `genesis amount ${amount} of "${account}" has more than ${decimals} digits after the point`, `round it to ${decimals} decimals, or raise \`decimals\``);
        continue;
      }
      genesis[account] = amount;
      supply += amount;
    }
    token = { name: String(t.name), symbol: t.symbol as string, decimals, genesis, supply: Number(supply.toFixed(decimals)) };
  }

  // Warnings: things that are legal but probably not meant.
  for (const g of groupNames) {
    if (!usedGroups.has(g)) reporter.warn("DEFINITION_UNUSED_GROUP", ["groups", g], `group "${g}" validates no cell and no snapshots`, "remove the group, or name it in a cell's `group:`", { anchor: "key" });
  }
  for (const s of schemaNames) {
    if (!usedSchemas.has(s)) reporter.warn("DEFINITION_UNUSED_SCHEMA", ["schemas", s], `schema "${s}" is accepted by no cell`, "remove the schema, or name it in a cell's `accepts:`", { anchor: "key" });
  }

  const tests = normaliseTests(doc.tests, ["tests"], reporter, cellRules);

  if (reporter.hasErrors() || !pipeline) return undefined;

  const cellPlans: Record<string, CellPlan> = {};
  for (const name of pipeline.order) {
    const c = cells[name];
    if (!c) return undefined;
    cellPlans[name] = { ...c, upstream: pipeline.upstream.get(name) ?? [], downstream: pipeline.downstream.get(name) ?? [] };
  }
  // The hash identifies the rules in force, so tests (which do not change what
  // the channel accepts) are left out: editing a test must not make the channel
  // a different channel for L0.
  const { tests: _tests, ...hashed } = doc;
  void _tests;
  const plan: ChannelPlan = {
    channel: String(doc.channel),
    version: Number(doc.version),
    ...(typeof doc.description === "string" ? { description: doc.description } : {}),
    hash: hashJson("channel", { document: hashed, code: codeHashes }),
    file,
    groups,
    schemas,
    cells: cellPlans,
    order: pipeline.order,
    ...(snapshots ? { snapshots } : {}),
    ...(token ? { token } : {}),
    inputLimits,
    outputLimits,
    blockLimits,
    tests,
    document: doc,
  };
  return deepFreeze(plan);

  function tokenWarning(expr: Json, path: DocPath): void {
    if (exprs.varRoots(expr).has("token")) {
      reporter.warn("DEFINITION_NO_TOKEN", path, "this expression reads `token`, but the channel declares no token, so it is always null", "add a `token:` section, or drop the reference");
    }
  }

  function stateUpdate(u: Json, path: DocPath): StateUpdatePlan | undefined {
    if (!isObj(u)) return undefined;
    const ops = (["set", "add", "append", "remove"] as const).filter((k) => k in u);
    if (ops.length === 0) {
      reporter.error("DEFINITION_MISSING_KEY", path, "a state update needs one of `set`, `add`, `append` or `remove`", "write e.g. `- set: latest.{data.sensor}` with a `value:`");
      return undefined;
    }
    if (ops.length > 1) {
      reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, ops[1]], `a state update has both \`${ops[0]}\` and \`${ops[1]}\``, "write one update per list item", { anchor: "key" });
      return undefined;
    }
    const op = ops[0];
    const text = u[op];
    if (typeof text !== "string") return undefined;
    if (op !== "remove" && u.value === undefined) {
      reporter.error("DEFINITION_MISSING_KEY", [...path, op], `\`${op}: ${text}\` needs a \`value:\``, "add `value:` (json-logic or a literal)", { anchor: "key" });
      return undefined;
    }
    if (op === "remove" && u.value !== undefined) {
      reporter.error("DEFINITION_CONFLICTING_KEYS", [...path, "value"], "`remove` takes no `value`", "drop the `value:`", { anchor: "key" });
      return undefined;
    }
    const parsed = parseStatePath(text);
    if (!parsed.ok) {
      reporter.error("DEFINITION_BAD_PATH", [...path, op], parsed.message, "write dotted segments, each a name or one `{placeholder}`, e.g. `totals.{data.district}.count`");
      return undefined;
    }
    const first = parsed.parts[0];
    if ("literal" in first && first.literal === "records") {
      reporter.error("DEFINITION_RECORDS_PATH", [...path, op], `state path "${text}" starts with \`records\`, which holds the cell's keyed records`, "use another top-level name (e.g. `latest`, `totals`); records are written by `key:`");
      return undefined;
    }
    let ok = true;
    const pathParts: StateUpdatePlan["pathParts"][number][] = [];
    for (const part of parsed.parts) {
      if ("literal" in part) {
        if (FORBIDDEN_SEGMENTS.has(part.literal)) {
          reporter.error("DEFINITION_FORBIDDEN_KEY", [...path, op], `state path "${text}" has the segment "${part.literal}"`, "rename the segment");
          ok = false;
        }
        pathParts.push({ literal: part.literal });
      } else {
        const expr = exprs.expr({ var: part.placeholder }, [...path, op]);
        if (!expr) ok = false;
        else pathParts.push({ expr, source: part.placeholder });
      }
    }
    let value;
    if (u.value !== undefined) {
      value = exprs.mapping(u.value, [...path, "value"]);
      if (!value) ok = false;
      else if (!hasToken) tokenWarning(u.value, [...path, "value"]);
    }
    let when;
    if (u.when !== undefined) {
      const rule = exprs.rule(u.when, [...path, "when"]);
      if (!rule) ok = false;
      else when = (ctx: Parameters<typeof rule>[0]) => rule(ctx);
    }
    if (!ok) return undefined;
    return {
      op,
      path: text,
      pathParts,
      location: reporter.locate(path),
      ...(value ? { value, valueSource: u.value as Json } : {}),
      ...(when ? { when, whenSource: u.when as Json } : {}),
    };
  }

  function codeFile(written: string, path: DocPath): CodePlan | undefined {
    // Posix paths on every platform, so the plan (and its hash) does not depend on the OS.
    const relative = posix.normalize(written.replace(/\\/g, "/"));
    const resolved = posix.normalize(posix.join(posix.dirname(file.replace(/\\/g, "/")), relative));
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
      let checked = checkedCode.get(sha256);
      if (!checked) {
        if (codeCheckMs >= MAX_CODE_CHECK_MS) {
          reporter.error(
            "DEFINITION_CODE_BUDGET",
            path,
            `code file "${written}" was not checked: the code checks of this channel ran past their budget of ${formatCount(MAX_CODE_CHECK_MS)} ms for all its code files together`,
            "keep each code file's top level to constants and function declarations (it runs when the file is checked, and the work belongs in the hooks), or use fewer code files; a file named by several cells is checked once",
          );
          return undefined;
        }
        const started = now();
        const result = modules.checkCode(source, resolved, { timeMs: MAX_CODE_CHECK_MS - codeCheckMs });
        codeCheckMs += Math.max(0, now() - started);
        checked = { file: resolved, hooks: result.hooks, problems: result.problems };
        checkedCode.set(sha256, checked);
      }
      const found = checked.hooks;
      hooks = HOOKS.filter((h) => found.includes(h));
      // A file's problems are reported once, at the first cell naming it; the same text under another path, at that path.
      const key = `${sha256}\u0000${resolved}`;
      const relocate = (loc: SourceLocation): SourceLocation => (checked.file === resolved || loc.file !== checked.file ? loc : { ...loc, file: resolved });
      for (const p of reportedCode.has(key) ? [] : checked.problems) {
        if (p.location) reporter.problems.push({ ...p, location: relocate(p.location), path: `${path.map(String).join(".")}` });
        else reporter.add(p.severity, p.code, path, p.message, p.remedy ?? "fix the code file");
      }
      reportedCode.add(key);
    } else {
      // Without the sandbox's checker, find top-level hook functions by their declarations.
      const found = new Set<string>();
      for (const m of source.matchAll(/^[ \t]*(?:export\s+)?(?:async\s+)?function\s*\*?\s*(validate|transform|reduce)\s*\(/gm)) found.add(m[1]);
      hooks = HOOKS.filter((h) => found.has(h));
    }
    if (hooks.length === 0) {
      reporter.warn("DEFINITION_NO_HOOKS", path, `code file "${written}" defines none of validate, transform or reduce`, "define `function validate(data, ctx)`, `transform` or `reduce` at the top level");
    }
    return { path: written, resolved, source, sha256, hooks, rejects: {} };
  }
}
