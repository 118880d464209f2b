/**
 * l0: the global L0 ledger of channel snapshots (docs/l0.md). The contract
 * (types.ts) and its encodings, the pure decisions (acceptance of snapshots,
 * registrations, upgrades, resumes), the global chain and its checks, the
 * embedded service on SQLite, its HTTP API and the client the channel side
 * uses.
 */
export * from "./types.js";
export * from "./encoding.js";
export * from "./model.js";
export { acceptSnapshot, DEFAULT_MAX_SNAPSHOT_BYTES, MAX_EVIDENCE_PER_FREEZE, type AcceptOptions, type Acceptance, type CheckedSnapshot } from "./accept.js";
export {
  acceptRegistration,
  acceptUpgrade,
  acceptResume,
  upgradeReadiness,
  currentDefinition,
  scheduledDefinition,
  DEFAULT_MAX_RECORD_BYTES,
  MAX_OPEN_UPGRADES,
  type RegistrationDecision,
  type UpgradeDecision,
  type ResumeDecision,
  type UpgradeProposal,
  type UpgradeReadiness,
  type UpgradeStatus,
  type Approval,
} from "./governance.js";
export { checkSnapshotCertificate, checkApprovals } from "./signatures.js";
export { buildGlobal, certifyEmbedded, embeddedValidators, verifyGlobal, signAck, verifyAck, type GlobalTip, type GlobalCheck } from "./global.js";
export { L0Store, L0_MIGRATIONS, type StoredSnapshot } from "./store.js";
export { openL0, L0Service, DEFAULT_MAX_PER_GLOBAL, type L0ServiceOptions, type SnapshotAnswer, type RegistrationAnswer, type UpgradeAnswer, type ResumeAnswer, type ChannelView, type L0Info } from "./service.js";
export { startL0Http, httpStatusOf, type L0Http, type L0HttpOptions } from "./http.js";
export { l0Client, type L0Client, type L0ClientOptions, type L0Failure, type L0Result } from "./client.js";
export { loadL0Config, loadKeyFile, type L0Config } from "./config.js";
export { startL0, type RunningL0 } from "./process.js";
export { schemaProblem, API_SCHEMAS, type ApiSchema } from "./api-schemas.js";
export { globalApplication, type ClusterPorts, type GlobalChain } from "./cluster.js";
