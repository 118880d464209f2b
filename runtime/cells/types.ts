/**
 * Types of pure block execution (docs/execution.md).
 * The cells module consumes a compiled ChannelPlan and produces verdicts, a
 * new state, outputs for downstream cells and a state root; it never does I/O.
 */
import type { Json } from "../core/canonical.js";
import type { CodeRunner as SandboxCodeRunner, RunOptions } from "../sandbox/types.js";

/** One input of a block, as admitted (see admitInput). */
export interface BlockInput {
  data: Json;
  /**
   * RFC 8785 bytes of `data`, carried from admission so a block never
   * re-canonicalizes (about 6 us per 360-byte object). Must equal
   * canonicalBytes(data); when absent, executeBlock computes them.
   */
  bytes?: Uint8Array;
  /**
   * Verified public key hex of a signed submission, or null/absent. For an
   * output of an upstream cell: the signer of the submission it comes from.
   */
  signer?: string | null;
  /** The operation the submission names (cells with `operations:`). */
  op?: string;
  /** Absent for a direct submission; for an output of an upstream cell, that cell. */
  source?: { cell: string };
}

/** What the proposal fixes about a block: everything time- or chain-dependent comes from here. */
export interface BlockHeader {
  height: number;
  /** Unix ms, from the proposal (never the local clock). */
  time: number;
  hash: string;
  prevHash?: string;
}

/** An accepted input. */
export interface Accepted {
  accepted: true;
}

/** A rejected input: a stable code, the rule that failed (for CELL_RULE), a filled-in message, and where. */
export interface Rejected {
  accepted: false;
  /** CELL_* or SANDBOX_* or RULES_* (a rule that faulted at run time). */
  code: string;
  /** Name of the rule (CELL_RULE, or a RULES_* fault inside a rule). */
  rule?: string;
  message: string;
  /** JSON Pointer into the input (schema errors) or the state path involved. */
  path?: string;
}

export type Verdict = Accepted | Rejected;

/**
 * A cell's state as authors, rules and tests see it: user fields, and
 * `records` (write-once, by key) when the cell has a key. Read-only: states
 * share structure between blocks. `records` is a read-only view over a
 * persistent map (see records-view.ts); canonicalString and JSON.stringify
 * see it as a plain object, and `plainState` copies it out.
 */
export interface CellState {
  records?: { readonly [key: string]: Json };
  [field: string]: Json | undefined;
}

/** An output of an accepted input, to be delivered as an input of `to`. */
export interface BlockOutput {
  /** Downstream cell. */
  to: string;
  /** Emitting cell. */
  from: string;
  /** Index (in the block's inputs) of the input that produced it. */
  input: number;
  data: Json;
  /** The operation of `to` it is submitted as (when `to` has operations). */
  op?: string;
  /** The verified signer of the submission it comes from (travels along the pipeline), or null. */
  signer: string | null;
}

/**
 * The part of the state commitment that depends on history rather than on the
 * state's content: the write-once records chain. Store it beside the state
 * (ledger, snapshots) and give it back with attachCommitment after a restart.
 */
export interface RecordsCommitment {
  /** Hex: H(prev recordsRoot || the block's new records), see commitment.ts. */
  recordsRoot: string;
  recordCount: number;
}

/** Where the block's time went, when a timing hook is given (bench/execute.ts). */
export interface PhaseTimings {
  /** Signer, size and depth checks (skipped walks for admitted inputs). */
  limits: number;
  schema: number;
  rules: number;
  hooks: number;
  update: number;
  emit: number;
  hash: number;
}

export interface BlockResult {
  /** One verdict per input, in input order. */
  verdicts: Verdict[];
  /** The new state (the input state is never mutated). */
  state: CellState;
  /** Outputs for downstream cells, in input order then emit order. */
  outputs: BlockOutput[];
  /** Hex sha256 committing to the whole state: H(tag || recordsRoot || userRoot). */
  stateRoot: string;
  /** Keep with the state to restore it later (attachCommitment). */
  commitment: RecordsCommitment;
  /** Hex root of the user part of the state (Merkle over leaves, see commitment.ts). */
  userRoot: string;
  /** Number of accepted inputs. */
  accepted: number;
  /** Kept for callers of the first version: always 1 (inputs are settled in one pass, in order). */
  passes: number;
}

// The sandbox contract, re-exported: cells calls code hooks only through it.
// Type-only, so cells never loads isolated-vm itself.
export type { HookName, HookContext, SandboxFault, ValidateResult, TransformResult, ReduceItemResult, FoldItemResult } from "../sandbox/types.js";
export type { RunOptions as HookRunOptions } from "../sandbox/types.js";

/**
 * The part of the sandbox's CodeRunner that executeBlock calls (everything
 * but dispose), so tests can pass fakes.
 */
export type CodeRunner = Pick<SandboxCodeRunner, "hooks" | "tracksReads" | "validate" | "transform" | "reduce" | "fold">;

/** Optional collaborators of executeBlock. */
export interface ExecuteModules {
  /** The code runner of a cell with `code:`; required when the cell has hooks. */
  code?: (cellName: string) => CodeRunner | undefined;
  /** Passed to every hook call (validator mode: the proposer's timed-out inputs, see sandbox docs). */
  hookOptions?: RunOptions;
  /** Token balances rules read as `token` (read-only); null when the channel has no token. */
  token?: Json;
  /** Adds elapsed ms per phase (bench only; costs two clock reads per phase). */
  timings?: PhaseTimings;
  /** A clock for `timings` (performance.now); injected so the core reads no clock by itself. */
  now?: () => number;
}
