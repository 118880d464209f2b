/**
 * Hostile text: every string the isolate hands back (outputs, reduce state,
 * keys, reasons, messages) is well-formed Unicode, so canonical JSON can
 * encode every verdict and output. Clips never cut a character in half; a lone
 * surrogate a hook makes (with String.prototype.slice, say) faults that input
 * SANDBOX_OUTPUT with its path, or is replaced by U+FFFD in display text.
 */
import { afterAll, describe, expect, it } from "vitest";
import { canonicalString } from "../../../runtime/core/index.js";
import { disposeAll, items, runner, wellFormed } from "./helpers.js";

afterAll(disposeAll);

const EMOJI = "\u{1F600}";
const HALF = "\uD83D";

/** What block execution does with a verdict or an output: it must encode canonically. */
function encodes(value: unknown): boolean {
  try {
    canonicalString(value);
    return true;
  } catch {
    return false;
  }
}

describe("clipped messages and reasons", () => {
  const r = () =>
    runner(`
      function validate(d) {
        const long = "a".repeat(999) + "${EMOJI}" + "tail";
        if (d.kind === "reject") return { reject: long };
        if (d.kind === "throw") throw new Error(long);
        if (d.kind === "string") throw long;
        return true;
      }`);

  it.each(["reject", "throw", "string"])("a 999-character %s followed by an emoji keeps the emoji whole", (kind) => {
    const [res] = r().validate(items([{ kind }]));
    const text = "reason" in res ? res.reason : (res as { message: string }).message;
    expect(text).toBe(`${"a".repeat(999)}${EMOJI}...`);
    expect(wellFormed(text)).toBe(true);
    expect(encodes(res)).toBe(true);
  });

  it("clips 5,000 emoji to 1,000 code points", () => {
    const [res] = runner(`function validate() { return { reject: "${EMOJI}".repeat(5000) }; }`).validate(items([{}]));
    const reason = (res as { reason: string }).reason;
    expect(Array.from(reason).length).toBe(1003);
    expect(reason.endsWith(`${EMOJI}...`)).toBe(true);
  });
});

describe("lone surrogates a hook makes", () => {
  const cut = `"x${EMOJI}".slice(0, 2)`;

  it("faults a transform output with one, naming its path", () => {
    const r = runner(`function transform(d) { return d.key ? { [${cut}]: 1 } : { ok: 1, name: [${cut}] }; }`);
    const res = r.transform(items([{}, { key: true }]));
    expect(res).toEqual([
      { fault: "SANDBOX_OUTPUT", message: "the string at /0/name/0 is not well-formed Unicode: it has a lone surrogate \\ud83d at index 1 (a character cut in half?)" },
      { fault: "SANDBOX_OUTPUT", message: "the object at /0 has a key that is not well-formed Unicode: it has a lone surrogate \\ud83d at index 1 (a character cut in half?)" },
    ]);
    for (const x of res) expect(encodes(x)).toBe(true);
  });

  it("faults a reduce state with one and keeps the state before it", () => {
    const r = runner(`function reduce(s, d) { s.n += 1; if (d.bad) s.label = ${cut}; return s; }`);
    const out = r.reduce({ n: 0 }, items([{}, { bad: true }, {}]));
    expect(out.results).toEqual([
      { ok: true },
      { fault: "SANDBOX_OUTPUT", message: "the string at /label is not well-formed Unicode: it has a lone surrogate \\ud83d at index 1 (a character cut in half?)" },
      { ok: true },
    ]);
    expect(out.state).toEqual({ n: 2 });
    expect(encodes(out.state)).toBe(true);
  });

  it("faults a reject reason with one, naming /reject", () => {
    const [res] = runner(`function validate() { return { reject: ${cut} }; }`).validate(items([{}]));
    expect(res).toEqual({ fault: "SANDBOX_OUTPUT", message: "the reason at /reject is not well-formed Unicode: it has a lone surrogate \\ud83d at index 1 (a character cut in half?)" });
  });

  it("replaces one in a thrown message (display text) by U+FFFD", () => {
    const res = runner(`function validate(d) { if (d.obj) throw { why: ${cut} }; throw new Error("bad " + ${cut}); }`).validate(items([{}, { obj: true }]));
    expect(res[0]).toEqual({ fault: "SANDBOX_THROW", message: "bad x\uFFFD" });
    expect(res[1]).toEqual({ fault: "SANDBOX_THROW", message: '{"why":"x\\ud83d"}' });
    for (const x of res) expect(encodes(x)).toBe(true);
  });

  it("replaces one in an unhandled rejection's message, which the host reports", () => {
    const [res] = runner(`function validate() { Promise.reject(new Error("late ${HALF}")); return true; }`).validate(items([{}]));
    expect(res).toMatchObject({ fault: "SANDBOX_THROW" });
    expect(wellFormed((res as { message: string }).message)).toBe(true);
    expect((res as { message: string }).message).toContain("late \uFFFD");
  });
});
