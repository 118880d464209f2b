/**
 * The compiled channel plan: what the loader produces from a channel file and
 * what every later stage (cells, sandbox, consensus, node) consumes. A plan is
 * immutable (deep-frozen) and identified by `hash`, the canonical hash of the
 * definition and of the code files it names.
 */
import type { SourceLocation } from "../core/errors.js";
import type { Json } from "../core/canonical.js";
import type { CompiledRule, CompiledExpr } from "../rules/index.js";

/** A threshold as written (`3`, `"2/3"`, `"all"`) resolved against a group's size. */
export interface ThresholdPlan {
  /** The text the author wrote, for explain and errors. */
  written: string | number;
  /** Matching signatures that decide: `q`. */
  quorum: number;
  /** Group size: `n`. */
  size: number;
  /** Byzantine validators tolerated for safety: `2q - n - 1` (never negative). */
  safetyFaults: number;
  /** Offline validators tolerated for liveness: `n - q`. */
  livenessFaults: number;
}

export interface GroupPlan {
  name: string;
  description?: string;
  /** Validator names in the order written; bound to keys by the network file. */
  validators: readonly string[];
  threshold: ThresholdPlan;
}

export interface SchemaPlan {
  name: string;
  /** The JSON Schema as written (plain JSON). */
  schema: Json;
  /** ajv-compiled validator (one ajv instance per channel, strict, no $data). */
  validate: ValidateFn;
}

/** An ajv ValidateFunction, narrowed to what statecell uses. */
export interface ValidateFn {
  (data: unknown): boolean;
  errors?: null | Array<{ instancePath: string; message?: string; keyword: string; params: Record<string, unknown> }>;
}

export interface RulePlan {
  name: string;
  description?: string;
  /** The json-logic expression as written. */
  require: Json;
  /** Message template; `{data.x}` placeholders are filled from the context. */
  message: string;
  compiled: CompiledRule;
  /** A plain-English rendering of `require` (for explain and rejections). */
  english: string;
  /** The rule applies only when this holds (`when:`); a rule that does not apply neither holds nor rejects. */
  when?: CompiledRule;
  whenSource?: Json;
  location?: SourceLocation;
}

/**
 * One declarative state update, applied in order to an accepted input.
 * `path` is a dotted path with `{expr}` placeholders (`totals.{data.district}`).
 */
export interface StateUpdatePlan {
  op: "set" | "add" | "append" | "remove";
  path: string;
  /** The path split into literal segments and compiled placeholders. */
  pathParts: ReadonlyArray<{ literal: string } | { expr: CompiledExpr; source: string }>;
  /** Value expression (absent for remove). */
  value?: CompiledExpr;
  valueSource?: Json;
  when?: CompiledExpr;
  whenSource?: Json;
  location?: SourceLocation;
}

export interface EmitPlan {
  to: string;
  /** The operation of the downstream cell this output is submitted as (required when `to` has operations). */
  op?: string;
  when?: CompiledExpr;
  whenSource?: Json;
  /** A mapping: leaves are json-logic expressions or literals. Absent: forward the (transformed) data unchanged. */
  data?: CompiledExpr;
  dataSource?: Json;
  location?: SourceLocation;
}

export interface CodePlan {
  /** Path as written in the channel file. */
  path: string;
  /** Resolved path (relative to the channel file's folder). */
  resolved: string;
  /** The code text, read at load time so the plan hash covers it. */
  source: string;
  sha256: string;
  /** Hooks the file defines, found at lint time. */
  hooks: ReadonlyArray<"validate" | "transform" | "reduce">;
  /**
   * The refusals a hook may return by name (`code: { file, rejects: { NAME: sentence } }`):
   * `{ reject: "NAME" }` rejects with CELL_CODE_REJECT, `rule: NAME` and the sentence as message.
   * Empty when the channel declares none (then a hook's reason text is the message).
   */
  rejects: Readonly<Record<string, string>>;
}

/**
 * One kind of input of a cell with `operations:`. A submission names it
 * (`{ "op": NAME, "data": ... }`); the operation's schema, rules, key, state
 * updates and emits apply after the cell-level ones it shares with the other
 * operations (cell rules, then operation rules; cell updates, then operation
 * updates; cell emits, then operation emits; the operation's key, else the cell's).
 */
export interface OperationPlan {
  name: string;
  description?: string;
  /** Name of a named schema, or undefined for an inline schema. */
  schemaName?: string;
  accepts: SchemaPlan;
  rules: readonly RulePlan[];
  key?: CompiledExpr;
  keySource?: Json;
  state: readonly StateUpdatePlan[];
  emit: readonly EmitPlan[];
  location?: SourceLocation;
}

export interface LimitsPlan {
  memoryMb: number;
  /** Budget of one input in the cell's hooks (ms). */
  timeMs: number;
  /** Budget of all the hooks of one block together (ms); inputs not reached are SANDBOX_BLOCK_BUDGET. */
  blockTimeMs: number;
}

export interface CellPlan {
  name: string;
  description?: string;
  group: string;
  /** Name of a named schema, or undefined for an inline schema. */
  schemaName?: string;
  accepts: SchemaPlan;
  /** When true, inputs must be signed; `signer` is the verified public key. */
  signed: boolean;
  /** Record key expression: accepted inputs are stored write-once under it. */
  key?: CompiledExpr;
  keySource?: Json;
  rules: readonly RulePlan[];
  state: readonly StateUpdatePlan[];
  emit: readonly EmitPlan[];
  code?: CodePlan;
  limits: LimitsPlan;
  /**
   * Operations by name, in the order written; absent for a cell without `operations:`.
   * With operations, `accepts` is a schema that accepts any value (each operation has its own).
   */
  operations?: Readonly<Record<string, OperationPlan>>;
  /**
   * True when the cell takes direct submissions: always for a source cell (no
   * upstream), and for a cell with upstream cells only with `direct: true`
   * (without it, such a cell takes only its upstream cells' certified outputs,
   * and a direct submission is refused with CELL_NOT_A_SOURCE).
   */
  direct: boolean;
  /** Cells that emit into this one, and cells this one emits to. */
  upstream: readonly string[];
  downstream: readonly string[];
}

export interface SnapshotsPlan {
  group: string;
  /** Every N blocks of any cell. */
  every?: number;
  /** Or every N seconds of block time. */
  seconds?: number;
}

/**
 * `token:` compiled. Amounts are decimal strings of base units (never JS
 * numbers): the token module turns them into bigints. Accounts are public keys
 * (64 hex) or names a network file binds to keys (`keys:` of network.yaml; the
 * test signer of that name in channel tests).
 */
export interface TokenPlan {
  name: string;
  symbol: string;
  decimals: number;
  description?: string;
  /** The group whose validators run the token cell. */
  group: string;
  /** Account to base units at genesis. */
  genesis: Readonly<Record<string, string>>;
  /** Sum of the genesis balances, base units. */
  supply: string;
  /** Most base units that may ever exist (rewards stop there); absent: MAX_AMOUNT of the token module. */
  maxSupply?: string;
  /** Fee of a transfer or transferFrom: a fixed amount of base units, or a json-logic expression of the transfer giving base units. */
  fee: { amount: string } | { expression: Json };
  /** Where fees go: burned, or split among the validators of a group. */
  feesTo: { burn: true } | { group: string };
  /** Minted at every snapshot of the token chain and split among a group's validators, never past maxSupply. */
  rewards?: { amount: string; group: string };
  /** Mempool policy of a node for transfers behind a nonce gap. */
  pending: TokenPendingPlan;
}

export interface TokenPendingPlan {
  /** Seconds a submission may wait behind a nonce gap before it is dropped. */
  expiresAfter: number;
  /** Most submissions one account may have waiting. */
  perAccount: number;
}

/** Limits on inputs submitted to the channel's cells. */
export interface InputLimitsPlan {
  maxBytes: number;
  maxDepth: number;
}

/** Limits on what the accepted inputs of a block produce (`limits:` maxOutputs*). */
export interface OutputLimitsPlan {
  /** Most outputs of one input. */
  perInput: number;
  /** Most canonical JSON bytes of one input's outputs together. */
  perInputBytes: number;
  /** Most outputs of one block. */
  perBlock: number;
  /** Most canonical JSON bytes of one block's outputs together. */
  perBlockBytes: number;
}

/** Limits on what one block carries (`limits:` maxBlockBytes, maxBlockInputs). */
export interface BlockLimitsPlan {
  /** Most bytes of submissions (canonical JSON) in one block. */
  maxBytes: number;
  maxInputs: number;
}

/** A test as written in `tests:`; normalised to steps. */
export type TestStep =
  | { kind: "submit"; cell: string; op?: string; data: Json; signer?: string; expect?: TestExpectation; outputs?: Json[]; location?: SourceLocation }
  | { kind: "block"; time?: number; location?: SourceLocation }
  | { kind: "state"; cell: string; match: Json; location?: SourceLocation };

export type TestExpectation = { accepted: true } | { rejected: string };

export interface TestPlan {
  name: string;
  steps: readonly TestStep[];
  location?: SourceLocation;
}

export interface ChannelPlan {
  channel: string;
  version: number;
  description?: string;
  /**
   * For an upgrade: the block height from which this version is in force in
   * every cell (blocks below run the version before). Absent: in force from
   * whenever a node hosts it (version 1: from genesis).
   */
  activation?: number;
  /** Canonical hash of the definition (document + code files). Identifies the rules in force. */
  hash: string;
  /** Path of the channel file as given to the loader. */
  file: string;
  groups: Readonly<Record<string, GroupPlan>>;
  schemas: Readonly<Record<string, SchemaPlan>>;
  cells: Readonly<Record<string, CellPlan>>;
  /** Cell names in a topological order of the pipeline (sources first, ties by name). */
  order: readonly string[];
  snapshots?: SnapshotsPlan;
  token?: TokenPlan;
  inputLimits: InputLimitsPlan;
  outputLimits: OutputLimitsPlan;
  blockLimits: BlockLimitsPlan;
  tests: readonly TestPlan[];
  /** The definition as plain JSON (after YAML parsing), frozen. */
  document: Json;
}
