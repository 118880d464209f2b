/**
 * cells: pure block execution (docs/execution.md).
 *
 *   admitInput(plan, cell, raw, signature?) -> BlockInput | Rejected   once per submission
 *   executeBlock(plan, cell, state, inputs, header, modules?) -> BlockResult
 *   stateRootOf / commitmentOf / encodeState / decodeState / plainState
 */
export * from "./types.js";
export { executeBlock, blockVerdicts, MAX_KEY_LENGTH } from "./execute-block.js";
export { outputInput } from "./output-input.js";
export { admitInput, signedMessage, type DetachedSignature } from "./admit.js";
export { stateRootOf, commitmentOf, encodeState, decodeState, recordsSince, userStateText, type EncodedState } from "./commitment.js";
export { plainState } from "./plain-state.js";
export { FORBIDDEN_KEYS } from "./inspect.js";
export { cellReadsToken, tokenReadingCells } from "./token-reads.js";
