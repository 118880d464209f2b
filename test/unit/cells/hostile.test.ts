/**
 * Hostile inputs: each gets a rejection verdict with a
 * code and a reason, the state and its root stay untouched, and
 * Object.prototype stays clean. Through admission (raw text, as from the
 * wire) and through executeBlock directly (values that skipped admission).
 */
import { afterEach, describe, expect, test } from "vitest";
import { canonicalString } from "../../../runtime/core/canonical.js";
import { keyPairFromName, signBytes } from "../../../runtime/core/keys.js";
import { admitInput, executeBlock, signedMessage, stateRootOf, type BlockInput, type Rejected } from "../../../runtime/cells/index.js";
import { admit, header, planFromYaml } from "./helpers.js";

// Default limits (64 KiB, depth 32), an open schema: only admission and limits stand in the way.
const plan = planFromYaml(`
channel: open
version: 1
groups: { g: { validators: [a], threshold: 1 } }
cells:
  c:
    group: g
    accepts: { type: object }
    state:
      - append: seen
        value: 1
  s:
    group: g
    accepts: { type: object }
    signed: true
`);

const deepText = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepValue = (n: number) => {
  let v: unknown = [];
  for (let i = 0; i < n; i++) v = [v];
  return v;
};

/** Hostile raw texts and the code each must get. */
const TEXT_CASES: Array<[string, string, string]> = [
  ["__proto__ key", '{"__proto__": {"polluted": 1}}', "CELL_FORBIDDEN_KEY"],
  ["__proto__ key spelled with escapes", '{"\\u005f_proto__": {"polluted": 1}}', "CELL_FORBIDDEN_KEY"],
  ["constructor.prototype", '{"constructor": {"prototype": {"polluted": 1}}}', "CELL_FORBIDDEN_KEY"],
  ["nested prototype key", '{"a": [{"prototype": 1}]}', "CELL_FORBIDDEN_KEY"],
  ["10k-deep arrays", deepText(10_000), "CELL_TOO_DEEP"],
  ["10k-deep objects", '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000), "CELL_TOO_DEEP"],
  ["10 MB string", `{"s": "${"x".repeat(10 * 1024 * 1024)}"}`, "CELL_TOO_LARGE"],
  ["NaN", '{"v": NaN}', "CELL_NOT_JSON"],
  ["Infinity", '{"v": Infinity}', "CELL_NOT_JSON"],
  ["1e400 (overflows to Infinity)", '{"v": 1e400}', "CELL_BAD_NUMBER"],
  ["-1e400", '{"v": [-1e400]}', "CELL_BAD_NUMBER"],
  ["-0", '{"v": -0}', "CELL_BAD_NUMBER"],
  ["-0.0e5", '{"v": -0.0e5}', "CELL_BAD_NUMBER"],
  ["duplicate keys", '{"v": 1, "v": 2}', "CELL_DUPLICATE_JSON_KEY"],
  ["duplicate keys via escapes", '{"v": 1, "\\u0076": 2}', "CELL_DUPLICATE_JSON_KEY"],
  ["duplicate keys deep inside", '{"a": [{"b": {"x": 1, "y": 2, "x": 3}}]}', "CELL_DUPLICATE_JSON_KEY"],
  ["not JSON", "{sensor: 1}", "CELL_NOT_JSON"],
  ["trailing garbage", '{"a": 1} x', "CELL_NOT_JSON"],
  ["empty text", "", "CELL_NOT_JSON"],
];

afterEach(() => {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, "polluted")).toBe(false);
});

describe("hostile raw submissions are refused at admission", () => {
  test.each(TEXT_CASES)("%s", (_name, text, code) => {
    const t = performance.now();
    const r = admitInput(plan, "c", text);
    const ms = performance.now() - t;
    expect(r).toMatchObject({ accepted: false, code });
    expect((r as Rejected).message.length).toBeGreaterThan(10);
    // Cheap: the 10 MB string is refused by length, deep nesting after maxDepth characters.
    if (code === "CELL_TOO_LARGE" || code === "CELL_TOO_DEEP") expect(ms).toBeLessThan(50);
  });

  test("strings and keys that merely contain the forbidden words are fine", () => {
    const r = admitInput(plan, "c", '{"note": "__proto__ constructor prototype", "protos": 1}');
    expect("accepted" in r).toBe(false);
  });

  test("a key and a value with the same text are not duplicates", () => {
    expect("accepted" in admitInput(plan, "c", '{"a": "a", "b": {"a": 1}}')).toBe(false);
  });

  test("admission canonicalizes once and carries the bytes", () => {
    const r = admit(plan, "c", JSON.parse('{"b": 1.50, "a": "\\u00e9"}'));
    expect(new TextDecoder().decode(r.bytes)).toBe('{"a":"é","b":1.5}');
    expect(Object.isFrozen(r.data)).toBe(true);
  });
});

describe("signatures", () => {
  const alice = keyPairFromName("alice");
  const data = { vote: "yes" };
  const sign = (channel: string, cell: string) => signBytes(alice, signedMessage(channel, cell, data));

  test("a good signature admits with the signer", () => {
    const r = admitInput(plan, "s", JSON.stringify({ data, signer: alice.publicKey, signature: sign("open", "s") }));
    expect(r).toMatchObject({ data, signer: alice.publicKey });
  });

  test("a signature for another cell or channel, or over other data, is CELL_BAD_SIGNATURE", () => {
    for (const signature of [sign("open", "c"), sign("other", "s"), signBytes(alice, signedMessage("open", "s", { vote: "no" }))]) {
      expect(admitInput(plan, "s", { data, signer: alice.publicKey, signature })).toMatchObject({ accepted: false, code: "CELL_BAD_SIGNATURE" });
    }
  });

  test("a signature by someone else is CELL_BAD_SIGNATURE; no envelope is CELL_UNSIGNED; extra keys are refused", () => {
    const bob = keyPairFromName("bob");
    expect(admitInput(plan, "s", { data, signer: bob.publicKey, signature: sign("open", "s") })).toMatchObject({ code: "CELL_BAD_SIGNATURE" });
    expect(admitInput(plan, "s", data)).toMatchObject({ code: "CELL_UNSIGNED" });
    expect(admitInput(plan, "s", { data, signer: alice.publicKey, signature: sign("open", "s"), fee: 1 })).toMatchObject({ code: "CELL_BAD_SUBMISSION" });
    expect(admitInput(plan, "s", { data, signer: "zz", signature: sign("open", "s") })).toMatchObject({ code: "CELL_BAD_SUBMISSION" });
  });

  test("a detached signature works for any cell and sets the signer", () => {
    const r = admitInput(plan, "c", data, { signer: alice.publicKey, signature: signBytes(alice, signedMessage("open", "c", data)) });
    expect(r).toMatchObject({ signer: alice.publicKey });
  });
});

describe("hostile values reaching executeBlock leave the state and its root untouched", () => {
  const proto = JSON.parse('{"__proto__": {"polluted": 1}}') as unknown;
  const ctor = { constructor: { prototype: { polluted: 1 } } };
  const big = { s: "x".repeat(10 * 1024 * 1024) };
  const VALUE_CASES: Array<[string, unknown, string]> = [
    ["__proto__ own key (as JSON.parse makes it)", proto, "CELL_FORBIDDEN_KEY"],
    ["constructor.prototype", ctor, "CELL_FORBIDDEN_KEY"],
    ["10k-deep nesting", { a: deepValue(10_000) }, "CELL_TOO_DEEP"],
    ["10 MB string", big, "CELL_TOO_LARGE"],
    ["NaN", { v: NaN }, "CELL_BAD_NUMBER"],
    ["Infinity", { v: [Infinity] }, "CELL_BAD_NUMBER"],
    ["-0", { v: -0 }, "CELL_BAD_NUMBER"],
    ["undefined", { v: undefined }, "CELL_NOT_JSON"],
    ["a function", { v: () => 1 }, "CELL_NOT_JSON"],
    ["a Date", { v: new Date(0) }, "CELL_NOT_JSON"],
    ["a bigint", { v: 1n }, "CELL_NOT_JSON"],
  ];

  test.each(VALUE_CASES)("%s", (_name, value, code) => {
    const start = executeBlock(plan, "c", {}, [{ data: { ok: 1 } }], header(1)).state;
    const root = stateRootOf(start);
    const text = canonicalString(start);
    const r = executeBlock(plan, "c", start, [{ data: value } as BlockInput], header(2));
    expect(r.verdicts[0]).toMatchObject({ accepted: false, code });
    expect((r.verdicts[0] as Rejected).message.length).toBeGreaterThan(10);
    expect(r.state).toBe(start);
    expect(r.stateRoot).toBe(root);
    expect(canonicalString(start)).toBe(text);
    // The same value through admission gets the same code.
    expect(admitInput(plan, "c", value)).toMatchObject({ accepted: false, code });
  });

  test("a hostile input between two good ones changes nothing for them", () => {
    const good = [{ data: { ok: 1 } }, { data: { ok: 2 } }];
    const clean = executeBlock(plan, "c", {}, good, header());
    const mixed = executeBlock(plan, "c", {}, [good[0], { data: proto } as BlockInput, good[1]], header());
    expect(mixed.verdicts.map((v) => v.accepted)).toEqual([true, false, true]);
    expect(mixed.stateRoot).toBe(clean.stateRoot);
  });
});
