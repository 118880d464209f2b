/**
 * consensus: Tendermint-style BFT per (channel, cell) group as a pure state
 * machine, with the signer guard, WAL, evidence and commit certificates.
 * See docs/consensus.md.
 */
export * from "./types.js";
export * from "./validator-set.js";
export * from "./messages.js";
export * from "./verifier.js";
export * from "./certificate.js";
export * from "./storage.js";
export * from "./state.js";
export { step, type StepResult } from "./step.js";
export * from "./replay.js";
export { gossipMessages } from "./gossip.js";
export { exceedsJsonSize, jsonSizeEstimate } from "./frame-size.js";
export {
  admitSubmission,
  cellApplication,
  genesisCellChain,
  outputEntry,
  outputsHashOf,
  verdictJson,
  type CellApplicationPorts,
  type DeliveredOutput,
  type SentOutput,
  type BlockVerdict,
  type CellApplication,
  type CellChainState,
  type CellBlockValue,
  type HeldTokenView,
  type TokenRead,
} from "./cell-application.js";
export { runLocalGroup, type LocalNode, type LocalGroupOptions } from "./local-group.js";
export * from "./catchup.js";
export * from "./ports.js";
export { createGroupDriver, type GroupDriver, type GroupDriverConfig, type DriverCounters } from "./driver.js";
export { versionedApplication, type ApplicationVersion, type VersionedApplication } from "./versioned-application.js";
