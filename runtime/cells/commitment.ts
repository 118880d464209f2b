/**
 * The state root, and the structure behind it that lets a block update it in
 * time proportional to what the block changed.
 *
 *   stateRoot   = H("root" || recordsRoot || userRoot)
 *   userRoot    = digest of the user fields as one object (state-digest.ts):
 *                 content only, shared subtrees memoised, wide objects
 *                 committed through their own trie
 *   recordsRoot = EMPTY with no records, else
 *                 H("records-tip" || chain || u32 count || the records after the last full chunk)
 *   chain       = over the records in arrival order, in chunks of 64:
 *                 chain_c = H("records" || chain_(c-1) || the 64 records of chunk c), chain_(-1) = EMPTY
 *   a record    = u32 len(key) || utf8(key) || u32 len(bytes) || canonical bytes of the record
 *
 * Why a chain for records: they are write-once and arrive in order, so a
 * chain commits them with one hash per 64 records over bytes admission has
 * already canonicalized (the Merkle trie of the user fields would cost a
 * bucket and its branches per record). Chunks are cut by the records' global
 * position, never by block boundaries, so the root depends only on which
 * records arrived in which order: splitting a block into smaller blocks gives
 * the same root (the batching invariant, docs/execution.md). A block rehashes
 * at most 63 records of the last, incomplete chunk.
 *
 * Everything here is recomputable from the state itself (user fields, and
 * records in arrival order): encodeState/decodeState are the codec a ledger
 * stores and restores a state with, and a restored state has the same root.
 * The internals are kept beside the visible state object in a WeakMap only
 * as a cache of that computation.
 */
import type { Json } from "../core/canonical.js";
import { assertJson, canonicalBytes } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { CellState, RecordsCommitment } from "./types.js";
import { recordsView, refOfView } from "./records-view.js";
import { recordGet, recordKeys, recordKeysFrom, recordsAppend, type RecordsRef } from "./records-store.js";
import { userDigest } from "./state-digest.js";
import { EMPTY, hashWriter, TAG, toHex } from "./digest.js";
import { jsonText } from "./wide-object.js";

/** Records per chain link. */
export const RECORDS_CHUNK = 64;

/** A record as the chain commits it. */
export interface RecordBytes {
  key: string;
  bytes: Uint8Array;
}

/** The records commitment so far: the chain over full chunks and the records after them. */
export interface RecordsChain {
  head: Uint8Array;
  /** Records of the incomplete last chunk (fewer than RECORDS_CHUNK), in arrival order. */
  tail: readonly RecordBytes[];
  count: number;
}

export const EMPTY_CHAIN: RecordsChain = Object.freeze({ head: EMPTY, tail: Object.freeze([]) as readonly RecordBytes[], count: 0 });

/** What executeBlock needs about a state besides its visible fields. */
export interface StateInternals {
  /** User fields (no `records`), plain JSON, shared between states. */
  user: Record<string, Json>;
  records: RecordsRef | undefined;
  chain: RecordsChain;
  recordsRoot: Uint8Array;
  userRoot: Uint8Array;
  stateRoot: Uint8Array;
}

const internals = new WeakMap<object, StateInternals>();

function writeRecords(w: ReturnType<typeof hashWriter>, recs: readonly RecordBytes[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    w.text32(recs[i].key);
    w.u32(recs[i].bytes.length);
    w.bytes(recs[i].bytes);
  }
}

/** The chain with `added` appended (unchanged when there are none). */
export function extendChain(chain: RecordsChain, added: readonly RecordBytes[]): RecordsChain {
  if (added.length === 0) return chain;
  const all = chain.tail.length === 0 ? added : [...chain.tail, ...added];
  let head = chain.head;
  let at = 0;
  while (all.length - at >= RECORDS_CHUNK) {
    const w = hashWriter(TAG.records);
    w.bytes(head);
    writeRecords(w, all, at, at + RECORDS_CHUNK);
    head = w.digest();
    at += RECORDS_CHUNK;
  }
  return { head, tail: all.slice(at), count: chain.count + added.length };
}

/** recordsRoot of a chain. */
export function chainRoot(chain: RecordsChain): Uint8Array {
  if (chain.count === 0) return EMPTY;
  const w = hashWriter(TAG.recordsTip);
  w.bytes(chain.head);
  w.u32(chain.count);
  writeRecords(w, chain.tail, 0, chain.tail.length);
  return w.digest();
}

/** H("root" || recordsRoot || userRoot). */
export function combineRoots(recordsRoot: Uint8Array, userRoot: Uint8Array): Uint8Array {
  const w = hashWriter(TAG.root);
  w.bytes(recordsRoot);
  w.bytes(userRoot);
  return w.digest();
}

/** Registers the internals of a state executeBlock (or decodeState) produced. */
export function register(state: CellState, s: StateInternals): void {
  internals.set(state, s);
}

function userFields(state: CellState): Record<string, Json> {
  const user: Record<string, Json> = {};
  for (const k of Object.keys(state)) if (k !== "records") user[k] = state[k] as Json;
  return user;
}

/** The chain of the records a RecordsRef sees, in arrival order (cost: their size). */
function chainOf(ref: RecordsRef | undefined): RecordsChain {
  const keys = recordKeys(ref);
  return extendChain(
    EMPTY_CHAIN,
    keys.map((key) => ({ key, bytes: canonicalBytes(recordGet(ref, key)) })),
  );
}

/** Internals of `state`: cached, or rebuilt once (cost: the state's size). */
export function internalsOf(state: CellState): StateInternals {
  const hit = internals.get(state);
  if (hit) return hit;
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new StatecellError("CELL_BAD_STATE", "a cell state is an object", { remedy: "pass {} for a new cell" });
  }
  const user = userFields(state);
  try {
    assertJson(user, 1024);
  } catch (e) {
    throw new StatecellError("CELL_BAD_STATE", `the state is not plain JSON: ${(e as Error).message}`, {
      remedy: "pass a state produced by executeBlock, or restore one with decodeState",
      cause: e,
    });
  }
  let records = refOfView(state.records);
  if (records === undefined && state.records !== undefined) {
    throw new StatecellError("CELL_NO_COMMITMENT", "this state has records as a plain object, so their arrival order (which the records root commits to) is unknown", {
      remedy: "pass the state executeBlock returned, or restore a stored state with decodeState(encodeState(state))",
    });
  }
  // A copy of a state ({ ...state }) keeps the records view: rebuild the chain from it.
  const chain = records === undefined ? EMPTY_CHAIN : chainOf(records);
  if (records !== undefined && records.count === 0) records = undefined;
  return computeInternals(state, user, records, chain);
}

function computeInternals(state: CellState, user: Record<string, Json>, records: RecordsRef | undefined, chain: RecordsChain): StateInternals {
  const recordsRoot = chainRoot(chain);
  const userRoot = userDigest(user);
  const s: StateInternals = { user, records, chain, recordsRoot, userRoot, stateRoot: combineRoots(recordsRoot, userRoot) };
  internals.set(state, s);
  return s;
}

/** The visible state for internals: user fields, and a records view when there are records. */
export function visibleState(user: Record<string, Json>, records: RecordsRef | undefined): CellState {
  const out: CellState = { ...user };
  if (records !== undefined) {
    Object.defineProperty(out, "records", { value: recordsView(records), enumerable: true, writable: false, configurable: false });
  }
  return out;
}

/** State root (hex) of any state. */
export function stateRootOf(state: CellState): string {
  return toHex(internalsOf(state).stateRoot);
}

/** The records commitment of a state (informational: recomputable from the records). */
export function commitmentOf(state: CellState): RecordsCommitment {
  const s = internalsOf(state);
  return { recordsRoot: toHex(s.recordsRoot), recordCount: s.chain.count };
}

/**
 * A state as a ledger stores it: the user fields as plain JSON and the
 * records in arrival order. Everything the state root commits to, nothing
 * more; `decodeState` gives back a state with the same root.
 */
export interface EncodedState {
  user: { [key: string]: Json };
  records: Array<[string, Json]>;
}

/**
 * The JSON text of a state's user fields (everything but its records), as
 * JSON.stringify writes them, without going through wide views' proxies
 * (wide-object.ts, jsonText): what a ledger stores as a state snapshot.
 */
export function userStateText(state: CellState): string {
  return jsonText(internalsOf(state).user);
}

/** The storable form of a state (cost: its size). */
export function encodeState(state: CellState): EncodedState {
  const s = internalsOf(state);
  const user = JSON.parse(jsonText(s.user)) as { [key: string]: Json };
  const records: Array<[string, Json]> = recordKeys(s.records).map((k) => [k, recordGet(s.records, k) as Json]);
  return { user, records };
}

/**
 * The records of `state` from arrival position `from` on, as [key, value] in
 * arrival order: what a block added when `from` is the record count before
 * it (cost: the records returned, not the state's size).
 */
export function recordsSince(state: CellState, from: number): Array<[string, Json]> {
  const s = internalsOf(state);
  return recordKeysFrom(s.records, from).map((k) => [k, recordGet(s.records, k) as Json]);
}

/**
 * A state from its stored form: records in the order given (their arrival
 * order), the same state root as the state that was encoded.
 * @throws StatecellError CELL_BAD_STATE when `encoded` is not an EncodedState of plain JSON.
 */
export function decodeState(encoded: EncodedState): CellState {
  const bad = (why: string): never => {
    throw new StatecellError("CELL_BAD_STATE", `a stored state ${why}`, { remedy: "store states with encodeState and give back exactly what it returned" });
  };
  if (typeof encoded !== "object" || encoded === null) bad("is an object { user, records }");
  const { user, records } = encoded;
  if (typeof user !== "object" || user === null || Array.isArray(user) || "records" in user) bad("has `user` as an object without `records`");
  if (!Array.isArray(records)) bad("has `records` as a list of [key, value]");
  try {
    assertJson(user, 1024);
  } catch (e) {
    bad(`has user fields that are not plain JSON (${(e as Error).message})`);
  }
  const frozenUser = deepFreeze(JSON.parse(JSON.stringify(user)) as Json) as Record<string, Json>;
  const map = new Map<string, Json>();
  const added: RecordBytes[] = [];
  for (const entry of records) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string") bad("has a record that is not [key, value]");
    const [key, value] = entry as [string, Json];
    if (map.has(key)) bad(`has the record key "${key}" twice`);
    const frozen = deepFreeze(JSON.parse(JSON.stringify(value)) as Json);
    map.set(key, frozen);
    added.push({ key, bytes: canonicalBytes(frozen) });
  }
  const ref = recordsAppend(undefined, map);
  const state = Object.freeze(visibleState(frozenUser, ref));
  computeInternals(state, frozenUser, ref, extendChain(EMPTY_CHAIN, added));
  return state;
}

/** Deep-freezes plain JSON (digests of frozen containers are memoised). */
export function deepFreeze(v: Json): Json {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    if (Array.isArray(v)) for (const x of v) deepFreeze(x);
    else for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
}
