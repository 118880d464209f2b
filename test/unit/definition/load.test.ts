import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { StatecellError, type Problem } from "../../../runtime/core/errors.js";
import { sha256Hex } from "../../../runtime/core/hash.js";
import { loadChannel, loadTests, lintChannel, requireChannel, MAX_FILE_BYTES, type ChannelPlan } from "../../../runtime/definition/index.js";
import type { RuleContext } from "../../../runtime/rules/index.js";
import { fixture, readFile } from "./helpers.js";

const FILE = "test/fixtures/good/library.yaml";
const TEXT = fixture(FILE);

function load(text = TEXT, modules: Parameters<typeof loadChannel>[2] = { readFile }) {
  return loadChannel(text, { file: FILE }, modules);
}

function plan(text = TEXT): ChannelPlan {
  const r = load(text);
  expect(r.problems.filter((p) => p.severity === "error")).toEqual([]);
  return r.plan as ChannelPlan;
}

function ctx(data: Json, over: Partial<RuleContext> = {}): RuleContext {
  return {
    data,
    state: {},
    block: { height: 1, time: 1_700_000_001_000, hash: "00" },
    signer: "ab",
    token: null,
    channel: { name: "library-loans", version: 3, hash: "h", params: { maxLoans: 5, loanDays: 21 } },
    ...over,
  };
}

/** A minimal channel; `cells` is the YAML of the cells section. */
function channel(cells: string, extra = ""): string {
  return `channel: t\nversion: 1\ngroups:\n  g: { validators: [a, b, c, d], threshold: 3 }\ncells:\n${cells}${extra}`;
}

describe("loadChannel on a good channel", () => {
  const p = plan();

  it("has no problems at all (no warnings either)", () => {
    expect(load().problems).toEqual([]);
  });

  it("resolves groups and thresholds", () => {
    expect(p.groups.desks.threshold).toEqual({ written: 3, quorum: 3, size: 4, safetyFaults: 1, livenessFaults: 1 });
    expect(p.groups.city.threshold).toEqual({ written: "2/3", quorum: 5, size: 7, safetyFaults: 2, livenessFaults: 2 });
    expect(p.groups.archive.threshold).toEqual({ written: 1, quorum: 1, size: 1, safetyFaults: 0, livenessFaults: 0 });
    expect(p.groups.desks.validators).toEqual(["north", "south", "east", "west"]);
    expect(p.groups.desks.description).toBe("The four branch desks.");
  });

  it("orders the pipeline and links upstream and downstream", () => {
    expect(p.order).toEqual(["loans", "overdue", "archive"]);
    expect(p.cells.loans.downstream).toEqual(["overdue"]);
    expect(p.cells.overdue.upstream).toEqual(["loans"]);
    expect(p.cells.overdue.downstream).toEqual(["archive"]);
    expect(p.cells.loans.upstream).toEqual([]);
  });

  it("compiles named and inline schemas with one strict ajv", () => {
    const loan = p.cells.loans.accepts;
    expect(p.cells.loans.schemaName).toBe("Loan");
    expect(loan).toBe(p.schemas.Loan);
    expect(loan.validate({ loan: "l-1", member: "m", book: "isbn-1", at: 0 })).toBe(true);
    expect(loan.validate({ loan: "l-1", member: "m", book: "book", at: 0 })).toBe(false);
    expect(loan.validate.errors?.[0]?.instancePath).toBe("/book");
    expect(p.cells.overdue.schemaName).toBeUndefined();
    expect(p.cells.overdue.accepts.validate({ member: "x", branch: null })).toBe(true);
    expect(p.cells.overdue.accepts.validate({ branch: "x" })).toBe(false);
    expect(p.cells.archive.accepts.validate(42)).toBe(true);
  });

  it("compiles rules with english and messages", () => {
    const [limit, future] = p.cells.loans.rules;
    expect(limit.name).toBe("member-under-limit");
    expect(limit.compiled(ctx({ member: "ann", at: 1 }, { state: { open: { ann: 4 } } }))).toBe(true);
    expect(limit.compiled(ctx({ member: "ann", at: 1 }, { state: { open: { ann: 5 } } }))).toBe(false);
    expect(future.compiled(ctx({ at: 1 }))).toBe(true);
    expect(future.compiled(ctx({ at: 1_800_000_000_000 }))).toBe(false);
    expect(future.english).toBe("data.at is at most block.time");
    expect(future.message).toBe("loan time {data.at} is after the block time");
    expect(limit.location).toEqual(expect.objectContaining({ file: FILE, line: 39, col: 9 }));
  });

  it("compiles the record key, state updates and emits", () => {
    const c = p.cells.loans;
    expect(c.signed).toBe(true);
    expect(c.key?.(ctx({ loan: "l-7" }))).toBe("l-7");
    expect(c.state.map((u) => [u.op, u.path])).toEqual([["add", "open.{data.member}"], ["set", "last.{data.book}"], ["append", "history"]]);
    const parts = c.state[0].pathParts;
    expect(parts[0]).toEqual({ literal: "open" });
    const ph = parts[1] as { expr: (c: RuleContext) => Json; source: string };
    expect(ph.source).toBe("data.member");
    expect(ph.expr(ctx({ member: "bob" }))).toBe("bob");
    expect(c.state[0].value?.(ctx({}))).toBe(1);
    expect(c.state[1].value?.(ctx({ member: "cy" }))).toBe("cy");
    const e = c.emit[0];
    expect(e.to).toBe("overdue");
    expect(e.data?.(ctx({ member: "m", branch: "north" }))).toEqual({ member: "m", branch: "north", days: 21 });
    expect(e.when?.(ctx({ at: 0 }))).toBe(true);
    expect(e.when?.(ctx({ at: 1_700_000_000_000 }))).toBe(false);
    expect(p.cells.overdue.emit[0].data).toBeUndefined();
  });

  it("reads and hashes code files relative to the channel file", () => {
    const code = p.cells.overdue.code!;
    expect(code.path).toBe("./library/overdue.js");
    expect(code.resolved).toBe("test/fixtures/good/library/overdue.js");
    expect(code.sha256).toBe(sha256Hex(new TextEncoder().encode(readFile(code.resolved)!)));
    expect(code.hooks).toEqual(["reduce"]);
    expect(p.cells.overdue.limits).toEqual({ memoryMb: 16, timeMs: 20, blockTimeMs: 2000 });
    expect(p.cells.loans.limits).toEqual({ memoryMb: 32, timeMs: 50, blockTimeMs: 2000 });
  });

  it("uses the injected checkCode for hooks and passes its problems on", () => {
    const problem: Problem = { code: "SANDBOX_SYNTAX", severity: "error", message: "bad", remedy: "fix", location: { file: "x.js", line: 2, col: 3 } };
    const r = load(TEXT, { readFile, checkCode: (_s, f) => ({ hooks: ["validate"], problems: f.endsWith("overdue.js") ? [problem] : [] }) });
    expect(r.plan).toBeUndefined();
    expect(r.problems).toContainEqual(expect.objectContaining({ code: "SANDBOX_SYNTAX", location: problem.location, path: "cells.overdue.code" }));
    const ok = load(TEXT, { readFile, checkCode: () => ({ hooks: ["validate", "transform"], problems: [] }) });
    expect(ok.plan?.cells.overdue.code?.hooks).toEqual(["validate", "transform"]);
  });

  it("resolves snapshots, token, input limits", () => {
    expect(p.snapshots).toEqual({ group: "city", every: 25 });
    expect(p.token).toEqual({ name: "Reading Credit", symbol: "RDC", decimals: 2, group: "city", genesis: { treasury: "100050", north: "1000" }, supply: "101050", fee: { amount: "0" }, feesTo: { burn: true }, pending: { expiresAfter: 60, perAccount: 64 } });
    expect(p.inputLimits).toEqual({ maxBytes: 4096, maxDepth: 8 });
  });

  it("normalises both test forms to steps", () => {
    expect(p.tests.map((t) => t.name)).toEqual(["accepts a loan", "a member at the limit is refused"]);
    expect(p.tests[0].steps).toEqual([
      expect.objectContaining({ kind: "submit", cell: "loans", signer: "ann", expect: { accepted: true }, data: { loan: "l-001", member: "ann", book: "isbn-1", at: 1 } }),
    ]);
    expect(p.tests[1].steps.map((s) => s.kind)).toEqual(["submit", "block", "state", "submit"]);
    expect(p.tests[1].steps[1]).toEqual(expect.objectContaining({ kind: "block", time: 1_700_000_001_000 }));
    expect(p.tests[1].steps[2]).toEqual(expect.objectContaining({ kind: "state", cell: "loans", match: { open: { bob: 1 } } }));
    expect(p.tests[1].steps[3]).toEqual(expect.objectContaining({ expect: { rejected: "not-in-future" } }));
  });

  it("is deep-frozen", () => {
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.cells.loans.rules)).toBe(true);
    expect(Object.isFrozen(p.document)).toBe(true);
    expect(Object.isFrozen(p.groups.desks.validators)).toBe(true);
    // ajv validators write .errors on themselves and must stay writable.
    expect(Object.isFrozen(p.schemas.Loan.validate)).toBe(false);
  });

  it("hashes the definition and the code, not the tests or the formatting", () => {
    expect(p.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan(TEXT.replace("# yaml-language-server", "#   a comment\n# yaml-language-server")).hash).toBe(p.hash);
    expect(plan(TEXT.replace("name: accepts a loan", "name: accepts one loan")).hash).toBe(p.hash);
    expect(plan(TEXT.replace("maxLoans: 5", "maxLoans: 6")).hash).not.toBe(p.hash);
    const other = load(TEXT, { readFile: (f) => (f.endsWith("overdue.js") ? "function reduce(s) { return s; }" : readFile(f)) });
    expect(other.plan?.hash).not.toBe(p.hash);
    expect(other.plan?.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("loadChannel problems", () => {
  const codes = (text: string, modules = {}) => loadChannel(text, { file: "t.yaml" }, modules).problems.map((p) => `${p.severity[0]}:${p.code}@${p.location?.line}:${p.location?.col}`);

  it("refuses files over 1 MiB", () => {
    const big = channel("  c: { group: g, accepts: true }\n", `params:\n  pad: "${"x".repeat(MAX_FILE_BYTES)}"\n`);
    expect(codes(big)).toEqual(["e:DEFINITION_TOO_LARGE@1:1"]);
  });

  it("collects every problem of a file at once", () => {
    const text = channel("  c:\n    grup: g\n    accepts: Nope\n    emit: [ { to: c } ]\n", "snapshots: { group: h, every: 1 }\n");
    expect(codes(text)).toEqual([
      "e:DEFINITION_UNKNOWN_KEY@7:5",
      "e:DEFINITION_UNKNOWN_SCHEMA@8:14",
      "e:DEFINITION_EMIT_SELF@9:19",
      "e:DEFINITION_UNKNOWN_GROUP@10:21",
      "w:DEFINITION_UNUSED_GROUP@4:3",
    ].sort(byLine));
  });

  it("warns about unused groups and schemas, an unsigned signer and a missing token", () => {
    const text =
      "channel: t\nversion: 1\ngroups:\n  g: { validators: [a], threshold: 1 }\n  spare: { validators: [b], threshold: all }\nschemas:\n  Unused: { type: object }\ncells:\n" +
      "  c:\n    group: g\n    accepts: true\n    rules:\n      - name: who\n        require: { '!=': [ { var: signer }, { var: token.x } ] }\n";
    const r = loadChannel(text, { file: "t.yaml" });
    expect(r.plan).toBeDefined();
    expect(r.problems.map((p) => `${p.severity[0]}:${p.code}@${p.location?.line}:${p.location?.col}`)).toEqual([
      "w:DEFINITION_UNUSED_GROUP@5:3",
      "w:DEFINITION_UNUSED_SCHEMA@7:3",
      "w:DEFINITION_NO_TOKEN@14:18",
      "w:DEFINITION_SIGNER_UNSIGNED@14:18",
    ]);
  });

  it("warns about a mapping key that looks like a misspelt operator", () => {
    const text = channel("  c:\n    group: g\n    accepts: true\n    emit: [ { to: d, data: { x: { substring: [ { var: data.a }, 1 ] } } } ]\n  d: { group: g, accepts: true }\n");
    expect(codes(text)).toEqual(["w:DEFINITION_MAYBE_OPERATOR@9:35"]);
  });

  it("points a missing code file at its path, and needs a reader to find any", () => {
    const text = channel("  c: { group: g, accepts: true, code: ../x/hook.js }\n");
    const r = loadChannel(text, { file: "channels/t.yaml" }, { readFile: () => undefined });
    expect(r.problems[0]).toMatchObject({ code: "DEFINITION_CODE_NOT_FOUND", location: { line: 6, col: 39 } });
    expect(r.problems[0].message).toContain("x/hook.js");
    const seen: string[] = [];
    loadChannel(text, { file: "channels/t.yaml" }, { readFile: (p) => (seen.push(p), "function validate() { return true; }") });
    expect(seen).toEqual(["x/hook.js"]);
    expect(codes(text)).toEqual(["e:DEFINITION_CODE_NOT_FOUND@6:39"]);
  });

  it("checks state updates: one op, a value, placeholders, and no records", () => {
    const text = channel(
      "  c:\n    group: g\n    accepts: true\n    state:\n      - set: a\n        add: b\n        value: 1\n      - remove: x.{data.id}\n        value: 2\n      - set: a.{nope.x}\n        value: 1\n      - set: a.constructor\n        value: 1\n      - append: a{data.x}\n        value: 1\n",
    );
    expect(codes(text)).toEqual([
      "e:DEFINITION_CONFLICTING_KEYS@11:9",
      "e:DEFINITION_CONFLICTING_KEYS@14:9",
      "e:DEFINITION_UNKNOWN_ROOT@15:14",
      "e:DEFINITION_FORBIDDEN_KEY@17:14",
      "e:DEFINITION_BAD_PATH@19:17",
    ]);
  });

  it("names YAML syntax errors, duplicate keys and non-JSON values", () => {
    expect(codes("channel: [a\n")).toEqual(["e:DEFINITION_YAML_SYNTAX@2:1"]);
    expect(codes("a: 1\na: 2\n")[0]).toBe("e:DEFINITION_DUPLICATE_KEY@2:1");
    // Every duplicate is reported, and keys that collide once they are JSON text count too.
    const dups = loadChannel("a: 1\nb: { x: 1, y: 2, x: 3 }\n1: a\n'1': b\na: 2\n", { file: "t.yaml" }).problems;
    expect(dups.map((p) => `${p.code}@${p.location?.line}:${p.location?.col}`)).toEqual([
      "DEFINITION_DUPLICATE_KEY@2:18",
      "DEFINITION_DUPLICATE_KEY@4:1",
      "DEFINITION_DUPLICATE_KEY@5:1",
    ]);
    expect(dups[2].message).toBe('the key "a" appears twice in one mapping (first on line 1)');
    expect(codes("")).toEqual(["e:DEFINITION_WRONG_TYPE@1:1"]);
    expect(codes("--- a\n--- b\n")[0]).toMatch(/DEFINITION_YAML_SYNTAX/);
    const ok = channel("  c: { group: g, accepts: true }\n");
    expect(codes(`${ok}params:\n  ? [a, b]\n  : 1\n`)).toEqual(["e:DEFINITION_NOT_JSON@8:5"]);
    expect(codes(`${ok}params: { x: !!binary aGVsbG8= }\n`)).toEqual(["e:DEFINITION_NOT_JSON@7:23"]);
    expect(codes(`${ok}params: { x: .nan }\n`)).toEqual(["e:DEFINITION_NOT_JSON@7:14"]);
    const tagged = loadChannel(`${ok}params: { x: !foo bar }\n`, { file: "t.yaml" });
    expect(tagged.plan).toBeDefined();
    expect(tagged.problems.map((p) => p.code)).toEqual(["DEFINITION_YAML_WARNING"]);
  });

  it("refuses an alias bomb fast", () => {
    let text = 'a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]\n';
    for (let i = 1; i < 12; i++) text += `a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]\n`;
    const t0 = performance.now();
    expect(codes(text)).toEqual(["e:DEFINITION_ALIAS_BOMB@4:45"]);
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("keeps lintChannel and requireChannel consistent with loadChannel", () => {
    const text = channel("  c: { group: nope, accepts: true }\n");
    expect(lintChannel(text, { file: "t.yaml" }).map((p) => p.code)).toEqual(["DEFINITION_UNUSED_GROUP", "DEFINITION_UNKNOWN_GROUP"]);
    let thrown: unknown;
    try {
      requireChannel(text, { file: "t.yaml" });
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(StatecellError);
    expect((thrown as StatecellError).code).toBe("DEFINITION_INVALID");
    expect((thrown as StatecellError).location).toEqual(expect.objectContaining({ file: "t.yaml", line: 6 }));
    expect((thrown as StatecellError).problems.length).toBe(2);
    expect(requireChannel(channel("  c: { group: g, accepts: true }\n"), { file: "t.yaml" }).order).toEqual(["c"]);
  });
});

describe("loadTests", () => {
  const p = plan();
  it("normalises a tests file against the plan", () => {
    const text = "tests:\n  - name: one\n    submit: { cell: loans, data: {} }\n    expect: { rejected: CELL_SCHEMA }\n";
    const r = loadTests(text, { file: "library.test.yaml" }, p);
    expect(r.problems).toEqual([]);
    expect(r.tests).toEqual([{ name: "one", location: expect.objectContaining({ line: 2 }), steps: [expect.objectContaining({ kind: "submit", expect: { rejected: "CELL_SCHEMA" } })] }]);
  });

  it("locates problems in a tests file", () => {
    const text = "tests:\n  - name: one\n    submit: { cell: loans, data: {} }\n    expect: { rejected: not-in-futur }\n  - name: two\n    sumbit: {}\n";
    const r = loadTests(text, { file: "library.test.yaml" }, p);
    expect(r.tests).toEqual([]);
    expect(r.problems.map((q) => `${q.code}@${q.location?.line}:${q.location?.col}`)).toEqual([
      "DEFINITION_UNKNOWN_RULE@4:25",
      "DEFINITION_MISSING_KEY@5:5",
      "DEFINITION_UNKNOWN_KEY@6:5",
    ]);
    expect(r.problems[0].message).toContain('did you mean "not-in-future"');
    expect(loadTests("- a\n", { file: "x.test.yaml" }, p).problems[0].code).toBe("DEFINITION_WRONG_TYPE");
  });
});

function byLine(a: string, b: string): number {
  const pos = (s: string) => s.split("@")[1].split(":").map(Number);
  const [la, ca] = pos(a);
  const [lb, cb] = pos(b);
  return la - lb || ca - cb;
}
