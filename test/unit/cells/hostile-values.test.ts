/**
 * Values a stranger controls that once stopped a cell or let a wrong value
 * in: half characters, numbers a double cannot hold, look-alike keys, and
 * outputs without bound. Each becomes a coded verdict for its input; the cell
 * goes on with the next input and the next block.
 */
import { describe, expect, test } from "vitest";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { admitInput, executeBlock, type BlockInput, type CellState, type Rejected } from "../../../runtime/cells/index.js";
import { admit, fakeRunner, header, planFromYaml } from "./helpers.js";

const plan = planFromYaml(`
channel: strangers
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  notes:
    group: g
    accepts: { type: object }
    key: { var: data.id }
    state:
      - set: last
        value: { var: data.text }
      - add: total
        value: { var: data.n }
        when: { "!!": [ { var: data.n } ] }
      - set: "byName.{data.name}"
        value: 1
        when: { "!!": [ { var: data.name } ] }
    emit:
      - to: sink
        data: { text: { var: data.text } }
  sink:
    group: g
    accepts: { type: object }
`);

const rejected = (v: unknown): Rejected => v as Rejected;

/** Runs `inputs` as one block after a block of one good input; returns the result and the state before. */
function afterGood(inputs: BlockInput[]) {
  const first = executeBlock(plan, "notes", {}, [admit(plan, "notes", { id: "good-0", text: "ok" })], header(1));
  const r = executeBlock(plan, "notes", first.state, inputs, header(2));
  return { first, r };
}

describe("a lone surrogate (half of an emoji) is refused with CELL_BAD_TEXT and the cell goes on", () => {
  const half = "\ud83d"; // the first half of 😀

  test("through admission, as raw text with an escape and as a value", () => {
    expect(admitInput(plan, "notes", `{"id":"x","text":"\\ud83d"}`)).toMatchObject({ accepted: false, code: "CELL_BAD_TEXT" });
    expect(admitInput(plan, "notes", { id: "x", text: half })).toMatchObject({ accepted: false, code: "CELL_BAD_TEXT" });
    expect(admitInput(plan, "notes", { id: "x", [half]: 1 })).toMatchObject({ accepted: false, code: "CELL_BAD_TEXT" });
  });

  test("a value that skipped admission is refused by executeBlock, and later blocks still run", () => {
    const { first, r } = afterGood([{ data: { id: "x", text: `a${half}` } }, admit(plan, "notes", { id: "y", text: "😀" })]);
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_BAD_TEXT" });
    expect(r.verdicts[1]).toEqual({ accepted: true });
    expect(() => canonicalString(r.state)).not.toThrow();
    const next = executeBlock(plan, "notes", r.state, [admit(plan, "notes", { id: "z", text: "still alive" })], header(3));
    expect(next.verdicts[0]).toEqual({ accepted: true });
    expect(next.stateRoot).not.toBe(first.stateRoot);
  });

  test("a rejection message quoting such text is made well-formed", () => {
    const r = executeBlock(plan, "notes", {}, [{ data: { id: "x", text: half } }], header(1));
    expect(rejected(r.verdicts[0]).message.isWellFormed()).toBe(true);
  });
});

describe("numbers a double cannot hold exactly are refused with CELL_BAD_NUMBER", () => {
  const CASES: Array<[string, string]> = [
    ["2^53 + 1, which JSON.parse rounds to 2^53", "9007199254740993"],
    ["a 23-digit integer", "12345678901234567890123"],
    ["2^53 itself (adding 1 changes nothing)", "9007199254740992"],
    ["an integer in exponent form", "1e300"],
    ["a decimal with more digits than a double holds", "0.3000000000000000444"],
    ["a positive number that underflows to 0", "1e-400"],
    ["a negative number that underflows to -0", "-1e-400"],
  ];
  test.each(CASES)("%s", (_name, text) => {
    const r = admitInput(plan, "notes", `{"id":"x","n":${text}}`);
    expect(r).toMatchObject({ accepted: false, code: "CELL_BAD_NUMBER" });
    expect(rejected(r).message).toMatch(/exactly|exact/);
  });

  test("exact numbers in any notation are admitted", () => {
    for (const text of ["9007199254740991", "-9007199254740991", "1.0", "1e2", "0.1", "-2.5E-3", "0.30000000000000004", "5e-324", "0"]) {
      expect("accepted" in admitInput(plan, "notes", `{"id":"x","n":${text}}`), text).toBe(false);
    }
  });

  test("a value that skipped admission with an unsafe integer is refused too", () => {
    const r = executeBlock(plan, "notes", {}, [{ data: { id: "x", n: 2 ** 60 } }], header(1));
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_BAD_NUMBER" });
  });

  test("adding to a total past 2^53 - 1 is refused instead of silently changing nothing", () => {
    const near = executeBlock(plan, "notes", {}, [admit(plan, "notes", { id: "a", n: Number.MAX_SAFE_INTEGER })], header(1));
    expect((near.state as { total: number }).total).toBe(Number.MAX_SAFE_INTEGER);
    const r = executeBlock(plan, "notes", near.state, [admit(plan, "notes", { id: "b", n: 1 })], header(2));
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_BAD_VALUE" });
    expect(rejected(r.verdicts[0]).message).toMatch(/exactly/);
    expect(r.stateRoot).toBe(near.stateRoot);
  });

  test("a record key of 2^53 or more gets the same message", () => {
    const keyed = planFromYaml(`
channel: k
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c: { group: g, accepts: { type: object }, key: { "*": [ { var: data.k }, 1024 ] } }
`);
    // The multiplication already leaves the exact range: the rules refuse it with the same explanation.
    const r = executeBlock(keyed, "c", {}, [admit(keyed, "c", { k: 2 ** 50 })], header(1));
    expect(r.verdicts[0]).toMatchObject({ accepted: false });
    expect(rejected(r.verdicts[0]).message).toMatch(/exact/);
    expect(r.stateRoot).toBe(executeBlock(keyed, "c", {}, [], header(1)).stateRoot);
  });
});

describe("look-alike keys: record keys and state path segments must be NFC", () => {
  const nfc = "caf\u00e9";
  const nfd = "cafe\u0301";

  test("the two spellings print the same but only the NFC one is accepted as a record key", () => {
    expect(nfc).not.toBe(nfd);
    expect(nfd.normalize("NFC")).toBe(nfc);
    const r = executeBlock(plan, "notes", {}, [admit(plan, "notes", { id: nfc, text: "a" }), admit(plan, "notes", { id: nfd, text: "b" })], header(1));
    expect(r.verdicts[0]).toEqual({ accepted: true });
    expect(r.verdicts[1]).toMatchObject({ accepted: false, code: "CELL_BAD_KEY" });
    expect(rejected(r.verdicts[1]).message).toMatch(/NFC/);
  });

  test("a state path segment filled with NFD text is refused", () => {
    const r = executeBlock(plan, "notes", {}, [admit(plan, "notes", { id: "1", name: nfd })], header(1));
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_BAD_PATH" });
    const ok = executeBlock(plan, "notes", {}, [admit(plan, "notes", { id: "1", name: nfc })], header(1));
    expect(ok.verdicts[0]).toEqual({ accepted: true });
    expect((ok.state as { byName: Record<string, number> }).byName[nfc]).toBe(1);
  });
});

describe("outputs have limits per input and per block (count and bytes)", () => {
  const fanned = planFromYaml(`
channel: fan
version: 1
limits: { maxOutputsPerBlock: 10, maxOutputBytesPerInput: 1000 }
groups: { g: { validators: [a], threshold: 1 } }
cells:
  src:
    group: g
    accepts: { type: object }
    emit:
      - { to: dst, data: { n: { var: data.n }, pad: { var: data.pad } } }
      - { to: dst, data: { n: { var: data.n } } }
      - { to: dst, data: { n: { var: data.n } } }
  dst: { group: g, accepts: { type: object } }
`);

  test("inputs whose outputs would pass the block's count limit are refused in order, the same way every time", () => {
    const inputs = [1, 2, 3, 4, 5].map((n) => admit(fanned, "src", { n }));
    const r = executeBlock(fanned, "src", {}, inputs, header(1));
    expect(r.verdicts.map((v) => (v.accepted ? "ok" : v.code))).toEqual(["ok", "ok", "ok", "CELL_OUTPUT_LIMIT", "CELL_OUTPUT_LIMIT"]);
    expect(r.outputs).toHaveLength(9);
    expect(rejected(r.verdicts[3]).message).toMatch(/maxOutputsPerBlock/);
    const again = executeBlock(fanned, "src", {}, inputs, header(1));
    expect(again.verdicts).toEqual(r.verdicts);
  });

  test("an input whose outputs take more bytes than the per-input limit is refused before they are built", () => {
    const r = executeBlock(fanned, "src", {}, [admit(fanned, "src", { n: 1, pad: "x".repeat(2000) }), admit(fanned, "src", { n: 2 })], header(1));
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_OUTPUT_LIMIT" });
    expect(r.verdicts[1]).toEqual({ accepted: true });
    expect(r.outputs.every((o) => o.input === 1)).toBe(true);
  });

  test("a transform hook returning 1 MiB per input: 600 inputs are refused quickly instead of building 600 MB", () => {
    const code = planFromYaml(
      `
channel: big
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  src: { group: g, accepts: { type: object }, code: ./t.js, emit: [ { to: dst } ] }
  dst: { group: g, accepts: { type: object } }
`,
      { "t.js": "function transform(d) { return { blob: 'x'.repeat(1 << 20) } }" },
    );
    const mib = "x".repeat(1 << 20);
    const runner = fakeRunner({ transform: () => ({ outputs: [{ blob: mib }] }) });
    const inputs = Array.from({ length: 600 }, (_, n) => admit(code, "src", { n }));
    const t = performance.now();
    const r = executeBlock(code, "src", {} as CellState, inputs, header(1), { code: () => runner });
    expect(performance.now() - t).toBeLessThan(5_000);
    expect(r.verdicts.every((v) => !v.accepted && v.code === "CELL_OUTPUT_LIMIT")).toBe(true);
    expect(r.outputs).toHaveLength(0);
  });

  test("20,000 outputs from one input stop at the per-input limit", () => {
    const many = planFromYaml(
      `
channel: many
version: 1
limits: { maxOutputsPerInput: 100 }
groups: { g: { validators: [a], threshold: 1 } }
cells:
  src: { group: g, accepts: { type: object }, code: ./t.js, emit: [ { to: dst } ] }
  dst: { group: g, accepts: { type: object } }
`,
      { "t.js": "function transform(d) { return [] }" },
    );
    const runner = fakeRunner({ transform: () => ({ outputs: Array.from({ length: 20_000 }, (_, k) => ({ k })) }) });
    const r = executeBlock(many, "src", {}, [admit(many, "src", { n: 1 })], header(1), { code: () => runner });
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code: "CELL_OUTPUT_LIMIT" });
    expect(rejected(r.verdicts[0]).message).toMatch(/maxOutputsPerInput/);
  });
});
