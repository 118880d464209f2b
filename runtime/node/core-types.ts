/**
 * The contract between a node's client API (HTTP and the WebSocket stream)
 * and the node's core (hosting channels, mempools, consensus, the ledger).
 * The API is a thin edge over it: it parses and bounds requests, and calls
 * these methods; the core decides.
 */
import type { Json } from "../core/canonical.js";
import type { ExportSource } from "./l0/export-source.js";

/** A submission as a client sends it (POST .../inputs, or on the stream). */
export interface Submission {
  data: Json;
  /** The operation, for a cell with `operations:`. */
  op?: string;
  /** Public key hex of the signer, for a signed submission. */
  signer?: string;
  /** ed25519 hex over RFC 8785 `{ channel, cell, data, op? }`. */
  signature?: string;
}

/**
 * The answer to one submission, in the order sent. `id` is the hex sha256 of
 * the submission's canonical bytes (RFC 8785 of the submission object), so a
 * client can compute it; a resubmission answers the same id with its current
 * status. `pending` means stored durably: it will be committed or rejected.
 */
export interface SubmitResult {
  id: string;
  status: "pending" | "rejected" | "committed";
  code?: string;
  rule?: string;
  message?: string;
}

/** What the node knows of one input (GET /v1/inputs/{id}). */
export interface InputStatus {
  id: string;
  status: "pending" | "committed" | "rejected";
  channel: string;
  cell: string;
  height?: number;
  index?: number;
  code?: string;
  rule?: string;
  message?: string;
}

/** The head of a cell's chain. */
export interface CellHead {
  height: number;
  hash: string;
  stateRoot: string;
}

/** A stored block with its commit certificate. */
export interface StoredBlock {
  height: number;
  hash: string;
  value: Json;
  certificate: Json;
  /** The full local verdicts (messages included; not part of what validators hash). */
  verdicts?: Json;
}

/** Why the node is not ready (GET /readyz answers 503 with these). */
export interface Readiness {
  ready: boolean;
  /** One line per hosted cell that is not ready: "air-quality/readings: 2 of 3 validators connected, quorum 3". */
  missing: string[];
}

/**
 * A token event of a committed block (docs/token.md, "Events"): amounts as
 * decimal strings of base units; `id` is the input that made it (absent for
 * a reward's mint, whose `from` is null).
 */
export type TokenNodeEvent =
  | { type: "Transfer"; channel: string; cell: string; height: number; time: number; from: string | null; to: string | null; amount: string; fee?: string; nonce?: number; spender?: string; input?: number; id?: string }
  | { type: "Approval"; channel: string; cell: string; height: number; time: number; owner: string; spender: string; amount: string; expires: number | null; nonce: number; input: number; id?: string };

/** Events the stream pushes to subscribers. */
export type NodeEvent =
  | { type: "commit"; channel: string; cell: string; height: number; hash: string; inputs: number; rejected: number; time: number }
  | ({ type: "input" } & InputStatus)
  | TokenNodeEvent;

/** The node core as the client API sees it. */
export interface NodeCore {
  /** The channels and cells this node hosts (its validator belongs to their groups). */
  hosted(): Array<{ channel: string; cell: string }>;
  /**
   * Admits submissions to a hosted cell and stores the admitted ones durably
   * before it resolves; never throws for what a client sent (refusals are
   * results with a code: CELL_* from admission, POOL_FULL, TOO_LARGE, ...).
   * `client` is the sender's address (quotas per client); absent for the node's own callers.
   * @throws StatecellError NODE_NOT_HOSTED when the node does not host the cell.
   */
  submit(channel: string, cell: string, submissions: readonly unknown[], client?: string): Promise<SubmitResult[]>;
  inputStatus(id: string): InputStatus | undefined;
  head(channel: string, cell: string): CellHead | undefined;
  block(channel: string, cell: string, height: number): StoredBlock | undefined;
  /** The cell's state as plain JSON (records excluded: read them one at a time). */
  state(channel: string, cell: string): Json | undefined;
  record(channel: string, cell: string, key: string): Json | undefined;
  readiness(): Readiness;
  /** Subscribes to events; returns the unsubscribe function. */
  subscribe(listener: (event: NodeEvent) => void): () => void;
  /** What `statecell export` reads (GET /v1/export/...); absent on a core that serves none. */
  exports?: ExportSource;
}
