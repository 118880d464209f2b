/**
 * Stage 3: a structurally checked document to a ChannelPlan, one pass per
 * language key, each a compiler that returns its part of the plan (groups,
 * schemas, cells and their parts, the pipeline, limits, snapshots, token,
 * tests). Written defensively: it also runs on documents with structural
 * errors (skipping what it cannot read) so one lint run shows as many
 * problems as possible.
 */
import type { Json } from "../core/canonical.js";
import { hashJson } from "../core/hash.js";
import { createRuleEngine } from "../rules/index.js";
import { compileCell, type CompiledCell } from "./compile-cell.js";
import { CodeFiles } from "./compile-code.js";
import { documentNames, entries, isObj, num, type CompileContext, type LoadModules, type Obj } from "./compile-context.js";
import { compileGroups } from "./compile-groups.js";
import { compileChannelLimits, DEFAULT_INPUT_LIMITS } from "./compile-limits.js";
import { createSchemaCompiler, type NamedSchemaSource } from "./compile-schemas.js";
import { compileSnapshots, snapshotsGroup } from "./compile-snapshots.js";
import { compileToken, tokenGroups } from "./compile-token.js";
import { Expressions } from "./expressions.js";
import { checkFanOut, type FanOutCell } from "./fan-out.js";
import { deepFreeze } from "./freeze.js";
import { analysePipeline, type Pipeline } from "./pipeline.js";
import type { CellPlan, ChannelPlan } from "./plan.js";
import type { Reporter } from "./reporter.js";
import { normaliseTests, targetsOfDocument } from "./tests-plan.js";
import { VERDICT_CODES } from "./verdict-codes.js";
import { TOKEN_CELL } from "./token-amount.js";

export type { LoadModules } from "./compile-context.js";
export { MAX_CODE_CHECK_MS } from "./compile-code.js";
export { DEFAULT_INPUT_LIMITS, DEFAULT_CODE_LIMITS, DEFAULT_OUTPUT_LIMITS, DEFAULT_BLOCK_LIMITS } from "./compile-limits.js";

/** Compiles `doc`; returns undefined when any error was reported. */
export function compileChannel(doc: Obj, file: string, reporter: Reporter, modules: LoadModules): ChannelPlan | undefined {
  const limits = compileChannelLimits(doc.limits);
  const named = new Map<string, NamedSchemaSource>();
  for (const [name, s] of entries(doc.schemas)) if (isObj(s) || typeof s === "boolean") named.set(name, { schema: s, path: ["schemas", name] });
  const schemas = createSchemaCompiler(reporter, { maxDepth: num(isObj(doc.limits) ? doc.limits.maxDepth : undefined, DEFAULT_INPUT_LIMITS.maxDepth), named });
  const ctx: CompileContext = {
    doc,
    file,
    reporter,
    modules,
    exprs: new Expressions(createRuleEngine({ params: isObj(doc.params) ? doc.params : {} }), reporter),
    schemas,
    namedSchemas: schemas.compileNamed(),
    names: documentNames(doc),
    hasToken: isObj(doc.token),
  };

  const groups = compileGroups(ctx);
  const code = new CodeFiles(ctx);
  const anyInput = ctx.names.operations.size > 0 ? schemas.compile("of any operation", true, ["cells"]) : undefined;
  const cells = new Map<string, CompiledCell>();
  for (const [name, c] of entries(doc.cells)) if (isObj(c)) cells.set(name, compileCell(ctx, code, name, c, anyInput));
  // The snapshot group certifies snapshots as the consensus cell "snapshots" (docs/l0.md): no cell may share it.
  if (isObj(doc.cells) && Object.prototype.hasOwnProperty.call(doc.cells, "snapshots")) {
    reporter.error("DEFINITION_RESERVED_CELL", ["cells", "snapshots"], "the cell name `snapshots` is reserved: the snapshot group's commit certificates name the cell \"snapshots\"", "give the cell another name, e.g. `snapshot-log`", { anchor: "key" });
  }

  const pipeline = analysePipeline([...ctx.names.cells], [...cells.values()].flatMap((c) => c.edges), reporter);
  if (pipeline) checkFanOut(fanOutCells(doc, cells), pipeline.order, pipeline.upstream, limits, reporter);
  const snapshots = compileSnapshots(ctx);
  const token = compileToken(ctx);
  if (token && ctx.names.cells.has(TOKEN_CELL)) {
    reporter.error("DEFINITION_DUPLICATE_NAME", ["cells", TOKEN_CELL], `a channel with a token has a built-in cell named "${TOKEN_CELL}" (transfers are submitted to it), so no other cell may take that name`, "rename the cell", { anchor: "key" });
  }
  warnUnused(ctx, cells);
  // An activation names the boundary with the version before: version 1 has none.
  if (doc.activation !== undefined && Number(doc.version) === 1) {
    reporter.error("DEFINITION_ACTIVATION", ["activation"], "version 1 has no version before it, so it has no activation height: it is in force from the first block", "remove `activation:`, or raise `version:` for an upgrade", { anchor: "key" });
  }
  const codes = new Set([...VERDICT_CODES, ...(modules.verdictCodes ?? [])]);
  const tests = normaliseTests(doc.tests, ["tests"], reporter, targetsOfDocument(doc, codes));

  if (reporter.hasErrors() || !pipeline) return undefined;
  const cellPlans = placeCells(cells, pipeline);
  if (!cellPlans) return undefined;
  const plan: ChannelPlan = {
    channel: String(doc.channel),
    version: Number(doc.version),
    ...(typeof doc.description === "string" ? { description: doc.description } : {}),
    ...(typeof doc.activation === "number" ? { activation: doc.activation } : {}),
    hash: definitionHash(doc, code.hashes),
    file,
    groups,
    schemas: ctx.namedSchemas,
    cells: cellPlans,
    order: pipeline.order,
    ...(snapshots ? { snapshots } : {}),
    ...(token ? { token } : {}),
    inputLimits: limits.input,
    outputLimits: limits.output,
    blockLimits: limits.block,
    tests,
    document: doc,
  };
  return deepFreeze(plan);
}

/**
 * The cells in pipeline order with their upstream and downstream cells. A
 * source takes direct submissions; a cell with upstream cells only with
 * `direct: true`. Undefined when a cell did not compile.
 */
function placeCells(cells: ReadonlyMap<string, CompiledCell>, pipeline: Pipeline): Record<string, CellPlan> | undefined {
  const out: Record<string, CellPlan> = {};
  for (const name of pipeline.order) {
    const compiled = cells.get(name);
    if (!compiled?.cell) return undefined;
    const upstream = pipeline.upstream.get(name) ?? [];
    out[name] = { ...compiled.cell, direct: compiled.directWritten || upstream.length === 0, upstream, downstream: pipeline.downstream.get(name) ?? [] };
  }
  return out;
}

/**
 * What the fan-out check needs of each cell: the most emits one input can go
 * through (the cell's, and those of its operation with the most).
 */
function fanOutCells(doc: Obj, cells: ReadonlyMap<string, CompiledCell>): Map<string, FanOutCell> {
  const fan = new Map<string, FanOutCell>();
  for (const [name, compiled] of cells) {
    const c = compiled.cell;
    if (!c) continue;
    const written = isObj(doc.cells) && isObj(doc.cells[name]) && isObj((doc.cells[name] as Obj).limits) ? Object.keys((doc.cells[name] as Obj).limits as Obj) : [];
    const opEmits = Math.max(0, ...Object.values(c.operations ?? {}).map((o) => o.emit.length));
    fan.set(name, { name, emits: c.emit.length + opEmits, transform: c.code?.hooks.includes("transform") ?? false, limits: c.limits, written: new Set(written) });
  }
  return fan;
}

/** Groups no cell or snapshot names, and schemas no cell or operation accepts (directly or through another schema's `$ref`). */
function warnUnused(ctx: CompileContext, cells: ReadonlyMap<string, CompiledCell>): void {
  const usedGroups = new Set<string>();
  const usedSchemas = new Set<string>();
  for (const c of cells.values()) {
    if (c.group !== undefined) usedGroups.add(c.group);
    for (const s of c.schemaNames) usedSchemas.add(s);
  }
  const snapshots = snapshotsGroup(ctx);
  if (snapshots !== undefined) usedGroups.add(snapshots);
  for (const g of tokenGroups(ctx)) usedGroups.add(g);
  // A schema accepted by an inline schema's `$ref` counts too: inline schemas are compiled by their cells.
  for (const name of [...usedSchemas]) for (const r of ctx.schemas.referencedBy(name)) usedSchemas.add(r);
  for (const r of ctx.schemas.referencedByInline()) usedSchemas.add(r);
  for (const g of ctx.names.groups) {
    if (!usedGroups.has(g)) ctx.reporter.warn("DEFINITION_UNUSED_GROUP", ["groups", g], `group "${g}" validates no cell and no snapshots`, "remove the group, or name it in a cell's `group:`", { anchor: "key" });
  }
  for (const s of ctx.names.schemas) {
    if (!usedSchemas.has(s)) ctx.reporter.warn("DEFINITION_UNUSED_SCHEMA", ["schemas", s], `schema "${s}" is accepted by no cell`, "remove the schema, or name it in a cell's (or an operation's) `accepts:`", { anchor: "key" });
  }
}

/**
 * The hash identifies the rules in force, so tests (which do not change what
 * the channel accepts) are left out: editing a test must not make the channel
 * a different channel for L0.
 */
function definitionHash(doc: Obj, code: Readonly<Record<string, string>>): string {
  const { tests: _tests, ...hashed } = doc;
  void _tests;
  return hashJson("channel", { document: hashed as Json, code });
}
