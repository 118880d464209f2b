/**
 * token: a channel's own token as a pure state machine (docs/token.md).
 *
 *   tokenConfig(plan, resolve) -> TokenConfig        the plan's token with names bound to keys
 *   genesisTokenState(config) -> TokenState          balances at genesis
 *   applyTokenBlock(config, state, subs, header)     verdicts, events, next state, root
 *   tokenStateRoot(state) -> hex                     what snapshots carry
 *   encodeTokenState / decodeTokenState              the ledger's copy
 *   signTokenOp(channel, key, op)                    a client's signed submission
 *   PendingTransfers                                 the mempool policy for nonce gaps
 *   tokenView(plan, state, height)                   what other cells' rules read as `token`
 * Never does I/O; imports only core, rules and definition.
 */
export * from "./types.js";
export * from "./amount.js";
export * from "./config.js";
export * from "./state.js";
export * from "./encode.js";
export * from "./submission.js";
export * from "./apply.js";
export * from "./pending.js";
export * from "./view.js";
export { TOKEN_CELL } from "../definition/token-amount.js";
