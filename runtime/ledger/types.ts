/**
 * The vocabulary of a validator node's ledger: what a commit takes, what a
 * restart gets back, mempool entries, input statuses and outbox rows. Plain
 * data; docs/ledger.md describes the tables behind them.
 */
import type { Json } from "../core/canonical.js";
import type { EncodedState, Verdict } from "../cells/index.js";
import type { CellChainState, CertifiedBlock } from "../consensus/index.js";

/** Options of `openLedger`. Bounds are per (channel, cell). */
export interface LedgerOptions {
  /**
   * Store the user fields' snapshot at every commit while the last snapshot
   * was at most this many bytes of JSON (default 65,536).
   */
  snapshotMaxBytes?: number;
  /** Otherwise at least every this many blocks (default 100). */
  snapshotEvery?: number;
  /** Most pending inputs in one cell's mempool (default 10,000). */
  mempoolMaxInputs?: number;
  /** Most bytes (canonical UTF-8) of pending inputs in one cell's mempool (default 64 MiB). */
  mempoolMaxBytes?: number;
  /** ms to wait for a ledger another connection holds before LEDGER_LOCKED (default 1,000). */
  lockTimeoutMs?: number;
}

/** The newest committed block of a cell; height 0 (hash of 64 zeros, empty root) before the first. */
export interface LedgerHead {
  height: number;
  /** Value id of the block (the certificate's valueId): the next block's prevHash. */
  hash: string;
  stateRoot: string;
  /** Block time (unix ms) of the head block; 0 at genesis. */
  time: number;
  /** Records in the cell's state after the head block. */
  recordCount: number;
}

/** A row for the outbox: delivered later, at most once per key. */
export interface OutboxItem {
  /** Idempotency key: enqueueing a key twice keeps the first row. */
  key: string;
  /** Where it goes: e.g. `channel/cell` for a downstream cell's input, `l0` for a snapshot. */
  target: string;
  /** What it is: e.g. `output`, `snapshot`. */
  kind: string;
  payload: Json;
}

/** An outbox row as stored. */
export interface OutboxRow extends OutboxItem {
  /** Where it came from, when a block commit queued it. */
  source: { channel: string; cell: string; height: number } | null;
  /** Arrival order of the outbox. */
  seq: number;
  /** Time it was marked delivered (unix ms), or null. */
  delivered: number | null;
}

/** One event of an account's history (`CellLedger.accountEvents`): the block's height, its place in the block, the event. */
export interface AccountEvent {
  height: number;
  seq: number;
  event: Json;
}

/** Everything one block's commit stores, in one transaction. */
export interface BlockCommit<S = CellChainState> {
  /** The decided block as consensus certified it (the `decide` effect's block). */
  block: CertifiedBlock;
  /** The cell's chain state after the block (`app.applyValue`). */
  state: S;
  /** The local full verdicts of the block's inputs (`app.verdictsOf(value)`), for clients; optional. */
  verdicts?: readonly Verdict[];
  /** Rows the block queues for delivery (its outputs to downstream cells, see `outputItems`). */
  outbox?: readonly OutboxItem[];
  /** Events of the block by account (the token's history), `seq` their place in the block; one account may appear in several. */
  accounts?: ReadonlyArray<{ account: string; seq: number; event: Json }>;
}

/** What a commit did. */
export interface CommitResult {
  height: number;
  hash: string;
  /** True when this very block was already the ledger's block at that height (nothing written). */
  already: boolean;
  /** Records the block added. */
  records: number;
  /** Whether a state snapshot was stored with it. */
  snapshot: boolean;
}

/** A committed block as stored. */
export interface StoredBlock {
  block: CertifiedBlock;
  /** The full local verdicts given at commit, or null. */
  verdicts: Verdict[] | null;
}

/** Where a restarted cell starts: the latest snapshot, the records it had, and the blocks after it. */
export interface RestorePoint {
  head: LedgerHead;
  /** The snapshot restored from (height 0: genesis, no snapshot). */
  snapshot: { height: number; time: number; stateRoot: string; recordCount: number };
  /** `encodeState` of the snapshot's state: its user fields and its records in arrival order. */
  encoded: EncodedState;
  /** The snapshot's stored text (null at genesis): what a chain with its own codec decodes. */
  text: string | null;
  /** The outputs counts of the chain at the snapshot (from its block's value: `sent`, `received`), and the token head it read (a cell that reads the token). */
  counts: { sent: Record<string, number>; received: Record<string, number>; token?: { height: number; root: string } };
  /** The blocks after the snapshot, in height order, for the caller to re-execute (`restoreChainState`). */
  blocks: CertifiedBlock[];
}

/** Status of an input as `GET /v1/inputs/{id}` shows it. */
export type InputState = "pending" | "committed" | "rejected";

/** One row of the input status index. */
export interface InputStatus {
  /** Hex sha256 of the submission's canonical (RFC 8785) bytes. */
  id: string;
  channel: string;
  cell: string;
  status: InputState;
  /** Block height and index in it, once in a block; null while pending or when refused before any block. */
  height: number | null;
  index: number | null;
  /** For a rejected input: the verdict's code, rule and message (message null when only the block's verdict was known). */
  code: string | null;
  rule: string | null;
  message: string | null;
  /** When this node's mempool took it (unix ms), or null for an input this node first saw in a block. */
  received: number | null;
}

/** A pending mempool entry. */
export interface PendingInput {
  id: string;
  /** The submission, parsed once and then the same object on every read (treat it as immutable). */
  submission: Json;
  /** Canonical UTF-8 length. */
  bytes: number;
  received: number;
}

/** The mempool's answer to an add: taken, already known, or refused (never a silent drop). */
export type AddResult =
  | { status: "added"; id: string }
  | { status: "known"; id: string; input: InputStatus }
  | { status: "refused"; id: string; code: "LEDGER_POOL_FULL" | "LEDGER_INPUT_TOO_LARGE"; message: string; remedy: string };

/** A refusal of an input before any block (e.g. admission refused it when a block was built). */
export interface Refusal {
  code: string;
  message: string;
  rule?: string;
}

/** Re-exported for callers that build commits. */
export type { CellChainState, CertifiedBlock };
