/**
 * The state root, and the structure behind it that lets a block update it in
 * time proportional to what the block changed.
 *
 *   stateRoot   = H("root" || recordsRoot || userRoot)
 *   recordsRoot = H("records" || previous recordsRoot || for each new record of the block,
 *                   in input order: u32 len(key) || key || u32 len(bytes) || canonical bytes)
 *   userRoot    = Merkle root of a canonical 16-ary hash trie (hamt.ts) whose leaves are
 *                 (canonical path, scalar or container kind) pairs of the user fields (user-state.ts)
 *
 * Why two parts: records are write-once, so they never need a leaf to be
 * replaced: an append-only chain commits a whole block of them with ONE hash
 * over bytes admission already canonicalized (0.25 ms per 1,000 x 360-byte
 * records natively, against ~1 ms for 1,000 separate leaf hashes). The price
 * is that recordsRoot depends on the order records arrived in, not only on
 * their content: it is a history commitment, like the block chain itself, so
 * it travels with the state (RecordsCommitment, attachCommitment).
 * User fields are mutable aggregates, so they need replaceable leaves: the
 * trie rehashes only the leaves a block touched and their ancestors
 * (O(changes x log16 n)), and its root depends only on the content.
 *
 * The structure is kept beside the state object in a WeakMap, so authors
 * never see it; a state that arrives without it (loaded from storage) is
 * rebuilt once, which costs its size.
 *
 * What a block costs besides its inputs: one hash over its new records,
 * one leaf hash per changed leaf plus its trie ancestors, a Map.set per new
 * record (records-store.ts), a trie path per write into a wide object
 * (wide-object.ts), and a copy of each small object or list on a written
 * path. Lists are copied whole once per block that writes them: a list that
 * grows without bound (`append: log`) costs its length per block; keep such
 * history in records or in keyed maps.
 */
import type { Json } from "../core/canonical.js";
import { assertJson, canonicalBytes } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import type { CellState, RecordsCommitment } from "./types.js";
import { newEdit, trieRoot, trieSet, type Trie } from "./hamt.js";
import { recordsView, refOfView } from "./records-view.js";
import { recordsAppend, type RecordsRef } from "./records-store.js";
import { leavesUnder } from "./user-state.js";
import { EMPTY, TAG, fromHex, sha256, toHex } from "./digest.js";

/** What executeBlock needs about a state besides its visible fields. */
export interface StateInternals {
  /** User fields (no `records`), plain JSON, shared between states. */
  user: Record<string, Json>;
  records: RecordsRef | undefined;
  recordCount: number;
  recordsRoot: Uint8Array;
  /** Leaf path -> canonical leaf text. */
  userTrie: Trie<string>;
  userRoot: Uint8Array;
  stateRoot: Uint8Array;
}

const internals = new WeakMap<object, StateInternals>();
const attached = new WeakMap<object, RecordsCommitment>();
/** Records views know their commitment, so a copy of a state ({...state}) keeps its root. */
const viewCommitments = new WeakMap<object, RecordsCommitment>();

const leafText = (key: string, value: string): string => `[${key},${value}]`;

/** Root of the user leaf trie. */
export function userRootOf(trie: Trie<string>): Uint8Array {
  return trieRoot(trie, leafText);
}

/** H("root" || recordsRoot || userRoot). */
export function combineRoots(recordsRoot: Uint8Array, userRoot: Uint8Array): Uint8Array {
  return sha256(TAG.root, recordsRoot, userRoot);
}

/** Extends the records chain by one block's new records (unchanged when there are none). */
export function chainRecords(prev: Uint8Array, added: ReadonlyArray<{ key: string; bytes: Uint8Array }>): Uint8Array {
  if (added.length === 0) return prev;
  // One buffer, one hash: measured 0.25 ms per 1,000 x 360-byte records.
  let total = TAG.records.length + prev.length;
  for (const r of added) total += 8 + Buffer.byteLength(r.key, "utf8") + r.bytes.length;
  const buf = Buffer.allocUnsafe(total);
  let o = 0;
  buf.set(TAG.records, o);
  o += TAG.records.length;
  buf.set(prev, o);
  o += prev.length;
  for (const r of added) {
    const klen = buf.write(r.key, o + 4, "utf8");
    buf.writeUInt32BE(klen, o);
    o += 4 + klen;
    buf.writeUInt32BE(r.bytes.length, o);
    o += 4;
    buf.set(r.bytes, o);
    o += r.bytes.length;
  }
  return sha256(buf);
}

/** Registers the internals of a state executeBlock produced. */
export function register(state: CellState, s: StateInternals): void {
  internals.set(state, s);
}

/**
 * Gives a state loaded from storage the records commitment it had when it was
 * produced (BlockResult.commitment). Needed only when the state has records.
 */
export function attachCommitment(state: CellState, commitment: RecordsCommitment): void {
  attached.set(state, commitment);
}

/**
 * A records commitment for a state that has records but no history (an
 * import): its records treated as one block in sorted key order. Every
 * validator that imports the same state computes the same one.
 */
export function genesisCommitment(state: CellState): RecordsCommitment {
  const recs = plainRecords(state);
  const keys = Object.keys(recs).sort();
  const root = chainRecords(
    EMPTY,
    keys.map((key) => ({ key, bytes: canonicalBytes(recs[key]) })),
  );
  return { recordsRoot: toHex(root), recordCount: keys.length };
}

function plainRecords(state: CellState): Record<string, Json> {
  const r = (state as Record<string, unknown>).records;
  if (r === undefined) return {};
  if (typeof r !== "object" || r === null || Array.isArray(r)) {
    throw new StatecellError("CELL_BAD_STATE", "state.records must be an object of records by key", {
      remedy: "pass a state produced by executeBlock, or {} for a new cell",
    });
  }
  return r as Record<string, Json>;
}

/** Internals of `state`: cached, or rebuilt once (cost: the state's size). */
export function internalsOf(state: CellState): StateInternals {
  const hit = internals.get(state);
  if (hit) return hit;
  if (typeof state !== "object" || state === null || Array.isArray(state)) {
    throw new StatecellError("CELL_BAD_STATE", "a cell state is an object", { remedy: "pass {} for a new cell" });
  }
  const user: Record<string, Json> = {};
  for (const k of Object.keys(state)) if (k !== "records") user[k] = state[k] as Json;
  try {
    assertJson(user, 1024);
  } catch (e) {
    throw new StatecellError("CELL_BAD_STATE", `the state is not plain JSON: ${(e as Error).message}`, {
      remedy: "pass a state produced by executeBlock",
      cause: e,
    });
  }
  const edit = newEdit();
  let records = refOfView(state.records);
  let recordCount = records?.count ?? 0;
  if (records === undefined) {
    const recs = plainRecords(state);
    const all = new Map<string, Json>();
    for (const k of Object.keys(recs).sort()) all.set(k, recs[k]);
    records = recordsAppend(undefined, all);
    recordCount = all.size;
  }
  let recordsRoot = EMPTY;
  const commitment =
    attached.get(state) ?? (typeof state.records === "object" && state.records !== null ? viewCommitments.get(state.records) : undefined);
  if (commitment) {
    recordsRoot = fromHex(commitment.recordsRoot);
    recordCount = commitment.recordCount;
  } else if (records !== undefined) {
    throw new StatecellError("CELL_NO_COMMITMENT", "this state has records but no records commitment, so its state root is unknown", {
      remedy: "pass the state executeBlock returned, or call attachCommitment(state, result.commitment) after loading it (genesisCommitment(state) for an import)",
    });
  }
  const leaves = new Map<string, string>();
  leavesUnder(user, [], leaves);
  let userTrie: Trie<string>;
  for (const [k, v] of leaves) userTrie = trieSet(userTrie, k, v, edit);
  const userRoot = userRootOf(userTrie);
  const s: StateInternals = {
    user,
    records,
    recordCount,
    recordsRoot,
    userTrie,
    userRoot,
    stateRoot: combineRoots(recordsRoot, userRoot),
  };
  internals.set(state, s);
  return s;
}

/** The visible state for internals: user fields, and a records view when there are records. */
export function visibleState(user: Record<string, Json>, records: RecordsRef | undefined, commitment: RecordsCommitment): CellState {
  const out: CellState = { ...user };
  if (records !== undefined) {
    const view = recordsView(records);
    viewCommitments.set(view, commitment);
    Object.defineProperty(out, "records", { value: view, enumerable: true, writable: false, configurable: false });
  }
  return out;
}

/** State root (hex) of any state. */
export function stateRootOf(state: CellState): string {
  return toHex(internalsOf(state).stateRoot);
}

/** The records commitment of a state (store it beside the state). */
export function commitmentOf(state: CellState): RecordsCommitment {
  const s = internalsOf(state);
  return { recordsRoot: toHex(s.recordsRoot), recordCount: s.recordCount };
}
