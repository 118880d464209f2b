/**
 * ledger: a validator node's SQLite ledger (blocks, certificates, records,
 * state snapshots, signer store, WAL, evidence, mempool, input statuses,
 * outbox). See docs/ledger.md.
 *
 *   const ledger = openLedger("node.db");
 *   const cell = ledger.cell("air-quality", "readings");
 *   cell.mempool.add(submission, Date.now());            // durable when it returns
 *   cell.commit({ block, state, verdicts, outbox });      // one transaction
 *   const { chain, start, wal } = cell.restart(app);      // after a restart
 */
export { openLedger, type Ledger } from "./ledger.js";
export { CellLedger, CELL_CODEC, GENESIS_HEAD, type ChainBase, type ChainCodec, type SnapshotPolicy } from "./cell-ledger.js";
export { Mempool, type PoolLimits } from "./mempool.js";
export { SqliteSignerStore, SqliteWal, EvidenceStore } from "./consensus-stores.js";
export { Outbox, outputItems } from "./outbox.js";
export { SnapshotChains, type StoredChannelSnapshot, type StoredRegistration } from "./snapshot-chain.js";
export { ChannelVersions, type StoredVersion } from "./channel-versions.js";
export { restoreChainState, startPointAfter, type CellRestart } from "./restore.js";
export { identify, inputId, inputIdOrNone, NO_ENCODING_ID, type Identity } from "./input-id.js";
export { migrate, MIGRATIONS, SCHEMA_VERSION, type Migration } from "./schema.js";
export * from "./types.js";
