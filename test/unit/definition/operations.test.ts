/**
 * The channel language's second pass: cells with operations, rules with
 * `when`, direct submissions to pipeline cells, named hook refusals, emits
 * and tests that name an operation, `add` without a value, replays of signed
 * inputs, and state read but never written.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { loadChannel, loadTests, type ChannelPlan } from "../../../runtime/definition/index.js";
import type { RuleContext } from "../../../runtime/rules/index.js";
import { fixture, readFile } from "./helpers.js";

const FILE = "test/fixtures/good/registry.yaml";

function ctx(data: Json, over: Partial<RuleContext> = {}): RuleContext {
  return { data, state: {}, block: { height: 1, time: 1, hash: "00" }, signer: "ab", token: null, channel: { name: "t", version: 1, hash: "h", params: {} }, ...over };
}

/** A minimal channel; `cells` is the YAML of the cells section. */
function channel(cells: string, extra = ""): string {
  return `channel: t\nversion: 1\ngroups:\n  g: { validators: [a, b, c, d], threshold: 3 }\ncells:\n${cells}${extra}`;
}

function load(text: string, file = "t.yaml") {
  return loadChannel(text, { file }, { readFile: (p) => (p === "hooks.js" ? HOOKS : readFile(p)) });
}

const HOOKS = 'function validate(data) { return data.n > 3 ? { reject: "too-many" } : true; }\n';

function plan(text: string): ChannelPlan {
  const r = load(text);
  expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
  return r.plan as ChannelPlan;
}

const located = (r: ReturnType<typeof load>, severity = "error") => r.problems.filter((p) => p.severity === severity).map((p) => `${p.code} ${p.location?.line}:${p.location?.col}`);

describe("operations", () => {
  const r = loadChannel(fixture(FILE), { file: FILE }, { readFile });
  const p = r.plan as ChannelPlan;

  it("the registry fixture loads without a problem", () => {
    expect(r.problems).toEqual([]);
  });

  it("compiles each operation's schema, rules, key, updates and emits, in the order written", () => {
    const reg = p.cells.registry;
    expect(Object.keys(reg.operations ?? {})).toEqual(["create-collection", "mint", "transfer"]);
    const mint = reg.operations!.mint;
    expect(mint.schemaName).toBe("Mint");
    expect(mint.accepts).toBe(p.schemas.Mint);
    expect(mint.rules.map((x) => x.name)).toEqual(["collection-exists", "owner-mints", "within-supply"]);
    expect(mint.state.map((u) => [u.op, u.path])).toEqual([["add", "collections.{data.collection}.minted"], ["set", "works.{data.collection}.{data.token}"]]);
    expect(mint.emit.map((e) => [e.to, e.op])).toEqual([["archive", "minted"]]);
    expect(mint.emit[0].data?.(ctx({ collection: "prints", token: 2 }))).toEqual({ work: "prints/2" });
    expect(mint.location).toEqual(expect.objectContaining({ file: FILE, line: 72, col: 7 }));
    expect(reg.rules.map((x) => x.name)).toEqual(["not-a-test-collection"]);
    expect(reg.key?.(ctx({ nonce: 7 }))).toBe("ab/7");
    expect(mint.key).toBeUndefined();
  });

  it("a cell with operations accepts any value at its own level (the operation's schema is the one that applies)", () => {
    const reg = p.cells.registry;
    expect(reg.schemaName).toBeUndefined();
    expect(reg.accepts.validate({ anything: [1] })).toBe(true);
    expect(reg.accepts.validate(7)).toBe(true);
    expect(reg.operations!["create-collection"].accepts.validate({ collection: "a", nonce: 1 })).toBe(true);
    expect(reg.operations!["create-collection"].accepts.validate({ collection: "A B", nonce: 1 })).toBe(false);
  });

  it("the emits of operations are pipeline edges: archive receives outputs of registry only", () => {
    expect(p.order).toEqual(["registry", "archive"]);
    expect(p.cells.archive.upstream).toEqual(["registry"]);
    expect(p.cells.archive.direct).toBe(false);
    expect(p.cells.registry.direct).toBe(true);
  });

  it("a cell with operations has no accepts of its own", () => {
    const r2 = load(channel("  c:\n    group: g\n    accepts: true\n    operations:\n      a: { accepts: true }\n"));
    expect(located(r2)).toEqual(["DEFINITION_CONFLICTING_KEYS 8:5"]);
    expect(r2.problems[0].message).toContain('cell "c" has `operations:`, so it has no `accepts` of its own');
  });

  it("each operation must have accepts, and operation names are like cell names", () => {
    const r2 = load(channel("  c:\n    group: g\n    operations:\n      a: { rules: [] }\n      bad name: { accepts: true }\n"));
    expect(located(r2)).toEqual(["DEFINITION_MISSING_KEY 9:7", "DEFINITION_BAD_NAME 10:7"]);
    expect(r2.problems.map((x) => x.message)).toEqual(['operation "a" of cell "c" is missing "accepts"', '"bad name" is not a valid operation name']);
  });

  it("a cell without accepts or operations is told about both", () => {
    const r2 = load(channel("  c: { group: g }\n"));
    expect(located(r2)).toEqual(["DEFINITION_MISSING_KEY 6:3"]);
    expect(r2.problems[0].remedy).toContain("or `operations:`");
  });

  it("an operation's rule may not share a name with a rule of its cell; two operations may share one", () => {
    const r2 = load(channel("  c:\n    group: g\n    rules: [ { name: r, require: true } ]\n    operations:\n      a: { accepts: true, rules: [ { name: r, require: true }, { name: s, require: true } ] }\n      b: { accepts: true, rules: [ { name: s, require: true } ] }\n"));
    expect(located(r2)).toEqual(["DEFINITION_DUPLICATE_NAME 10:44"]);
    expect(r2.problems[0].message).toBe('rule 1 of operation "a" of cell "c" is named "r", like rule 1 of the cell, which applies to every operation');
  });

  it("an emit to a cell with operations must name one of them, and one to a cell without must not", () => {
    const ops = "  d:\n    group: g\n    operations:\n      x: { accepts: true }\n      y: { accepts: true }\n  e: { group: g, accepts: true }\n";
    const missing = load(channel(`  c:\n    group: g\n    accepts: true\n    emit: [ { to: d } ]\n${ops}`));
    expect(located(missing)).toEqual(["DEFINITION_MISSING_KEY 9:13"]);
    expect(missing.problems[0].remedy).toBe("add `op:`, one of: x, y");
    const typo = load(channel(`  c:\n    group: g\n    accepts: true\n    emit: [ { to: d, op: yy } ]\n${ops}`));
    expect(located(typo)).toEqual(["DEFINITION_UNKNOWN_OPERATION 9:26"]);
    expect(typo.problems[0].message).toBe('cell "d" has no operation "yy" (did you mean "y"?)');
    const extra = load(channel(`  c:\n    group: g\n    accepts: true\n    emit: [ { to: e, op: x } ]\n${ops}`));
    expect(located(extra)).toEqual(["DEFINITION_UNKNOWN_OPERATION 9:26"]);
    const good = plan(channel(`  c:\n    group: g\n    accepts: true\n    emit: [ { to: d, op: y } ]\n${ops}`));
    expect(good.cells.c.emit[0].op).toBe("y");
  });

  it("the fan-out check counts the cell's emits and those of its operation with the most", () => {
    const r2 = load(
      channel(
        "  c:\n    group: g\n    emit: [ { to: d }, { to: d } ]\n    operations:\n      a: { accepts: true, emit: [ { to: d } ] }\n      b: { accepts: true, emit: [ { to: d }, { to: d } ] }\n  d: { group: g, accepts: true }\n",
        "limits: { maxOutputsPerInput: 3 }\n",
      ),
    );
    expect(located(r2)).toEqual(["DEFINITION_FAN_OUT 8:5"]);
    expect(r2.problems[0].message).toContain("4 emits, more than `maxOutputsPerInput` (3)");
  });

  it("a reduce hook and the state updates of an operation are refused together", () => {
    const r2 = loadChannel(channel("  c:\n    group: g\n    code: ./h.js\n    operations:\n      a: { accepts: true, state: [ { add: n } ] }\n"), { file: "t.yaml" }, { readFile: () => "function reduce(s) { return s; }\n" });
    expect(located(r2)).toEqual(["DEFINITION_STATE_AND_REDUCE 10:27"]);
  });
});

describe("rules take when:", () => {
  const p = plan(channel("  c:\n    group: g\n    accepts: true\n    rules:\n      - name: small\n        when: { '==': [ { var: data.kind }, big ] }\n        require: { '<': [ { var: data.n }, 10 ] }\n"));

  it("compiles the condition with its source", () => {
    const r = p.cells.c.rules[0];
    expect(r.whenSource).toEqual({ "==": [{ var: "data.kind" }, "big"] });
    expect(r.when?.(ctx({ kind: "big", n: 20 }))).toBe(true);
    expect(r.when?.(ctx({ kind: "small", n: 20 }))).toBe(false);
    expect(p.cells.c.rules[0].compiled(ctx({ n: 20 }))).toBe(false);
  });

  it("a when with an unknown root is located inside it; one reading signer in an unsigned cell is warned about", () => {
    const r = load(channel("  c:\n    group: g\n    accepts: true\n    rules:\n      - name: x\n        when: { var: dta.kind }\n        require: true\n      - name: y\n        when: { var: signer }\n        require: true\n"));
    expect(located(r)).toEqual(["DEFINITION_UNKNOWN_ROOT 11:22"]);
    const w = load(channel("  c:\n    group: g\n    accepts: true\n    rules:\n      - name: y\n        when: { var: signer }\n        require: true\n"));
    expect(located(w, "warning")).toEqual(["DEFINITION_SIGNER_UNSIGNED 11:15"]);
    expect(w.problems[0].message).toContain("in its `when`");
  });
});

describe("direct submissions", () => {
  const cells = (direct: string) => `  a: { group: g, accepts: true, emit: [ { to: b } ] }\n  b: { group: g, accepts: true${direct} }\n`;

  it("a cell with upstream cells takes direct submissions only with direct: true; a source always does", () => {
    expect(plan(channel(cells(""))).cells.b.direct).toBe(false);
    expect(plan(channel(cells(", direct: true"))).cells.b.direct).toBe(true);
    expect(plan(channel(cells(""))).cells.a.direct).toBe(true);
  });
});

describe("named hook refusals", () => {
  const cell = (rejects: string, rules = "") => channel(`  c:\n    group: g\n    accepts: true\n    code: { file: ./hooks.js, rejects: ${rejects} }\n${rules}`);

  it("code: { file, rejects } fills CodePlan.rejects; the string form leaves it empty", () => {
    const p = plan(cell('{ too-many: "more than 3 of one kind" }'));
    expect(p.cells.c.code?.rejects).toEqual({ "too-many": "more than 3 of one kind" });
    expect(p.cells.c.code?.path).toBe("./hooks.js");
    expect(p.cells.c.code?.hooks).toEqual(["validate"]);
    const s = plan(channel("  c:\n    group: g\n    accepts: true\n    code: ./hooks.js\n"));
    expect(s.cells.c.code?.rejects).toEqual({});
  });

  it("a refusal name must be kebab-case, differ from the cell's rule names, and appear in the code file", () => {
    expect(located(load(cell('{ Too_Many: "x" }')))).toEqual(["DEFINITION_BAD_NAME 9:42"]);
    const clash = load(cell('{ too-many: "x" }', "    rules: [ { name: too-many, require: true } ]\n"));
    expect(located(clash)).toEqual(["DEFINITION_DUPLICATE_NAME 9:42"]);
    const unused = load(cell('{ too-many: "x", too-few: "y" }'));
    expect(located(unused)).toEqual([]);
    expect(located(unused, "warning")).toEqual(["DEFINITION_UNUSED_REFUSAL 9:57"]);
    expect(unused.problems[0].message).toBe('code file "./hooks.js" never writes the refusal "too-few" (as a quoted string), so no hook can return it');
  });

  it("tests may expect a declared refusal, and only a declared one", () => {
    const tests = (name: string) => `tests:\n  - name: t\n    submit: { cell: c, data: { n: 4 } }\n    expect: { rejected: ${name} }\n`;
    expect(plan(`${cell('{ too-many: "x" }')}${tests("too-many")}`).tests[0].steps[0]).toEqual(expect.objectContaining({ expect: { rejected: "too-many" } }));
    const r = load(`${cell('{ too-many: "x" }')}${tests("too-mny")}`);
    expect(located(r)).toEqual(["DEFINITION_UNKNOWN_RULE 13:25"]);
    expect(r.problems.find((p) => p.severity === "error")?.message).toBe('cell "c" has no rule or code refusal "too-mny" (did you mean "too-many"?)');
  });
});

describe("tests name operations and codes", () => {
  const cells = "  c:\n    group: g\n    operations:\n      mint: { accepts: true, rules: [ { name: minted, require: true } ] }\n      burn: { accepts: true, rules: [ { name: burnt, require: true } ] }\n  d: { group: g, accepts: true }\n";
  const test = (submit: string, expectation = "accepted") => `${channel(cells)}tests:\n  - name: t\n    submit: ${submit}\n    expect: ${expectation}\n`;

  it("a submission to a cell with operations names one; the step carries it", () => {
    const p = plan(test("{ cell: c, op: mint, data: {} }"));
    expect(p.tests[0].steps[0]).toEqual(expect.objectContaining({ kind: "submit", cell: "c", op: "mint" }));
    expect(located(load(test("{ cell: c, data: {} }")))).toEqual(["DEFINITION_MISSING_KEY 14:5"]);
    expect(located(load(test("{ cell: c, op: mnt, data: {} }")))).toEqual(["DEFINITION_UNKNOWN_OPERATION 14:28"]);
    expect(located(load(test("{ cell: d, op: mint, data: {} }")))).toEqual(["DEFINITION_UNKNOWN_OPERATION 14:28"]);
  });

  it("a rejection is expected by a rule of the cell or of the operation submitted, not of another operation", () => {
    expect(plan(test("{ cell: c, op: mint, data: {} }", "{ rejected: minted }")).tests).toHaveLength(1);
    const r = load(test("{ cell: c, op: mint, data: {} }", "{ rejected: burnt }"));
    expect(located(r)).toEqual(["DEFINITION_UNKNOWN_RULE 15:25"]);
    expect(r.problems[0].message).toBe('neither cell "c" nor its operation "mint" has a rule "burnt"');
  });

  it("an unknown error code is an error with a suggestion; known codes and added ones pass", () => {
    const r = load(test("{ cell: d, data: {} }", "{ rejected: CELL_SCEHMA }"));
    expect(located(r)).toEqual(["DEFINITION_UNKNOWN_CODE 15:25"]);
    expect(r.problems[0].message).toBe('no verdict carries the code "CELL_SCEHMA" (did you mean "CELL_SCHEMA"?), so this test can never pass');
    expect(r.problems[0].remedy).toBe('write "CELL_SCHEMA"');
    expect(located(load(test("{ cell: d, data: {} }", "{ rejected: CELL_NOT_A_SOURCE }")))).toEqual([]);
    const added = loadChannel(test("{ cell: d, data: {} }", "{ rejected: CELL_FUTURE_CODE }"), { file: "t.yaml" }, { verdictCodes: ["CELL_FUTURE_CODE"] });
    expect(added.problems).toEqual([]);
  });

  it("a NAME.test.yaml is checked against the plan's operations, rules, refusals and codes", () => {
    const p = plan(channel(cells));
    const bad = loadTests("tests:\n  - name: t\n    submit: { cell: c, data: {} }\n  - name: u\n    submit: { cell: c, op: burn, data: {} }\n    expect: { rejected: SANDBOX_TIMEOT }\n", { file: "t.test.yaml" }, p);
    expect(bad.problems.map((x) => `${x.code} ${x.location?.line}:${x.location?.col}`)).toEqual(["DEFINITION_MISSING_KEY 3:5", "DEFINITION_UNKNOWN_CODE 6:25"]);
    const good = loadTests("tests:\n  - name: t\n    submit: { cell: c, op: burn, data: {} }\n    expect: { rejected: burnt }\n", { file: "t.test.yaml" }, p);
    expect(good.problems).toEqual([]);
    expect(good.tests[0].steps[0]).toEqual(expect.objectContaining({ op: "burn", expect: { rejected: "burnt" } }));
  });

  it("an expected output may name the operation it is submitted as", () => {
    const src = (op: string) => `${channel(`  s: { group: g, accepts: true, emit: [ { to: c, op: mint } ] }\n${cells}`)}tests:\n  - name: t\n    submit: { cell: s, data: {} }\n    emits: [ { to: c, op: ${op} } ]\n`;
    expect(located(load(src("mint")))).toEqual([]);
    expect(located(load(src("mnit")))).toEqual(["DEFINITION_UNKNOWN_OPERATION 16:27"]);
  });
});

describe("state updates", () => {
  it("`add` without a value adds 1, as the README says; set and append still need one", () => {
    const p = plan(channel("  c:\n    group: g\n    accepts: true\n    state: [ { add: n } ]\n"));
    expect(p.cells.c.state[0]).toEqual(expect.objectContaining({ op: "add", path: "n" }));
    expect(p.cells.c.state[0].value).toBeUndefined();
    expect(located(load(channel("  c:\n    group: g\n    accepts: true\n    state: [ { append: n } ]\n")))).toEqual(["DEFINITION_MISSING_KEY 9:16"]);
  });
});

describe("replays of signed inputs", () => {
  it("a signed cell without a key is warned about, with the signer-and-nonce key as the fix", () => {
    const r = load(channel("  c:\n    group: g\n    accepts: true\n    signed: true\n"));
    expect(r.plan).toBeDefined();
    expect(located(r, "warning")).toEqual(["DEFINITION_REPLAYABLE 9:13"]);
    expect(r.problems[0].remedy).toContain('`key: { cat: [ { var: signer }, "/", { var: data.nonce } ] }`');
    expect(load(channel("  c:\n    group: g\n    accepts: true\n    signed: true\n    key: { var: signer }\n")).problems).toEqual([]);
    expect(load(channel("  c:\n    group: g\n    accepts: true\n")).problems).toEqual([]);
  });

  it("each operation of a signed cell without a key of its own (or the cell's) is warned about", () => {
    const r = load(channel("  c:\n    group: g\n    signed: true\n    operations:\n      a: { accepts: true }\n      b: { accepts: true, key: { var: data.id } }\n"));
    expect(located(r, "warning")).toEqual(["DEFINITION_REPLAYABLE 10:7"]);
    expect(r.problems[0].message).toContain('operation "a" of signed cell "c" has no `key`');
  });
});

describe("state read but never written", () => {
  it("a rule reading a top-level state name no update writes is warned about, with the name meant", () => {
    const r = load(channel("  c:\n    group: g\n    accepts: true\n    rules:\n      - name: r\n        require: { '!': [ { var: 'state.totls.{data.k}' } ] }\n    state: [ { add: 'totals.{data.k}' } ]\n"));
    expect(located(r, "warning")).toEqual(["DEFINITION_UNWRITTEN_STATE 11:34"]);
    expect(r.problems[0].message).toBe('rule "r" reads `state.totls.{data.k}`, but no state update of cell "c" writes `totls`, so it is always missing (did you mean "state.totals.{data.k}"?)');
  });

  it("records, names an operation writes, plain paths and cells whose reduce hook keeps the state are not warned about", () => {
    const ok = load(
      channel(
        "  c:\n    group: g\n    key: { var: data.k }\n    rules:\n      - { name: r, require: { '!': [ { var: 'state.records.{data.k}' } ] } }\n      - { name: s, require: { '!': [ { var: 'state.seen.x' } ] } }\n    operations:\n      a: { accepts: true, state: [ { set: seen.x, value: 1 } ] }\n      b: { accepts: true, rules: [ { name: t, require: { var: [ state.seen, 0 ] } } ] }\n",
      ),
    );
    expect(ok.problems).toEqual([]);
    const reduce = loadChannel(channel("  c:\n    group: g\n    accepts: true\n    code: ./h.js\n    rules: [ { name: r, require: { var: state.anything } } ]\n"), { file: "t.yaml" }, { readFile: () => "function reduce(s) { return s; }\n" });
    expect(reduce.problems).toEqual([]);
  });
});

describe("computed paths", () => {
  it("a typo in the fixed part of a computed var path is caught, with the param meant", () => {
    const r = load(
      `${channel("  c:\n    group: g\n    accepts: true\n    rules:\n      - name: allowed\n        require: { in: [ { var: data.to }, { var: 'channel.params.nxt.{data.from}' } ] }\n")}params:\n  next: { a: [b] }\n`,
    );
    expect(located(r)).toEqual(["DEFINITION_UNKNOWN_PARAM 11:51"]);
    expect(r.problems[0].message).toContain('did you mean "next"?');
  });

  it("state update paths split into one segment per placeholder, dots inside it included, spaces around it trimmed", () => {
    const p = plan(channel("  c:\n    group: g\n    accepts: true\n    state: [ { set: 'a.{ data.x.y }.b', value: 1 } ]\n"));
    const parts = p.cells.c.state[0].pathParts;
    expect(parts.map((x) => ("literal" in x ? x.literal : `{${x.source}}`))).toEqual(["a", "{data.x.y}", "b"]);
    expect(located(load(channel("  c:\n    group: g\n    accepts: true\n    state: [ { set: 'a.x{data.k}', value: 1 } ]\n")))).toEqual(["DEFINITION_BAD_PATH 9:21"]);
  });
});
