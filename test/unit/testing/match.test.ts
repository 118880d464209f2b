import { describe, it, expect } from "vitest";
import { firstMismatch, describeMismatch, joinPath } from "../../../runtime/testing/match.js";
import { TestKeys } from "../../../runtime/testing/keys.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";

describe("firstMismatch (partial match)", () => {
  it("ignores keys the expectation does not name", () => {
    expect(firstMismatch({ a: 1 }, { a: 1, b: 2 })).toBeNull();
    expect(firstMismatch({}, { a: 1 })).toBeNull();
    expect(firstMismatch({ a: { b: 1 } }, { a: { b: 1, c: [1] }, d: 0 })).toBeNull();
  });

  it("reports the path of the first difference", () => {
    const m = firstMismatch({ totals: { cen: { count: 2 } } }, { totals: { cen: { count: 1, sum: 3 } } });
    expect(m).toEqual({ path: "totals.cen.count", expected: 2, actual: 1, reason: "value" });
    expect(describeMismatch(m!)).toBe("totals.cen.count differs");
  });

  it("reports a missing key, with no actual value", () => {
    const m = firstMismatch({ a: { b: 1 } }, { a: {} });
    expect(m).toEqual({ path: "a.b", expected: 1, actual: undefined, reason: "missing" });
    expect(describeMismatch(m!)).toBe("a.b is missing");
  });

  it("matches arrays element-wise, by position and length", () => {
    expect(firstMismatch([{ a: 1 }, 2], [{ a: 1, z: 0 }, 2])).toBeNull();
    expect(firstMismatch([1, 2], [2, 1])).toMatchObject({ path: "[0]", expected: 1, actual: 2 });
    const short = firstMismatch({ log: [1, 2, 3] }, { log: [1, 2] });
    expect(short).toMatchObject({ path: "log", reason: "length" });
    expect(describeMismatch(short!)).toBe("log has 2 element(s), expected 3");
    expect(firstMismatch([], [1])).toMatchObject({ path: "", reason: "length" });
  });

  it("tells types apart: a string is not a number, null is not an object", () => {
    expect(firstMismatch({ n: 1 }, { n: "1" })).toMatchObject({ path: "n", reason: "type" });
    expect(firstMismatch({ o: {} }, { o: null })).toMatchObject({ path: "o", reason: "type" });
    expect(firstMismatch({ o: {} }, { o: [] })).toMatchObject({ path: "o", reason: "type" });
    expect(firstMismatch(null, null)).toBeNull();
    expect(describeMismatch(firstMismatch({ n: 1 }, { n: "1" })!)).toBe("n is a string, expected a number");
  });

  it('"$absent" asserts that a key is missing', () => {
    expect(firstMismatch({ pending: { x: "$absent" } }, { pending: {} })).toBeNull();
    expect(firstMismatch({ pending: { x: "$absent" } }, { pending: { x: 1 } })).toMatchObject({ path: "pending.x", reason: "present" });
  });

  it("does not read inherited properties as state", () => {
    expect(firstMismatch({ toString: 1 }, {})).toMatchObject({ path: "toString", reason: "missing" });
  });

  it("quotes keys that are not plain identifiers", () => {
    expect(joinPath("a", "b")).toBe("a.b");
    expect(joinPath("", "b")).toBe("b");
    expect(joinPath("a", "x.y")).toBe('a["x.y"]');
    expect(firstMismatch({ "cen-1@1": 2 }, { "cen-1@1": 3 })).toMatchObject({ path: '["cen-1@1"]' });
  });
});

describe("TestKeys", () => {
  const alice = keyPairFromName("alice").publicKey;

  it('replaces "$key:NAME" strings and object keys by the public key hex', () => {
    const keys = new TestKeys();
    expect(keys.substitute({ to: "$key:alice", list: ["$key:alice", "x"], balances: { "$key:alice": 5 } })).toEqual({
      to: alice,
      list: [alice, "x"],
      balances: { [alice]: 5 },
    });
    expect(alice).toMatch(/^[0-9a-f]{64}$/);
  });

  it("replaces references inside composed strings, such as record keys", () => {
    const keys = new TestKeys();
    const bob = keyPairFromName("bob").publicKey;
    expect(keys.substitute({ "$key:alice/0": "$key:alice to $key:bob" })).toEqual({ [`${alice}/0`]: `${alice} to ${bob}` });
    // a dot ends an embedded name (a separator), but belongs to a whole-string name
    expect(keys.substitute("$key:alice.x")).toBe(keyPairFromName("alice.x").publicKey);
    expect(keys.substitute("at $key:alice.")).toBe(`at ${alice}.`);
  });

  it("leaves other strings alone", () => {
    const keys = new TestKeys();
    expect(keys.substitute(["$key:", "$keys:alice", "key:alice", 3, null])).toEqual(["$key:", "$keys:alice", "key:alice", 3, null]);
  });

  it("keeps a __proto__ key as data", () => {
    const keys = new TestKeys();
    const out = keys.substitute(JSON.parse('{"__proto__": {"polluted": true}}')) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(["__proto__"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
