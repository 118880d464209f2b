/**
 * Declarative state updates (set / add / append / remove) on the user part of
 * a cell's state, copy-on-write: containers on the updated path are copied
 * once per pass (then mutated in place while the pass owns them), everything
 * else stays shared with the previous state, which is never mutated.
 *
 * The commitment needs no bookkeeping from here: every container on a
 * written path is a new object (or, for a wide object, a trie whose touched
 * nodes dropped their cached hashes), and every untouched one keeps the
 * identity, hence the memoised digest, it had (state-digest.ts).
 */
import type { Json } from "../core/canonical.js";
import type { Rejected } from "./types.js";
import { inexactNumber, reject, inspectValue } from "./inspect.js";
import { newEdit, type Edit } from "./hamt.js";
import { deepFreeze } from "./commitment.js";
import { wideSettings, isWide, wideCopy, wideDelete, wideFrom, wideGet, wideSet, wideSwap } from "./wide-object.js";

export type Segments = readonly string[];
type Container = Record<string, Json> | Json[];

const hasOwn = Object.prototype.hasOwnProperty;
const INDEX = /^(0|[1-9][0-9]{0,8})$/;

/** A pass's working copy of the user state. */
export interface UserWorking {
  root: Record<string, Json>;
  /** Containers this pass created: safe to mutate. */
  owned: Set<object>;
  /**
   * Undo log of the current input (its updates apply all or nothing), four
   * slots per step: kind, container, segment, old value. Flat, so a write
   * allocates no closure, and emptied by resetting `top`, not the array's
   * length, which would give back its storage and allocate it again for the
   * next input: writes are the hottest path of a block with state updates.
   */
  undo: unknown[];
  /** Slots of `undo` in use. */
  top: number;
  /** Ownership of the wide objects this pass copied. */
  edit: Edit;
}

export function startUser(root: Record<string, Json>): UserWorking {
  return { root, owned: new Set(), undo: [], top: 0, edit: newEdit() };
}

/**
 * Undoes every write since the input began, when the working root was `root`
 * and the undo log held `undo` slots (in place writes to owned containers
 * included). Two numbers, not a checkpoint object: one per input was garbage.
 */
export function rollback(w: UserWorking, root: Record<string, Json>, undo: number): void {
  const u = w.undo;
  for (let i = w.top - 4; i >= undo; i -= 4) undoStep(u[i] as number, u[i + 1] as Container, u[i + 2] as string, u[i + 3] as Json | undefined);
  w.top = undo;
  w.root = root;
}

/** Forgets the undo steps once an input is accepted. */
export function commitInput(w: UserWorking): void {
  w.top = 0;
}

function logUndo(w: UserWorking, kind: number, c: Container, seg: string, old: Json | undefined): void {
  const u = w.undo;
  const t = w.top;
  u[t] = kind;
  u[t + 1] = c;
  u[t + 2] = seg;
  u[t + 3] = old;
  w.top = t + 4;
}

/** Undo kinds: what to do to put a container back. */
const U_WIDE = 0; // wide: set old, or delete when old is undefined
const U_LIST_SET = 1; // list: set index, or truncate when old is undefined (appended)
const U_OBJ = 2; // object: set old, or delete when old is undefined
const U_LIST_INSERT = 3; // list: re-insert old at index (an item was removed)

function undoStep(kind: number, c: Container, seg: string, old: Json | undefined): void {
  if (kind === U_WIDE) {
    if (old !== undefined) wideSet(c, seg, old);
    else wideDelete(c, seg);
  } else if (kind === U_LIST_SET) {
    const list = c as Json[];
    const i = Number(seg);
    if (old !== undefined) list[i] = old;
    else list.length = i;
  } else if (kind === U_OBJ) {
    const o = c as Record<string, Json>;
    if (old !== undefined) o[seg] = old;
    else delete o[seg];
  } else (c as Json[]).splice(Number(seg), 0, old as Json);
}

function write(w: UserWorking, parent: Container, seg: string, value: Json): void {
  if (isWide(parent)) {
    const old = wideSwap(parent, seg, value);
    logUndo(w, U_WIDE, parent, seg, old);
  } else if (Array.isArray(parent)) {
    const i = Number(seg);
    const old = i < parent.length ? parent[i] : undefined;
    parent[i] = value;
    logUndo(w, U_LIST_SET, parent, seg, old);
  } else {
    const old = hasOwn.call(parent, seg) ? parent[seg] : undefined;
    parent[seg] = value;
    logUndo(w, U_OBJ, parent, seg, old);
  }
}

/** A scalar that inspectValue would pass: null, a boolean, a finite non-negative-zero safe number, well-formed text. */
function isPlainScalar(v: Json): boolean {
  switch (typeof v) {
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(v) && !(v === 0 && 1 / v < 0) && (!Number.isInteger(v) || Number.isSafeInteger(v));
    case "string":
      return v.isWellFormed();
    default:
      return v === null;
  }
}

function isContainer(v: Json | undefined): v is Container {
  return typeof v === "object" && v !== null;
}

function child(c: Container, seg: string): Json | undefined {
  if (Array.isArray(c)) return INDEX.test(seg) ? c[Number(seg)] : undefined;
  if (isWide(c)) return wideGet(c, seg);
  return hasOwn.call(c, seg) ? c[seg] : undefined;
}

function shown(segs: Segments, upto = segs.length): string {
  return segs.slice(0, upto).join(".") || "(the state)";
}

function conflict(segs: Segments, upto: number, what: string, op: string): Rejected {
  return reject(
    "CELL_STATE_CONFLICT",
    `state.${shown(segs, upto)} is ${what}, so ${op} state.${shown(segs)} cannot apply`,
    shown(segs),
  );
}

function describe(v: Json | undefined): string {
  if (v === undefined) return "missing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

/** Value at `segs`, reading own properties only. */
export function getAt(root: Json, segs: Segments): Json | undefined {
  let cur: Json | undefined = root;
  for (const s of segs) {
    if (!isContainer(cur)) return undefined;
    cur = child(cur, s);
  }
  return cur;
}

function own(w: UserWorking, c: Container, root = false): Container {
  if (w.owned.has(c)) return c;
  let copy: Container;
  if (Array.isArray(c)) copy = c.slice();
  else if (isWide(c)) copy = wideCopy(c, w.edit);
  else {
    // Wide objects would cost their size on every block that touches them: convert once.
    const keys = Object.keys(c);
    copy = !root && keys.length > wideSettings.threshold ? wideFrom(c, w.edit) : { ...c };
  }
  w.owned.add(copy);
  return copy;
}

/**
 * Writes `value` at `segs`, creating missing objects on the way. Arrays can be
 * indexed up to their length (the length appends). Checks before
 * it mutates, so a conflict leaves the working state untouched.
 */
export function setAt(w: UserWorking, segs: Segments, value: Json, op = "set"): Rejected | undefined {
  const k = segs.length;
  if (k === 0) return reject("CELL_BAD_PATH", "a state update needs a path", "");
  // Check the path before anything is written: a conflict leaves the working state untouched.
  let cur: Json | undefined = w.root;
  for (let j = 0; j < k; j++) {
    const c = cur as Container;
    const seg = segs[j];
    if (Array.isArray(c) && (!INDEX.test(seg) || Number(seg) > c.length)) return conflict(segs, j, `a list of ${c.length}`, op);
    if (j === k - 1) break; // the last segment is written whatever it holds
    cur = child(c, seg);
    if (cur === undefined) break; // a new subtree from here on
    if (j < k - 1 && !isContainer(cur)) return conflict(segs, j + 1, describe(cur), op);
  }
  // Scalars, the common value, are checked without the walk's allocations.
  const bad = isPlainScalar(value) ? undefined : inspectValue(value, 64, Number.MAX_SAFE_INTEGER);
  if (bad) return reject(bad.code === "CELL_BAD_TEXT" || bad.code === "CELL_BAD_NUMBER" ? bad.code : "CELL_BAD_VALUE", `the value for state.${shown(segs)} is not storable: ${bad.message}`, shown(segs));
  // Stored values never change again; frozen, their digests are memoised (state-digest.ts).
  if (isContainer(value)) deepFreeze(value);
  // A value read from the state (`{var: state.x}`) may be a container this pass
  // mutates in place later: store a copy so the two places cannot change together.
  if (isContainer(value) && w.owned.size > 0 && containsOwned(value, w.owned)) value = JSON.parse(JSON.stringify(value)) as Json;
  // Copy the path, then write.
  const root = own(w, w.root, true) as Record<string, Json>;
  w.root = root;
  let parent: Container = root;
  for (let j = 0; j < k - 1; j++) {
    const seg = segs[j];
    const next = child(parent, seg);
    const c = next === undefined ? ({} as Record<string, Json>) : own(w, next as Container);
    if (next === undefined) w.owned.add(c);
    if (c !== next) write(w, parent, seg, c);
    parent = c;
  }
  write(w, parent, segs[k - 1], value);
  return undefined;
}

/** Numeric add; a missing value counts as 0. */
export function addAt(w: UserWorking, segs: Segments, amount: Json): Rejected | undefined {
  if (typeof amount !== "number") {
    return reject("CELL_BAD_VALUE", `add to state.${shown(segs)} needs a number, got ${describe(amount)}`, shown(segs));
  }
  const cur = getAt(w.root, segs);
  if (cur !== undefined && typeof cur !== "number") return conflict(segs, segs.length, describe(cur), "add to");
  const sum = (cur ?? 0) + amount;
  if (!Number.isFinite(sum)) return reject("CELL_BAD_VALUE", `state.${shown(segs)} would become ${sum}`, shown(segs));
  if (Number.isInteger(sum) && !Number.isSafeInteger(sum)) return reject("CELL_BAD_VALUE", inexactNumber(`the sum ${sum}`, `state.${shown(segs)}`), shown(segs));
  return setAt(w, segs, sum === 0 ? 0 : sum, "add to");
}

/** Pushes to a list; a missing list counts as []. */
export function appendAt(w: UserWorking, segs: Segments, value: Json): Rejected | undefined {
  const cur = getAt(w.root, segs);
  if (cur === undefined) return setAt(w, segs, [value], "append to");
  if (!Array.isArray(cur)) return conflict(segs, segs.length, describe(cur), "append to");
  return setAt(w, [...segs, String(cur.length)], value, "append to");
}

/** Removes a key (or a list item); absent paths are left alone. */
export function removeAt(w: UserWorking, segs: Segments): Rejected | undefined {
  const k = segs.length;
  if (k === 0) return reject("CELL_BAD_PATH", "a state update needs a path", "");
  const parentValue = getAt(w.root, segs.slice(0, k - 1));
  if (!isContainer(parentValue)) return undefined;
  const last = segs[k - 1];
  if (child(parentValue, last) === undefined) return undefined;
  const root = own(w, w.root, true) as Record<string, Json>;
  w.root = root;
  let parent: Container = root;
  for (let j = 0; j < k - 1; j++) {
    const seg = segs[j];
    const next = child(parent, seg) as Container;
    const c = own(w, next);
    if (c !== next) write(w, parent, seg, c);
    parent = c;
  }
  if (Array.isArray(parent)) {
    const i = Number(last);
    const list = parent;
    const [old] = list.splice(i, 1);
    logUndo(w, U_LIST_INSERT, list, String(i), old);
  } else if (isWide(parent)) {
    const obj = parent;
    const old = wideGet(obj, last) as Json;
    wideDelete(obj, last);
    logUndo(w, U_WIDE, obj, last, old);
  } else {
    const obj = parent;
    const old = obj[last];
    delete obj[last];
    logUndo(w, U_OBJ, obj, last, old);
  }
  return undefined;
}

/** True when `v` is or holds a container owned (mutable) by the pass. */
export function containsOwned(v: Json, owned: Set<object>): boolean {
  if (!isContainer(v)) return false;
  if (owned.has(v)) return true;
  if (Array.isArray(v)) return v.some((x) => containsOwned(x, owned));
  for (const k in v) if (hasOwn.call(v, k) && containsOwned(v[k], owned)) return true;
  return false;
}

/**
 * `next` with every subtree that equals the one at the same place in `prev`
 * replaced by `prev`'s (a reduce hook returns a fresh copy of the whole
 * state): unchanged subtrees keep their identity, so their digests are not
 * computed again. Costs a walk of both, no hashing.
 */
export function shareUnchanged(prev: Json | undefined, next: Json): Json {
  if (prev === next || prev === undefined) return next;
  if (!isContainer(prev) || !isContainer(next)) return prev === next ? prev : next;
  if (Array.isArray(prev) !== Array.isArray(next) || isWide(prev) || isWide(next)) return next;
  let same = true;
  if (Array.isArray(next)) {
    const p = prev as Json[];
    const out = next.map((x, i) => {
      const y = shareUnchanged(p[i], x);
      if (y !== p[i]) same = false;
      return y;
    });
    return same && out.length === p.length ? prev : out;
  }
  const p = prev as Record<string, Json>;
  const keys = Object.keys(next);
  const out: Record<string, Json> = {};
  for (const k of keys) {
    const y = shareUnchanged(hasOwn.call(p, k) ? p[k] : undefined, next[k]);
    if (!hasOwn.call(p, k) || y !== p[k]) same = false;
    out[k] = y;
  }
  return same && keys.length === Object.keys(p).length ? prev : out;
}
