/**
 * What a channel's JSON Schemas may ask of strangers' data, checked before
 * ajv compiles them. Every input a cell admits runs its schema, so a schema is
 * code a channel author makes every node run on data from anyone; these
 * checks bound that work (figures measured on this project's 2-core machine,
 * see docs/errors.md, DEFINITION_SCHEMA_COST):
 *
 * - Patterns (`pattern`, `patternProperties`, and `pattern` under
 *   `propertyNames`) run with RE2, in time linear in the text: `^(a+)+$`
 *   against 28 `a`s and a `!` took 14 s with JavaScript's backtracking
 *   engine. RE2 has no lookaround and no backreferences; a pattern that needs
 *   them is refused here, at its line, saying which construct and what to
 *   write instead. A pattern must also be a valid JavaScript (`u`) pattern, the
 *   dialect JSON Schema names and editors check.
 * - `uniqueItems` compares every pair of items (9,000 items: 1.46 s), so it
 *   needs a `maxItems`: at most MAX_UNIQUE_ITEMS, or MAX_UNIQUE_SCALAR_ITEMS
 *   when `items` declares only scalar types (then ajv indexes the items
 *   instead of comparing pairs, in linear time).
 * - The work per value: combinators (`anyOf`, `allOf`, `oneOf`, `not`,
 *   `if`), `contains` and `$ref` make one value of an input checked by many
 *   subschemas, and recursion through `$ref` multiplies that at every level
 *   (an `anyOf` of two `$ref`s to itself took 100 ms on a 20-level input of
 *   41 bytes, doubling with every level). The worst work any single value can
 *   cost is computed statically, level by level down to the channel's
 *   `maxDepth`, and bounded.
 * - `$ref` is local (`#` or `#/json/pointer`) or the name of another of
 *   the channel's schemas (`$ref: Mint`), and `$id` appears only at a
 *   schema's root, so every reference is known to this analysis: a named
 *   schema is walked as part of the schemas that refer to it (its own
 *   problems are reported once, when it is checked itself), and a reference
 *   loop that never descends into the value would recurse forever (a chain
 *   of bare `$ref`s that comes back to where it started never reaches a
 *   schema at all).
 * - `required` names fields of `properties` when the schema writes
 *   `properties`: a required field missing from them is almost always a typo
 *   (ajv's strictRequired refused it; it also refused `{ type: object,
 *   required: [a] }` without `properties`, which is valid and common, so this
 *   check replaces it).
 */
import type { Json } from "../core/canonical.js";
import type { DocPath, Reporter } from "./reporter.js";
import { didYouMean, formatCount, listSome } from "./suggest.js";

/** Most items a list with `uniqueItems` may have when its items may be lists or objects (every pair is compared). */
export const MAX_UNIQUE_ITEMS = 100;
/** Most items a list with `uniqueItems` may have when `items` declares only scalar types (they are indexed). */
export const MAX_UNIQUE_SCALAR_ITEMS = 10_000;
/**
 * Most work units (SCHEMA_WORK_UNITS) a schema may spend per byte of input
 * below the input's root. A list item takes at least 2 bytes of an input
 * (`1,`) and an object member at least 5 (`"":1,`), so an item may cost 24
 * units and a member 60. At 100 ns a unit, checking the 786,432 bytes of a
 * full block then takes at most about 0.94 s, and one 64 KiB input 79 ms.
 */
export const MAX_SCHEMA_WORK_PER_BYTE = 12;
/** Most work units the root value of an input may cost (one per input: at most 1,000 a block, 0.2 s). */
export const MAX_SCHEMA_ROOT_WORK = 2_048;
/** Fewest bytes a list item takes in an input's canonical JSON (`1,`). */
const ITEM_BYTES = 2;
/** Fewest bytes an object member takes (`"":1,`). */
const MEMBER_BYTES = 5;

/**
 * The price of each kind of check in work units of 100 ns: the most one
 * subschema applied to a value cost when measured (an `anyOf` alternative
 * that fails allocates an error object: 30-97 ns each, the more alternatives
 * the dearer). Measured on this project's 2-core machine with ajv 8.20 and
 * re2 1.24; most checks cost far less, so these are bounds.
 */
export const SCHEMA_WORK_UNITS = {
  /** A subschema applied to a value. */
  subschema: 1,
  /** Entries of `enum`, `required`, `properties` or a `dependencies` list per unit (4-8.5 ns an entry). */
  entriesPerUnit: 20,
  /** An RE2 test: `pattern` on a text, or a key against a `patternProperties` pattern (0.95-1.6 µs a test on distinct texts). */
  pattern: 16,
  /** Each item `contains` looks at, beyond its subschema (a failing item allocates an error: 0.2-1.2 µs). */
  contains: 12,
  /** Each key of an object whose schema walks the keys (additionalProperties, patternProperties, propertyNames: 0.47 µs a key). */
  key: 5,
  /** Pairs of items `uniqueItems` compares per unit (15-42 ns a pair). */
  pairsPerUnit: 3,
} as const;

const SCALAR_TYPES = new Set(["string", "number", "integer", "boolean", "null"]);
/** Keywords whose value is one subschema applied to the same value. */
const SAME_ONE = ["not", "if", "then", "else"] as const;
/** Keywords whose value is a list of subschemas applied to the same value. */
const SAME_LIST = ["allOf", "anyOf", "oneOf"] as const;

type Obj = { [k: string]: Json };
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Most subschemas of other named schemas the checks of one channel's schemas
 * may walk together (a schema is checked with every schema it reaches through
 * `$ref`). Each check walks what its schema reaches, so a chain of 20,000
 * schemas (a 1 MiB file) would walk 200 million; 50,000 are walked in well
 * under 100 ms, and a channel whose 500 schemas each refer to a shared schema
 * of 100 subschemas stays within it.
 */
export const MAX_SCHEMA_REF_NODES = 50_000;

/** The channel's named schemas, as `$ref: NAME` resolves them. */
export interface NamedSchemas {
  /** The schema named `name` as written, or undefined. */
  get(name: string): Json | undefined;
  /** Every name, for suggestions and remedies. */
  readonly names: ReadonlySet<string>;
  /** Subschemas of other schemas the channel's checks may still walk (MAX_SCHEMA_REF_NODES to start with), shared by its checks. */
  readonly budget?: { left: number };
}

/** What the check found: whether the schema may be compiled, and the named schemas it reaches through `$ref`. */
export interface BoundsResult {
  ok: boolean;
  /** Names of the other schemas reached through `$ref` (transitively; the schema itself when it refers to itself by name). */
  named: ReadonlySet<string>;
}

/** Where a subschema was found: the schema whose local `$ref`s resolve in it, and whether its problems are reported here. */
interface Scope {
  root: Json;
  /** The name of a named schema walked because the checked one refers to it; its problems are reported when it is checked itself. */
  foreign?: string;
}

/** Keywords that apply nothing to a value: a schema of only these and `$ref` is a bare reference. */
const ANNOTATIONS = new Set(["$ref", "$id", "$schema", "$comment", "title", "description", "default", "examples", "definitions", "$defs", "readOnly", "writeOnly"]);

/** One subschema of the graph the analysis walks. */
interface SchemaNode {
  schema: Json;
  path: DocPath;
  scope: Scope;
  /** Units of checking this node itself costs at a value. */
  own: number;
  /** Subschemas applied to the same value. */
  same: number[];
  /** For object values: each property's subschema, patternProperties' subschemas, additionalProperties, propertyNames. */
  props: number[];
  patterns: number[];
  additional?: number;
  propertyNames?: number;
  /** Per key of an object value: walking the keys, and the patternProperties tests. */
  perKey: number;
  /** For list values: `items` (one subschema, or a tuple), additionalItems, contains. */
  items?: number;
  tuple: number[];
  additionalItems?: number;
  contains?: number;
  /** Per item of a list value: uniqueItems' comparisons. */
  perItem: number;
}

/**
 * Checks `schema` (found at `path`, already valid against the draft-07
 * meta-schema) and reports every problem; returns false when it must not be
 * compiled. `maxDepth` is the channel's input depth limit: deeper values never
 * reach the schema.
 */
export function checkSchemaBounds(
  name: string,
  schema: Json,
  path: DocPath,
  maxDepth: number,
  reporter: Reporter,
  engine: PatternEngine,
  named: NamedSchemas = { get: () => undefined, names: new Set() },
): BoundsResult {
  let ok = true;
  /** The scope being walked: problems of a foreign scope are not reported here, but still stop the compile. */
  let scope: Scope = { root: schema };
  const error = (at: DocPath, code: string, message: string, remedy: string, anchor: "key" | "value" = "value") => {
    ok = false;
    if (scope.foreign === undefined) reporter.error(code, [...path, ...at], `schema ${name}: ${message}`, remedy, { anchor });
  };
  const nodes: SchemaNode[] = [];
  const ids = new Map<object, number>();
  const refs: Array<{ from: number; ref: string; at: DocPath; scope: Scope }> = [];
  const reached = new Set<string>();
  let idReported = false;
  const budget = named.budget ?? { left: MAX_SCHEMA_REF_NODES };
  let overBudget = false;

  /** Adds the subschema `s` at `at` (relative to its scope's root), walking every subschema under it once. */
  const add = (s: Json, at: DocPath): number => {
    if (isObj(s)) {
      const known = ids.get(s);
      if (known !== undefined) return known;
    }
    const id = nodes.length;
    const node: SchemaNode = { schema: s, path: at, scope, own: SCHEMA_WORK_UNITS.subschema, same: [], props: [], patterns: [], perKey: 0, tuple: [], perItem: 0 };
    nodes.push(node);
    if (scope.foreign !== undefined && --budget.left < 0) {
      overBudget = true;
      return id;
    }
    if (!isObj(s)) return id;
    ids.set(s, id);
    const entries = (v: Json | undefined) => (Array.isArray(v) ? v.length : 0) / SCHEMA_WORK_UNITS.entriesPerUnit;
    if (s.additionalProperties !== undefined || s.patternProperties !== undefined || s.propertyNames !== undefined) node.perKey += SCHEMA_WORK_UNITS.key;
    node.own += entries(s.enum) + entries(s.required) + (isObj(s.properties) ? entries(Object.keys(s.properties)) : 0);
    if (typeof s.$id === "string" && at.length > 0) {
      error([...at, "$id"], "DEFINITION_BAD_SCHEMA", "`$id` is only allowed at the top of a schema", "remove this `$id`; name shared parts under `definitions` and refer to them with `$ref: \"#/definitions/NAME\"`", "key");
    }
    if (typeof s.pattern === "string") {
      node.own += SCHEMA_WORK_UNITS.pattern;
      checkPattern(s.pattern, [...at, "pattern"], "value");
    }
    if (typeof s.$ref === "string") refs.push({ from: id, ref: s.$ref, at: [...at, "$ref"], scope });
    if (Array.isArray(s.required) && isObj(s.properties) && s.patternProperties === undefined) checkRequired(s.required, s.properties, at);
    for (const k of SAME_LIST) if (Array.isArray(s[k])) (s[k] as Json[]).forEach((c, i) => node.same.push(add(c, [...at, k, i])));
    for (const k of SAME_ONE) {
      // then/else are exclusive; both are counted (an upper bound).
      if (s[k] !== undefined) node.same.push(add(s[k], [...at, k]));
    }
    if (isObj(s.dependencies)) {
      for (const [dep, v] of Object.entries(s.dependencies)) {
        if (Array.isArray(v)) node.own += entries(v);
        else node.same.push(add(v, [...at, "dependencies", dep]));
      }
    }
    if (isObj(s.properties)) for (const [p, v] of Object.entries(s.properties)) node.props.push(add(v, [...at, "properties", p]));
    if (isObj(s.patternProperties)) {
      for (const [p, v] of Object.entries(s.patternProperties)) {
        checkPattern(p, [...at, "patternProperties", p], "key");
        node.patterns.push(add(v, [...at, "patternProperties", p]));
        node.perKey += SCHEMA_WORK_UNITS.pattern;
      }
    }
    if (s.additionalProperties !== undefined) node.additional = add(s.additionalProperties, [...at, "additionalProperties"]);
    if (s.propertyNames !== undefined) node.propertyNames = add(s.propertyNames, [...at, "propertyNames"]);
    if (Array.isArray(s.items)) s.items.forEach((c, i) => node.tuple.push(add(c, [...at, "items", i])));
    else if (s.items !== undefined) node.items = add(s.items, [...at, "items"]);
    if (s.additionalItems !== undefined) node.additionalItems = add(s.additionalItems, [...at, "additionalItems"]);
    if (s.contains !== undefined) {
      node.contains = add(s.contains, [...at, "contains"]);
      node.perItem += SCHEMA_WORK_UNITS.contains;
    }
    // Subschemas nothing applies directly (definitions) are walked for their own problems.
    for (const k of ["definitions", "$defs"] as const) if (isObj(s[k])) for (const [d, v] of Object.entries(s[k] as Obj)) add(v, [...at, k, d]);
    if (s.uniqueItems === true) node.perItem += uniqueItemsCost(s, at);
    return id;
  };

  function uniqueItemsCost(s: Obj, at: DocPath): number {
    const scalar = isObj(s.items) && scalarTypes(s.items.type);
    const cap = scalar ? MAX_UNIQUE_SCALAR_ITEMS : MAX_UNIQUE_ITEMS;
    const max = typeof s.maxItems === "number" ? s.maxItems : undefined;
    if (max === undefined || max > cap) {
      const what = max === undefined ? "this list has no `maxItems`" : `its \`maxItems\` is ${formatCount(max)}`;
      error(
        [...at, "uniqueItems"],
        "DEFINITION_SCHEMA_COST",
        scalar
          ? `\`uniqueItems\` on a list of scalars needs \`maxItems\` of at most ${formatCount(cap)}; ${what}`
          : `\`uniqueItems\` compares every pair of items, so it needs \`maxItems\` of at most ${formatCount(cap)}; ${what}`,
        scalar
          ? `add \`maxItems: ${formatCount(cap).replace(/,/g, "")}\` (or fewer) next to \`uniqueItems\``
          : `add \`maxItems: ${cap}\` (or fewer) next to \`uniqueItems\`; with \`items: { type: string }\` (or another scalar type) the items are indexed instead of compared, and maxItems may be up to ${formatCount(MAX_UNIQUE_SCALAR_ITEMS)}`,
        "key",
      );
      return 0;
    }
    // Per item, its share of the pairs compared: n(n-1)/2 pairs over n items. Scalars are indexed: one lookup each.
    return scalar ? SCHEMA_WORK_UNITS.subschema : Math.ceil(max / 2 / SCHEMA_WORK_UNITS.pairsPerUnit);
  }

  function checkPattern(pattern: string, at: DocPath, anchor: "key" | "value"): void {
    const problem = engine.check(pattern);
    if (problem) error(at, problem.code, problem.message, problem.remedy, anchor);
  }

  /**
   * The first `required` field that `properties` (written next to it) does
   * not name, and how many more there are: one problem per list, as each
   * problem repeats its line (a list of 2,000 missing fields on one line of
   * 40 KB took 9.7 s to report field by field).
   */
  function checkRequired(required: Json[], properties: Obj, at: DocPath): void {
    const missing: number[] = [];
    required.forEach((field, i) => {
      if (typeof field === "string" && !Object.prototype.hasOwnProperty.call(properties, field)) missing.push(i);
    });
    if (missing.length === 0) return;
    const first = missing[0];
    const field = required[first] as string;
    const hint = didYouMean(field, Object.keys(properties), reporter.suggestions);
    const guess = /"(.*)"/.exec(hint)?.[1];
    const more = missing.length > 1 ? ` (and ${formatCount(missing.length - 1)} more required field${missing.length === 2 ? "" : "s"} after it)` : "";
    error(
      [...at, "required", first],
      "DEFINITION_BAD_SCHEMA",
      `the required field "${field}" is not one of the \`properties\` next to it${hint}${more}`,
      guess !== undefined && missing.length === 1
        ? `write "${guess}"`
        : `add each required field to \`properties\` (\`${field}: {}\` for any value), or remove it from \`required\``,
    );
  }

  const root = add(schema, []);

  // References: local JSON pointers, resolved in their own schema, and names of
  // the channel's other schemas, walked as part of this one (each once).
  for (let i = 0; i < refs.length; i++) {
    const r = refs[i];
    scope = r.scope;
    const local = r.ref === "#" || r.ref.startsWith("#/");
    if (!local) {
      const target = named.get(r.ref);
      if (target === undefined) {
        if (/^[A-Za-z][A-Za-z0-9_.-]{0,62}$/.test(r.ref)) {
          error(
            r.at,
            "DEFINITION_UNKNOWN_SCHEMA",
            `\`$ref: "${r.ref}"\` names no schema under \`schemas\`${didYouMean(r.ref, named.names, reporter.suggestions)}`,
            named.names.size ? `refer to one of: ${listSome(named.names)}, or to a part of this schema with \`$ref: "#/definitions/NAME"\`` : "define the schema under `schemas:`, or refer to a part of this schema with `$ref: \"#/definitions/NAME\"`",
          );
        } else {
          error(
            r.at,
            "DEFINITION_BAD_SCHEMA",
            `\`$ref: "${r.ref}"\` is neither a part of this schema nor the name of one of the channel's schemas`,
            "refer to a part of the same schema with `$ref: \"#/definitions/NAME\"`, or to a schema under `schemas` by its name (`$ref: Mint`); references to files or addresses are not followed",
          );
        }
        continue;
      }
      reached.add(r.ref);
      if (scope.foreign === undefined && isObj(schema) && typeof schema.$id === "string" && !idReported) {
        idReported = true;
        error(["$id"], "DEFINITION_BAD_SCHEMA", `\`$ref: "${r.ref}"\` would be resolved against this schema's \`$id\`, not among the channel's schemas`, "remove the `$id`: schemas of a channel refer to each other by name", "key");
      }
      const known = isObj(target) ? ids.get(target) : undefined;
      if (known !== undefined) {
        nodes[r.from].same.push(known);
        continue;
      }
      scope = { root: target, foreign: r.ref };
      nodes[r.from].same.push(add(target, []));
      if (overBudget) {
        scope = { root: schema };
        error(
          r.scope.foreign === undefined ? r.at : [],
          "DEFINITION_SCHEMA_COST",
          `the channel's schemas refer to each other too much to check: with \`$ref: "${r.ref}"\`, the checks of its schemas have walked more than ${formatCount(MAX_SCHEMA_REF_NODES)} subschemas of the schemas they refer to`,
          "refer to fewer schemas from each schema, or write small shared parts out where they are used",
        );
        break;
      }
      continue;
    }
    const target = resolveRef(scope.root, r.ref);
    if (target === undefined) {
      error(r.at, "DEFINITION_BAD_SCHEMA", `\`$ref: "${r.ref}"\` points at nothing in this schema`, "point at a subschema of this schema, e.g. `#/definitions/NAME`");
      continue;
    }
    nodes[r.from].same.push(add(target, refPath(r.ref, scope.root)));
  }
  scope = { root: schema };
  if (!ok) return { ok, named: reached };

  // Subschemas applied to the same value, in an order where each comes after those it applies.
  const order = sameLevelOrder(nodes);
  if (!Array.isArray(order)) {
    reportCycle(order.cycle);
    return { ok: false, named: reached };
  }

  // Level by level, for every node: the most units checking it at a value can
  // cost at one value k levels below that value, separately for a value that
  // is a list item (items[]) and one that is an object member (members[]),
  // since they take at least 2 and 5 bytes of the input. k = 0 is the value
  // itself (zero[]).
  const SAT = 1e15;
  const n = nodes.length;
  const zero = new Float64Array(n);
  for (const i of order) {
    let v = nodes[i].own;
    for (const c of nodes[i].same) v += zero[c];
    zero[i] = Math.min(v, SAT);
  }
  const stepInto = (node: SchemaNode, prev: Float64Array): { obj: number; arr: number } => {
    // An object's member: its property's subschema or additionalProperties, and every patternProperties subschema (all may match).
    let obj = node.additional !== undefined ? prev[node.additional] : 0;
    for (const p of node.props) if (prev[p] > obj) obj = prev[p];
    for (const p of node.patterns) obj += prev[p];
    // A list's item: items (or its tuple entry, or additionalItems), and contains.
    let arr = node.items !== undefined ? prev[node.items] : 0;
    if (node.tuple.length > 0) {
      arr = node.additionalItems !== undefined ? prev[node.additionalItems] : 0;
      for (const t of node.tuple) if (prev[t] > arr) arr = prev[t];
    }
    if (node.contains !== undefined) arr += prev[node.contains];
    return { obj, arr };
  };
  let items = new Float64Array(n);
  let members = new Float64Array(n);
  let worst = { perByte: 0, level: 0, units: 0, member: false };
  for (let k = 1; k <= maxDepth; k++) {
    const nextItems = new Float64Array(n);
    const nextMembers = new Float64Array(n);
    let any = false;
    for (const i of order) {
      const node = nodes[i];
      let a = 0;
      let m = 0;
      for (const c of node.same) {
        a += nextItems[c];
        m += nextMembers[c];
      }
      if (k === 1) {
        // The value's own items and members, with what the value's schema spends per key and per item.
        const step = stepInto(node, zero);
        a += step.arr + node.perItem;
        m += step.obj + node.perKey + (node.propertyNames !== undefined ? zero[node.propertyNames] : 0);
      } else {
        const viaItems = stepInto(node, items);
        const viaMembers = stepInto(node, members);
        a += Math.max(viaItems.obj, viaItems.arr);
        m += Math.max(viaMembers.obj, viaMembers.arr);
      }
      nextItems[i] = Math.min(a, SAT);
      nextMembers[i] = Math.min(m, SAT);
      if (a > 0 || m > 0) any = true;
    }
    items = nextItems;
    members = nextMembers;
    const perItem = items[root] / ITEM_BYTES;
    const perMember = members[root] / MEMBER_BYTES;
    if (Math.max(perItem, perMember) > worst.perByte) {
      worst = perItem >= perMember ? { perByte: perItem, level: k, units: items[root], member: false } : { perByte: perMember, level: k, units: members[root], member: true };
    }
    if (!any || worst.perByte > MAX_SCHEMA_WORK_PER_BYTE) break;
  }
  if (zero[root] > MAX_SCHEMA_ROOT_WORK) {
    error(
      [],
      "DEFINITION_SCHEMA_COST",
      `checking the top of one input can cost ${describeUnits(zero[root])}; the limit is ${formatCount(MAX_SCHEMA_ROOT_WORK)}`,
      "use fewer alternatives in `anyOf`/`oneOf`/`allOf`, or shorter `enum` and `required` lists",
    );
  }
  if (worst.perByte > MAX_SCHEMA_WORK_PER_BYTE) {
    const what = worst.member ? "object member" : "list item";
    const bytes = worst.member ? MEMBER_BYTES : ITEM_BYTES;
    error(
      [],
      "DEFINITION_SCHEMA_COST",
      `one ${what} ${worst.level} level${worst.level === 1 ? "" : "s"} into an input (${bytes} bytes at least) can cost ${describeUnits(worst.units)}; the limit is ${formatCount(MAX_SCHEMA_WORK_PER_BYTE * bytes)} (${MAX_SCHEMA_WORK_PER_BYTE} a byte)`,
      "apply fewer subschemas to each item or member: fewer `anyOf`/`oneOf` alternatives under `items` and `properties`, fewer patterns (`pattern`, `patternProperties`) and `contains`, no `$ref` that branches into itself",
    );
  }
  return { ok, named: reached };

  /**
   * A loop of subschemas applied to the same value. Reported at its first
   * node in this schema (a loop wholly inside another named schema is reported
   * when that one is checked). A loop of bare references (`A: { $ref: B }`,
   * `B: { $ref: A }`) is the same problem, worded as the chain it is: one that
   * never reaches a schema.
   */
  function reportCycle(cycle: readonly number[]): void {
    const own = cycle.find((i) => nodes[i].scope.foreign === undefined);
    if (own === undefined) {
      ok = false;
      return;
    }
    const node = nodes[own];
    const at = isObj(node.schema) && typeof node.schema.$ref === "string" ? [...node.path, "$ref"] : node.path;
    const bare = cycle.every((i) => isObj(nodes[i].schema) && Object.keys(nodes[i].schema as Obj).every((k) => ANNOTATIONS.has(k)));
    if (bare) {
      // Rotated to start here: the chain as the author follows it from this schema.
      const start = cycle.indexOf(own);
      const chain = [...cycle.slice(start), ...cycle.slice(0, start), own].map((i) => `\`${describeNode(nodes[i], name)}\``);
      error(
        at,
        "DEFINITION_SCHEMA_COST",
        `the chain of references ${chain.join(" -> ")} comes back to where it started without reaching a schema`,
        "make one schema of the chain a schema of its own (e.g. `type: object` with `properties`) instead of a `$ref`",
      );
      return;
    }
    error(
      at,
      "DEFINITION_SCHEMA_COST",
      "this subschema applies itself to the same value through `$ref` (and combinators) without going into the value, so checking never ends",
      "make the reference go one level into the value (under `properties`, `items` ...), or write the subschema out",
    );
  }
}

/** `Mint`, `#/definitions/a` or `Mint#/definitions/a`: a subschema as a `$ref` would name it. */
function describeNode(node: SchemaNode, self: string): string {
  const owner = node.scope.foreign ?? self;
  return node.path.length === 0 ? owner : `${owner}#/${node.path.map(String).join("/")}`;
}

function describeUnits(units: number): string {
  return units >= 1e15 ? "more than 10^15 work units" : `${formatCount(Math.ceil(units))} work units`;
}

function scalarTypes(type: Json | undefined): boolean {
  const types = Array.isArray(type) ? type : typeof type === "string" ? [type] : [];
  return types.length > 0 && types.every((t) => typeof t === "string" && SCALAR_TYPES.has(t));
}

/** The subschema a local `$ref` points at, or undefined. */
function resolveRef(root: Json, ref: string): Json | undefined {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let cur: Json | undefined = root;
  for (const raw of ref.slice(2).split("/")) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    } catch {
      return undefined;
    }
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9][0-9]*)$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (isObj(cur)) {
      cur = Object.prototype.hasOwnProperty.call(cur, seg) ? cur[seg] : undefined;
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return isObj(cur) || typeof cur === "boolean" ? cur : undefined;
}

function refPath(ref: string, root: Json): DocPath {
  if (ref === "#") return [];
  const out: Array<string | number> = [];
  let cur: Json | undefined = root;
  for (const raw of ref.slice(2).split("/")) {
    const seg = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      out.push(Number(seg));
      cur = cur[Number(seg)];
    } else {
      out.push(seg);
      cur = isObj(cur) ? cur[seg] : undefined;
    }
  }
  return out;
}

/**
 * Node ids ordered so that every node comes after the nodes it applies to the
 * same value (depth-first, iterative), or the nodes of the first cycle found, in order.
 */
function sameLevelOrder(nodes: readonly SchemaNode[]): number[] | { cycle: number[] } {
  const state = new Uint8Array(nodes.length); // 0 new, 1 on the stack, 2 done
  const order: number[] = [];
  for (let start = 0; start < nodes.length; start++) {
    if (state[start] !== 0) continue;
    const stack: Array<{ id: number; next: number }> = [{ id: start, next: 0 }];
    state[start] = 1;
    while (stack.length > 0) {
      const top = stack[stack.length - 1];
      const same = nodes[top.id].same;
      if (top.next < same.length) {
        const c = same[top.next++];
        if (state[c] === 1) return { cycle: stack.slice(stack.findIndex((e) => e.id === c)).map((e) => e.id) };
        if (state[c] === 0) {
          state[c] = 1;
          stack.push({ id: c, next: 0 });
        }
        continue;
      }
      state[top.id] = 2;
      order.push(top.id);
      stack.pop();
    }
  }
  return order;
}

/** How patterns are checked: the engine every validator runs (RE2), and JavaScript's syntax. */
export interface PatternEngine {
  /** A problem with `pattern`, or undefined when both engines accept it. */
  check(pattern: string): { code: string; message: string; remedy: string } | undefined;
}
