/**
 * What a stranger controls never makes the token cell throw: any JSON as a
 * submission, prototype keys, a hundred thousand fields, amounts with a
 * thousand digits, nonces past 2^53, and hostile block values at a validator.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Json } from "../../../runtime/core/canonical.js";
import { GENESIS_HASH } from "../../../runtime/consensus/index.js";
import { genesisTokenChain, tokenApplication } from "../../../runtime/node/token-application.js";
import { applyTokenBlock, genesisTokenState, signTokenOp } from "../../../runtime/token/index.js";
import { configOf, key, pub, tokenChannel } from "./helpers.js";

const plan = tokenChannel(`name: Coin\nsymbol: CN\ngenesis: { alice: 1000 }`);
const config = configOf(plan);
const header = { height: 1, time: 1_700_000_000_000 };
const codeOf = (sub: unknown) => {
  const v = applyTokenBlock(config, genesisTokenState(config), [sub], header).verdicts[0];
  return v.accepted ? "ok" : v.code;
};

describe("hostile token submissions", () => {
  it("any JSON value is refused with a code, never a throw", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (data, other) => {
        for (const sub of [data, { data, signer: other, signature: other }, { data: { type: "transfer", from: data, to: other, amount: data, nonce: other } }]) {
          const r = applyTokenBlock(config, genesisTokenState(config), [sub], header);
          expect(r.verdicts[0].accepted).toBe(false);
          expect((r.verdicts[0] as { code: string }).code).toMatch(/^TOKEN_/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("prototype keys, huge objects, long amounts and unsafe nonces", () => {
    const good = signTokenOp(plan.channel, key("alice"), { type: "transfer", from: pub("alice"), to: pub("bob"), amount: 1n, nonce: 1 });
    expect(codeOf(JSON.parse(`{"data":{"type":"transfer","__proto__":{"x":1},"from":"${pub("alice")}","to":"${pub("bob")}","amount":"1","nonce":1},"signer":"${pub("alice")}","signature":"${good.signature}"}`))).toBe("TOKEN_BAD_SUBMISSION");
    expect(codeOf(JSON.parse(`{"__proto__":1,"data":{}}`))).toBe("TOKEN_BAD_SUBMISSION");
    const wide: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) wide[`k${i}`] = i;
    expect(codeOf({ data: { ...wide, type: "transfer" } })).toBe("TOKEN_BAD_SUBMISSION");
    expect(codeOf({ ...good, data: { ...good.data, amount: "9".repeat(1000) } })).toBe("TOKEN_AMOUNT");
    expect(codeOf({ ...good, data: { ...good.data, amount: "340282366920938463463374607431768211456" } })).toBe("TOKEN_AMOUNT");
    expect(codeOf({ ...good, data: { ...good.data, nonce: 2 ** 53 } })).toBe("TOKEN_BAD_NONCE");
    expect(codeOf({ ...good, data: { ...good.data, nonce: 1.5 } })).toBe("TOKEN_BAD_NONCE");
    expect(codeOf({ ...good, signature: "zz".repeat(64) })).toBe("TOKEN_NOT_SIGNED_BY_SOURCE");
    expect(codeOf({ ...good, signature: 5 })).toBe("TOKEN_NOT_SIGNED_BY_SOURCE");
    expect(codeOf(good)).toBe("ok");
  });

  it("a validator answers false to any hostile block value, and never throws", () => {
    const app = tokenApplication(plan, config);
    const ctx = { height: 1, prevHash: GENESIS_HASH, state: genesisTokenChain(config) };
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (inputs, verdicts) => {
        const v = { height: 1, prevHash: GENESIS_HASH, time: header.time, inputs, verdicts, stateRoot: "x" } as Json;
        expect(app.validateValue(ctx, v)).toBe(false);
        expect(app.validateValue(ctx, inputs as Json)).toBe(false);
        expect(app.valueId(v)).toMatch(/^[0-9a-f]{64}$/);
      }),
      { numRuns: 200 },
    );
  });
});
