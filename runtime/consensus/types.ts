/**
 * The vocabulary of the consensus core: signed messages, the events a host
 * feeds into `step`, and the effects `step` asks the host to carry out.
 * Everything here is plain data so it can be logged, persisted, replayed and
 * sent over a wire unchanged.
 */
import type { Json } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";

/** The two vote kinds of Tendermint. */
export type VoteType = "prevote" | "precommit";
/** Every signed message kind. */
export type MessageType = "proposal" | VoteType;
/** The step of a round; `new-height` is the wait after a decision (timeoutCommit). */
export type RoundStep = "new-height" | "propose" | "prevote" | "precommit";

/** PROPOSAL(h, r, value, validRound), signed by the round's proposer over the value id. */
export interface Proposal {
  type: "proposal";
  channel: string;
  cell: string;
  height: number;
  round: number;
  /** -1, or the earlier round in which a quorum prevoted this value (its proof-of-lock round). */
  validRound: number;
  /** `app.valueId(value)`: 64 lowercase hex characters. */
  valueId: string;
  value: Json;
  /** Public key of the signer, 64 hex. */
  validator: string;
  /** ed25519 over `signingBytes(this)`, 128 hex. */
  signature: string;
}

/** PREVOTE / PRECOMMIT(h, r, id | nil). */
export interface Vote {
  type: VoteType;
  channel: string;
  cell: string;
  height: number;
  round: number;
  /** The value id voted for, or null for nil. */
  valueId: string | null;
  validator: string;
  signature: string;
}

export type ConsensusMessage = Proposal | Vote;

/** One precommit signature inside a commit certificate. */
export interface CertificateSignature {
  validator: string;
  signature: string;
}

/**
 * A commit certificate: a quorum of precommits for one value at one
 * (height, round). Each signature is over the precommit's canonical bytes,
 * so anyone holding the group's keys can check it without the votes.
 */
export interface CommitCertificate {
  channel: string;
  cell: string;
  height: number;
  round: number;
  valueId: string;
  signatures: CertificateSignature[];
}

/** A decided block as stored in a ledger and served to nodes that catch up. */
export interface CertifiedBlock {
  height: number;
  value: Json;
  certificate: CommitCertificate;
}

/** Which timeout fired, for which (height, round). */
export interface TimeoutRef {
  step: "commit" | "propose" | "prevote" | "precommit";
  height: number;
  round: number;
}

/** Events the host feeds into `step`. `now` is the host's clock (ms); only a proposer's block time reads it. */
export type ConsensusEvent =
  | { kind: "start"; now: number }
  /** A frame from a peer (or replayed from the WAL). `frame` is untrusted: its shape is checked. */
  | { kind: "message"; frame: unknown; now: number; from?: string }
  | { kind: "timeout"; timeout: TimeoutRef; now: number }
  /** The host's pending inputs, offered for the next proposal this node makes. */
  | { kind: "inputs"; inputs: readonly Json[]; now: number }
  /** A block fetched while catching up; applied only if its certificate verifies. */
  | { kind: "certified-block"; block: unknown; now: number; from?: string };

/** Why a frame or block was not used. Counted by the host (metrics). */
export type DropReason =
  | "malformed"
  /** Over `limits.maxFrameBytes` (checked before the frame is hashed or parsed further). */
  | "too-large"
  | "wrong-channel"
  | "wrong-cell"
  | "non-member"
  | "not-proposer"
  | "bad-signature"
  | "bad-value-id"
  | "stale-height"
  | "future-height"
  | "round-too-far"
  | "duplicate"
  | "equivocation"
  | "too-many-proposals"
  | "bad-certificate"
  | "invalid-certified-value"
  | "signer-guard"
  /** A catch-up request over the per-peer rate (the group driver). */
  | "rate-limited"
  /** A catch-up response nobody asked that peer for, or for a height not asked (the group driver). */
  | "unsolicited";

/** Two different signed messages from one validator for the same (height, round, type). */
export interface Evidence {
  kind: "duplicate-vote" | "duplicate-proposal";
  validator: string;
  height: number;
  round: number;
  type: MessageType;
  first: ConsensusMessage;
  second: ConsensusMessage;
}

/**
 * What this node last signed. The signer guard persists it BEFORE the signed
 * message leaves, and refuses anything at or below it after a restart.
 */
export interface SignedRecord {
  height: number;
  round: number;
  /** 0 proposal, 1 prevote, 2 precommit: signing order inside a round. */
  step: 0 | 1 | 2;
  valueId: string | null;
  /** The exact message signed, re-sent unchanged if asked to sign the same step again. */
  message: ConsensusMessage;
}

/** One WAL entry: an event that changed this height's state, replayed after a restart. */
export interface WalEntry {
  height: number;
  event: Extract<ConsensusEvent, { kind: "message" } | { kind: "timeout" }>;
}

/**
 * Effects, in order. The host executes them in order and MUST complete a
 * `persist` before executing any effect after it: that is what keeps a
 * signature from leaving before the guard has recorded it.
 */
export type ConsensusEffect =
  | { kind: "persist"; record: SignedRecord }
  | { kind: "wal"; entry: WalEntry }
  | { kind: "broadcast"; message: ConsensusMessage }
  | { kind: "schedule-timeout"; timeout: TimeoutRef; duration: number }
  | { kind: "decide"; block: CertifiedBlock; valueId: string; source: "consensus" | "catch-up" }
  | { kind: "evidence"; evidence: Evidence }
  /** This node is behind: ask `peer` for certified blocks from `fromHeight` on. */
  | { kind: "request-catchup"; peer: string; fromHeight: number }
  /** `peer` served something only a faulty peer serves (a bad certificate): disconnect it. */
  | { kind: "bad-peer"; peer: string | undefined; reason: DropReason; detail: string }
  | { kind: "drop"; reason: DropReason; detail?: string; validator?: string };

/** What a proposer's application sees when it builds a block. */
export interface BuildContext<S> {
  height: number;
  round: number;
  prevHash: string;
  /** Block time: the proposer's clock, never the validator's. */
  time: number;
  state: S;
  pending: readonly Json[];
}

/** What a validator's application sees when it checks a proposed block. */
export interface ValidateContext<S> {
  height: number;
  prevHash: string;
  state: S;
  /**
   * The value comes with a commit certificate of a quorum of the group (catch-up),
   * not as a proposal. The value must still re-execute, but what only this node's
   * surroundings can confirm (outputs of other cells delivered to it, its own
   * hook timing, other chains it follows) is the quorum's word: a node that was
   * down has not been delivered those yet, and would otherwise refuse a block
   * every honest validator signed.
   */
  certified?: boolean;
}

/**
 * The replicated application, as pure functions. The cells module's
 * executeBlock plugs in here: a value is ordered inputs + verdicts + state
 * root, and `validateValue` re-executes and compares. Whatever a function
 * throws stops the step with CONSENSUS_APP_FAULT (a CONSENSUS_* error goes
 * out unchanged): a throw means this node is broken, never that a peer sent
 * something bad (docs/consensus.md, "Faults").
 */
export interface Application<S> {
  buildValue(ctx: BuildContext<S>): Json;
  /** Re-execute and compare. Hostile values (wrong shapes, unhashable parts) answer false and never throw. */
  validateValue(ctx: ValidateContext<S>, value: Json): boolean;
  /** A 64-hex digest binding every byte of the value (e.g. hashJson("block", value)); may throw on an unhashable proposal (dropped as malformed). */
  valueId(value: Json): string;
  /** The state after a decided (hence valid) value; throws CONSENSUS_APP_DIVERGED when it cannot reproduce it. */
  applyValue(state: S, value: Json): S;
  /** Pending inputs still to propose once `value` is decided (default: none kept). */
  remainingInputs?(pending: readonly Json[], value: Json): readonly Json[];
}

/** Timeout of round r: `base + r * delta` (ms). */
export interface TimeoutParams {
  base: number;
  delta: number;
}

export interface TimeoutConfig {
  propose: TimeoutParams;
  prevote: TimeoutParams;
  precommit: TimeoutParams;
  /** Wait after a decision before round 0 of the next height (collects late precommits and inputs). */
  commit: number;
}

/** Verifies signatures, memoised by the exact signed text (a verify costs ~80 µs). */
export interface SignatureVerifier {
  /** `text` is the signing string (ASCII); it is encoded only when the answer is not cached. */
  verify(publicKey: string, text: string, signature: string): boolean;
}

/** The signing identity of this node; absent for an observer that only follows. */
export interface SelfIdentity {
  keyPair: KeyPair;
}

export interface TestOnlyFlags {
  /**
   * MUTATION TEST ONLY: prevote for any valid proposal whatever the lock.
   * The simulator must then find a safety violation; never set it elsewhere.
   */
  unsafeDisableLocking?: boolean;
}
