/**
 * The state of one (channel, cell) group's consensus at one node, and its
 * configuration. States are immutable values: `step` returns a new one and
 * shares what did not change.
 */
import type { Json } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";
import type {
  Application,
  ConsensusMessage,
  Proposal,
  RoundStep,
  SignatureVerifier,
  SignedRecord,
  TestOnlyFlags,
  TimeoutConfig,
  Vote,
} from "./types.js";
import { DEFAULT_MAX_FRAME_BYTES } from "./messages.js";
import type { ValidatorSet } from "./validator-set.js";

/** Bounds on what a node keeps from peers (Byzantine peers can send a lot). */
export interface ConsensusLimits {
  /** Rounds above ours whose messages are stored; farther ones only count toward a round skip. */
  roundsAhead: number;
  /** Distinct proposals kept per round (an equivocating proposer sends several). */
  proposalsPerRound: number;
  /** Messages of the next height kept until this node gets there (0: 8 per validator). */
  nextHeightBuffer: number;
  /** Distinct (conflicting) votes kept per validator, round and type. */
  votesPerValidator: number;
  /**
   * Most bytes of a frame (and of a catch-up block's value), as a lower-bound
   * estimate of its canonical JSON checked before anything encodes it
   * (default 1 MiB). Every validator of a group needs the same or a larger one.
   */
  maxFrameBytes: number;
}

export const DEFAULT_LIMITS: ConsensusLimits = { roundsAhead: 32, proposalsPerRound: 4, nextHeightBuffer: 0, votesPerValidator: 3, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES };

/** Everything fixed for the life of a group at a node. */
export interface ConsensusConfig<S> {
  channel: string;
  cell: string;
  validators: ValidatorSet;
  /** This node's key when it is a validator of the group; null for an observer. */
  self: KeyPair | null;
  app: Application<S>;
  timeouts: TimeoutConfig;
  verifier: SignatureVerifier;
  limits?: Partial<ConsensusLimits>;
  test?: TestOnlyFlags;
}

/**
 * Votes and proposals of one round, with running tallies (keys: value id or
 * "nil"). A validator may hold several conflicting votes (an equivocator):
 * each counts toward its own value, as in the paper, where "2f+1 PREVOTE for
 * v" counts distinct senders of such a message. That keeps safety (two
 * quorums still share a correct validator, who never equivocates) and gives
 * liveness: every correct node that receives what another received reaches
 * the same quorums, so relayed proofs-of-lock are not lost to equivocation.
 */
export interface RoundState {
  proposals: Proposal[];
  /** validator -> its distinct prevotes (first one first; at most `votesPerValidator`). */
  prevotes: Record<string, Vote[]>;
  precommits: Record<string, Vote[]>;
  prevoteCount: Record<string, number>;
  precommitCount: Record<string, number>;
  /** Distinct validators with a prevote / precommit in this round ("2f+1 of any kind"). */
  prevoteTotal: number;
  precommitTotal: number;
  /** "for the first time" flags of rules 4, 5 and 7. */
  prevoteTimeout: boolean;
  precommitTimeout: boolean;
  lockDone: boolean;
}

/** A value with its id, as locked or valid values are held. */
export interface HeldValue {
  valueId: string;
  value: Json;
}

export interface ConsensusState<S> {
  readonly config: ConsensusConfig<S>;
  readonly height: number;
  readonly round: number;
  readonly step: RoundStep;
  readonly locked: HeldValue | null;
  readonly lockedRound: number;
  readonly valid: HeldValue | null;
  readonly validRound: number;
  /** Value id of the block at height - 1 (64 zeros at height 1). */
  readonly prevHash: string;
  /** Application state after height - 1. */
  readonly app: S;
  readonly rounds: Readonly<Record<number, RoundState>>;
  /** Validator -> highest round above ours it sent a (verified) message for, this height. */
  readonly maxRound: Readonly<Record<string, number>>;
  /** Value id -> result of app.validateValue, this height (re-execution is the costly part). */
  readonly validity: Readonly<Record<string, boolean>>;
  /** What this node last signed (the signer guard). */
  readonly signer: SignedRecord | null;
  readonly pending: readonly Json[];
  /** Verified messages of height + 1, replayed on arrival there. */
  readonly nextHeight: readonly ConsensusMessage[];
  /** Evidence already reported this height (validator:type:round). */
  readonly reported: Readonly<Record<string, true>>;
}

/** Where a node starts: genesis, or the head of its ledger after a restart. */
export interface StartPoint<S> {
  height: number;
  prevHash: string;
  app: S;
  /** `signerStore.load()` after a restart; null on a fresh key. */
  signer: SignedRecord | null;
  /** Inputs the host already holds, offered to the first proposal (default none). */
  pending?: readonly Json[];
}

export const GENESIS_HASH = "0".repeat(64);

/**
 * A state waiting for its `start` event. After a restart, feed `start` and
 * then the WAL entries of `point.height` as events.
 */
export function createState<S>(config: ConsensusConfig<S>, point: StartPoint<S>): ConsensusState<S> {
  return {
    config,
    height: point.height,
    round: 0,
    step: "new-height",
    locked: null,
    lockedRound: -1,
    valid: null,
    validRound: -1,
    prevHash: point.prevHash,
    app: point.app,
    rounds: {},
    maxRound: {},
    validity: {},
    signer: point.signer,
    pending: point.pending ?? [],
    nextHeight: [],
    reported: {},
  };
}

export function emptyRound(): RoundState {
  return {
    proposals: [],
    prevotes: {},
    precommits: {},
    prevoteCount: {},
    precommitCount: {},
    prevoteTotal: 0,
    precommitTotal: 0,
    prevoteTimeout: false,
    precommitTimeout: false,
    lockDone: false,
  };
}

export function copyRound(r: RoundState): RoundState {
  return {
    ...r,
    proposals: [...r.proposals],
    prevotes: { ...r.prevotes },
    precommits: { ...r.precommits },
    prevoteCount: { ...r.prevoteCount },
    precommitCount: { ...r.precommitCount },
  };
}
