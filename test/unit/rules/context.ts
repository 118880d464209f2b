/** Rule contexts for the rules tests. */
import type { Json } from "../../../runtime/core/canonical.js";
import type { RuleContext } from "../../../runtime/rules/index.js";

/** 2023-11-14T22:13:20.000Z, the default block time of channel tests at height 0. */
export const BLOCK_TIME = 1_700_000_000_000;

export function ctxWith(data: Json, over: Partial<RuleContext> = {}): RuleContext {
  return {
    data,
    state: {},
    block: { height: 1, time: BLOCK_TIME, hash: "ab".repeat(32) },
    signer: null,
    token: null,
    channel: { name: "air-quality", version: 1, hash: "cd".repeat(32), params: { max: 500 } },
    ...over,
  };
}
