/**
 * The built-in token cell as a replicated application: its group agrees on
 * blocks of token submissions like any cell's (docs/token.md, "Consensus").
 * A block value is plain JSON:
 *   { height, prevHash, time, inputs, verdicts, stateRoot }
 * - `inputs`: submissions exactly as clients sent them ({ data, signer, signature });
 * - `verdicts`: `{ accepted: true }` or `{ accepted: false, code }`, codes only;
 * - `stateRoot`: tokenStateRoot of the state after the block (with its reward, if any).
 * Every validator checks every signature itself and re-executes the block
 * before it votes; results are memoised per (state, value) object so a block
 * is executed once for validate and apply. A proposer leaves out submissions
 * whose shape or signature fails, so they never cost a block slot.
 */
import type { Json } from "../core/canonical.js";
import { StatecellError } from "../core/errors.js";
import { createHash, type Hash } from "node:crypto";
import { canonicalString } from "../core/canonical.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { Application } from "../consensus/types.js";
import { applyTokenOps, genesisTokenState, tokenStateRoot, type Refusal, type TokenBlockResult, type TokenConfig, type TokenEvent, type TokenOp, type TokenState, type TokenVerdict, signerOf, tokenSubmissionChecker } from "../token/index.js";

/** The replicated state of the token chain. */
export interface TokenChainState {
  height: number;
  time: number;
  token: TokenState;
  stateRoot: string;
}

/** A verdict as the block carries it. */
export type TokenBlockVerdict = { accepted: true } | { accepted: false; code: string };

export interface TokenBlockValue {
  height: number;
  prevHash: string;
  time: number;
  inputs: Json[];
  verdicts: TokenBlockVerdict[];
  stateRoot: string;
}

export interface TokenApplication extends Application<TokenChainState> {
  /**
   * Checks a submission's shape and signature as a node admits it (API or
   * gossip), remembering the signature: the block that carries it later is
   * validated without checking it again. The refusal, or undefined when it may wait for a block.
   */
  admit(raw: unknown): Refusal | undefined;
  /** Full verdicts (with messages) and events of a value this application built, validated or applied. */
  resultOf(value: Json): { verdicts: readonly TokenVerdict[]; events: readonly TokenEvent[] } | undefined;
}

const VALUE_KEYS = ["height", "inputs", "prevHash", "stateRoot", "time", "verdicts"];

/** The chain state before the first token block. */
export function genesisTokenChain(config: TokenConfig): TokenChainState {
  const token = genesisTokenState(config);
  return { height: 0, time: 0, token, stateRoot: tokenStateRoot(token) };
}

/** The token cell of `plan` as a consensus application. */
export function tokenApplication(plan: ChannelPlan, config: TokenConfig): TokenApplication {
  const { maxInputs } = plan.blockLimits;
  const memo = new WeakMap<object, WeakMap<object, TokenBlockResult>>();
  const ids = new WeakMap<object, string>();
  const results = new WeakMap<object, TokenBlockResult>();
  /** Shape and signature of one submission: its signature verified once per node (a verify costs ~85 us), a copy compared. */
  const check = tokenSubmissionChecker(config.channel);
  const verdictJson = (v: TokenVerdict): TokenBlockVerdict => (v.accepted ? { accepted: true } : { accepted: false, code: v.code });
  const remember = (state: TokenChainState, value: object, r: TokenBlockResult) => {
    let m = memo.get(value);
    if (!m) memo.set(value, (m = new WeakMap()));
    m.set(state, r);
    results.set(value, r);
  };

  /** The block's result on `state`, or why it is not the next block. Never throws on a hostile value. */
  function examine(state: TokenChainState, value: Json, height: number, prevHash: string | undefined): TokenBlockResult | string {
    try {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return "it is not an object";
      const keys = Object.keys(value).sort();
      if (keys.length !== VALUE_KEYS.length || keys.some((k, i) => k !== VALUE_KEYS[i])) return "its fields are not those of a token block";
      const v = value as unknown as TokenBlockValue;
      if (v.height !== height || !Number.isSafeInteger(v.time) || v.time <= state.time) return "its height or time does not follow";
      if (prevHash !== undefined && v.prevHash !== prevHash) return "it follows another block";
      if (!Array.isArray(v.inputs) || !Array.isArray(v.verdicts) || v.inputs.length !== v.verdicts.length || v.inputs.length > maxInputs) return "its inputs and verdicts do not match";
      const known = memo.get(value)?.get(state);
      if (known) return known;
      const ops = v.inputs.map(check);
      if (ops.some((o) => "code" in o && (o.code === "TOKEN_BAD_SUBMISSION" || o.code === "TOKEN_NOT_SIGNED_BY_SOURCE" || o.code === "TOKEN_BAD_ACCOUNT"))) return "it carries a submission a proposer must leave out";
      const r = applyTokenOps(config, state.token, ops, { height: v.height, time: v.time });
      if (r.root !== v.stateRoot) return "its state root differs";
      for (let i = 0; i < r.verdicts.length; i++) {
        const mine = r.verdicts[i];
        const theirs = v.verdicts[i] as { accepted?: unknown; code?: unknown };
        if (typeof theirs !== "object" || theirs === null || theirs.accepted !== mine.accepted || (!mine.accepted && theirs.code !== mine.code)) return `its verdict ${i} differs`;
        if (Object.keys(theirs).length !== (mine.accepted ? 1 : 2)) return `its verdict ${i} has other fields`;
      }
      return r;
    } catch {
      return "it cannot be read";
    }
  }

  const after = (v: TokenBlockValue, r: TokenBlockResult): TokenChainState => ({ height: v.height, time: v.time, token: r.state, stateRoot: r.root });

  return {
    admit(raw) {
      const c = check(raw);
      return "code" in c ? c : undefined;
    },

    buildValue({ height, prevHash, time, state, pending }) {
      const t = Math.max(Math.floor(time), state.time + 1);
      const inputs: Json[] = [];
      const ops: Array<TokenOp | Refusal> = [];
      // Per signer, the nonce the block has reached: a submission ahead of it (behind a gap) stays pending
      // for a later block instead of being refused; a used nonce goes in and is refused for good.
      // Pending that arrived out of nonce order is taken in further passes, while a pass adds something.
      const planned = new Map<string, number>();
      let waiting: Json[] = [...pending];
      for (let progress = true; progress && waiting.length > 0 && inputs.length < maxInputs; ) {
        progress = false;
        const later: Json[] = [];
        for (const p of waiting) {
          if (inputs.length >= maxInputs) break;
          const op = check(p);
          if ("code" in op) continue; // shape or signature: never in a block
          const signer = signerOf(op);
          const last = planned.get(signer) ?? state.token.nonces.get(signer) ?? 0;
          if (op.nonce > last + 1) {
            later.push(p);
            continue;
          }
          if (op.nonce === last + 1) planned.set(signer, op.nonce);
          inputs.push(sortedSubmission(p));
          ops.push(op);
          progress = true;
        }
        waiting = later;
      }
      const r = applyTokenOps(config, state.token, ops, { height, time: t });
      // Keys in sorted order, as sortedSubmission writes the inputs: the value id hashes JSON.stringify's text.
      const value: TokenBlockValue = { height, inputs, prevHash, stateRoot: r.root, time: t, verdicts: r.verdicts.map(verdictJson) };
      remember(state, value, r);
      return value as unknown as Json;
    },

    validateValue({ height, prevHash, state }, value) {
      const r = examine(state, value, height, prevHash);
      if (typeof r === "string") return false;
      remember(state, value as object, r);
      return true;
    },

    valueId(value) {
      // sha256 over the tag and the value's RFC 8785 text (node:crypto: a block of 1,000 transfers is ~330 KB).
      const hash = (v: Json) => {
        const h = createHash("sha256").update("statecell:token-block:");
        if (sortedJson(v, 0)) feedSortedJson(h, v);
        else h.update(canonicalString(v));
        return h.digest("hex");
      };
      if (typeof value !== "object" || value === null) return hash(value);
      let id = ids.get(value);
      if (id === undefined) ids.set(value, (id = hash(value)));
      return id;
    },

    applyValue(state, value) {
      const v = value as unknown as TokenBlockValue;
      const r = examine(state, value, state.height + 1, undefined);
      if (typeof r === "string") {
        throw new StatecellError("CONSENSUS_APP_DIVERGED", `the token cell of ${plan.channel}, height ${state.height + 1}: the certified block ${r} on this node`, {
          remedy: "stop this node: it does not reproduce a block its group certified; check it runs the group's channel definition, then rebuild the token state from a snapshot",
          payload: { cell: "token", height: state.height + 1 },
        });
      }
      results.set(value as object, r);
      return after(v, r);
    },

    remainingInputs(pending, value) {
      // What the block did not carry stays, gapped submissions included (the host's pool expires those).
      const v = value as unknown as TokenBlockValue;
      const taken = new Set<unknown>();
      for (const i of v.inputs ?? []) taken.add((i as { signature?: unknown } | null)?.signature);
      // By signature (each signs distinct data): no verification here, so a long queue costs no checks.
      return pending.filter((p) => !taken.has((p as { signature?: unknown } | null)?.signature));
    },

    resultOf(value) {
      const r = typeof value === "object" && value !== null ? results.get(value) : undefined;
      return r ? { verdicts: r.verdicts, events: r.events } : undefined;
    },
  };
}

/** Deeper than any token block (value, inputs, input, data): past it the general encoder decides. */
const SORTED_MAX_DEPTH = 8;
/** A UTF-16 surrogate: a string holding one goes to the general encoder, which treats a lone one exactly. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Whether `v` is plain JSON whose objects all list their keys in sorted order (UTF-16 code units, as RFC 8785 sorts). */
function sortedJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
      return !SURROGATE.test(v);
    case "number":
      return Number.isFinite(v);
    case "boolean":
      return true;
    case "object": {
      if (v === null) return true;
      if (depth >= SORTED_MAX_DEPTH) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!sortedJson(v[i], depth + 1)) return false;
        return true;
      }
      if (Object.getPrototypeOf(v) !== Object.prototype) return false;
      const keys = Object.keys(v);
      for (let i = 0; i < keys.length; i++) {
        if ((i > 0 && !(keys[i - 1] < keys[i])) || SURROGATE.test(keys[i])) return false;
        if (!sortedJson((v as Record<string, unknown>)[keys[i]], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * The RFC 8785 text of a value whose objects already list their keys in
 * sorted order (what buildValue writes, and what a peer's copy keeps through
 * JSON and structured clone): JSON.stringify's text, since the RFC writes
 * strings and numbers as ECMAScript does; about 5 times faster than sorting
 * again. undefined for anything else (a key out of order, a value JSON cannot
 * carry faithfully, a surrogate), which then goes through canonicalString (a
 * test pins the two to each other).
 */
export function tokenBlockText(value: Json): string | undefined {
  return sortedJson(value, 0) ? JSON.stringify(value) : undefined;
}

/** Elements of a long array stringified together: long enough to make few hash updates, short enough to stay cheap. */
const CHUNK = 200;

/**
 * Feeds `v`'s text (JSON.stringify's, for a value sortedJson accepted) into
 * `h` in pieces: JSON.stringify of a whole 1,000-transfer block is a rope of
 * ~440 KB that hashing must first flatten, which costs 2 to 5 times the hash
 * itself here; pieces of CHUNK array elements hash with no such copy.
 */
function feedSortedJson(h: Hash, v: unknown): void {
  if (Array.isArray(v)) {
    if (v.length <= CHUNK) {
      h.update(JSON.stringify(v));
      return;
    }
    h.update("[");
    for (let i = 0; i < v.length; i += CHUNK) {
      const text = JSON.stringify(v.slice(i, i + CHUNK));
      h.update(i === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`);
    }
    h.update("]");
    return;
  }
  if (typeof v !== "object" || v === null) {
    h.update(JSON.stringify(v));
    return;
  }
  const keys = Object.keys(v);
  h.update("{");
  for (let i = 0; i < keys.length; i++) {
    h.update(`${i === 0 ? "" : ","}${JSON.stringify(keys[i])}:`);
    feedSortedJson(h, (v as Record<string, unknown>)[keys[i]]);
  }
  h.update("}");
}

/**
 * A submission with its keys, and its data's, in sorted order: the same JSON
 * value, so the same input id and signed bytes, in the form tokenBlockText
 * encodes without sorting. The object itself when it already is.
 */
function sortedSubmission(raw: Json): Json {
  const s = raw as { data: Record<string, Json>; signature: string; signer: string };
  const dk = Object.keys(s.data);
  let sorted = true;
  for (let i = 1; i < dk.length && sorted; i++) sorted = dk[i - 1] < dk[i];
  const keys = Object.keys(s);
  if (sorted && keys[0] === "data" && keys[1] === "signature" && keys[2] === "signer") return raw;
  const data: Record<string, Json> = {};
  for (const k of dk.sort()) data[k] = s.data[k];
  return { data, signature: s.signature, signer: s.signer };
}
