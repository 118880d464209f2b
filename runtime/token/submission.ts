/**
 * Token submissions: the shape of each operation, the bytes its signer signs,
 * and signing for clients. A submission is `{ data, signer, signature }`, the
 * signature ed25519 by `signer` over the RFC 8785 bytes of
 * `{ "channel", "cell": "token", "data" }`: the same envelope as any signed
 * cell, so one client signs both. `data` is one of
 *   { type: "transfer", from, to, amount, nonce }
 *   { type: "approve", owner, spender, amount, nonce, expires? }
 *   { type: "transferFrom", spender, from, to, amount, nonce }
 * with accounts as public keys, amounts as decimal strings of base units and
 * the nonce the signer's last plus one.
 */
import { canonicalBytes } from "../core/canonical.js";
import { signBytes, verifyBytes, type KeyPair } from "../core/keys.js";
import { TOKEN_CELL } from "../definition/token-amount.js";
import { formatBaseUnits, parseBaseUnits } from "./amount.js";
import { signerOf, type TokenOp, type TokenSubmission } from "./types.js";

const HEX64 = /^[0-9a-f]{64}$/;
const FIELDS: Record<string, readonly string[]> = {
  transfer: ["amount", "from", "nonce", "to", "type"],
  approve: ["amount", "expires", "nonce", "owner", "spender", "type"],
  transferFrom: ["amount", "from", "nonce", "spender", "to", "type"],
};
const OPTIONAL = new Set(["expires"]);
const hasOwn = Object.prototype.hasOwnProperty;
/** Per type: its fields as a set, and those that name an account (checked in this order). */
const FIELD_SET: Record<string, ReadonlySet<string>> = Object.fromEntries(Object.entries(FIELDS).map(([t, f]) => [t, new Set(f)]));
const ACCOUNT_FIELDS: Record<string, readonly string[]> = Object.fromEntries(Object.entries(FIELDS).map(([t, f]) => [t, ["from", "to", "owner", "spender"].filter((k) => f.includes(k))]));

/** A refusal before the state is consulted. */
export interface Refusal {
  code: string;
  message: string;
}

/** The operation `data` describes, or why it is not one (TOKEN_BAD_SUBMISSION, TOKEN_BAD_ACCOUNT, TOKEN_AMOUNT, TOKEN_BAD_NONCE). */
export function parseTokenOp(data: unknown): TokenOp | Refusal {
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { code: "TOKEN_BAD_SUBMISSION", message: "a token submission's data is an object with a type: transfer, approve or transferFrom" };
  const d = data as Record<string, unknown>;
  const type = hasOwn.call(d, "type") ? d.type : undefined;
  if (typeof type !== "string" || !hasOwn.call(FIELDS, type)) return { code: "TOKEN_BAD_SUBMISSION", message: `the type ${JSON.stringify(type)?.slice(0, 40) ?? "(none)"} is not one of transfer, approve, transferFrom` };
  const fields = FIELDS[type];
  const known = FIELD_SET[type];
  const keys = Object.keys(d);
  if (keys.length > fields.length) return { code: "TOKEN_BAD_SUBMISSION", message: `a ${type} has the fields ${fields.join(", ")}` };
  for (const k of keys) if (!known.has(k)) return { code: "TOKEN_BAD_SUBMISSION", message: `a ${type} has no field "${k.slice(0, 40)}"; its fields are ${fields.join(", ")}` };
  for (const k of fields) if (!OPTIONAL.has(k) && !hasOwn.call(d, k)) return { code: "TOKEN_BAD_SUBMISSION", message: `a ${type} needs the field "${k}"` };
  for (const k of ACCOUNT_FIELDS[type]) {
    if (typeof d[k] !== "string" || !HEX64.test(d[k] as string)) return { code: "TOKEN_BAD_ACCOUNT", message: `"${k}" is an account's public key: 64 lowercase hex characters` };
  }
  const amount = parseBaseUnits(d.amount);
  if (amount === undefined) return { code: "TOKEN_AMOUNT", message: "the amount is a decimal string of base units (digits, no sign, point or leading zero), at most 2^128 − 1" };
  const nonce = d.nonce;
  if (typeof nonce !== "number" || !Number.isSafeInteger(nonce) || nonce < 1) return { code: "TOKEN_BAD_NONCE", message: "the nonce is a whole number from 1: the signer's last nonce plus one" };
  if (type === "approve") {
    const expires = hasOwn.call(d, "expires") ? d.expires : null;
    if (expires !== null && (typeof expires !== "number" || !Number.isSafeInteger(expires) || expires < 0)) return { code: "TOKEN_BAD_SUBMISSION", message: "an approval's expires is a block time (unix ms), or left out" };
    return { type, owner: d.owner as string, spender: d.spender as string, amount, nonce, expires: expires as number | null };
  }
  if (amount === 0n) return { code: "TOKEN_AMOUNT", message: "a transfer moves more than 0 base units" };
  if (type === "transfer") return { type, from: d.from as string, to: d.to as string, amount, nonce };
  return { type: "transferFrom", spender: d.spender as string, from: d.from as string, to: d.to as string, amount, nonce };
}

/** The bytes the signer of a token submission signs: RFC 8785 of `{ channel, cell: "token", data }`. */
export function tokenSigningBytes(channel: string, data: unknown): Uint8Array {
  return canonicalBytes({ channel, cell: TOKEN_CELL, data });
}

/**
 * The same text for data parseTokenOp accepted, written directly: its keys
 * are those of its type, listed here in sorted order; its strings are hex,
 * digits or a type name and its numbers safe integers (or `expires` null), so
 * each is written as RFC 8785 writes it with no escaping (a test pins this to
 * tokenSigningBytes for every type). Data of no known type is sorted and
 * encoded value by value.
 */
export function tokenSigningText(channelJson: string, data: Record<string, unknown>): string {
  let out = `{"cell":"${TOKEN_CELL}","channel":${channelJson},"data":{`;
  const fields = typeof data.type === "string" && hasOwn.call(FIELDS, data.type) ? FIELDS[data.type] : undefined;
  if (fields === undefined) {
    const keys = Object.keys(data).sort();
    for (let i = 0; i < keys.length; i++) out += `${i === 0 ? "" : ","}${JSON.stringify(keys[i])}:${JSON.stringify(data[keys[i]])}`;
    return `${out}}}`;
  }
  let first = true;
  for (const k of fields) {
    if (!hasOwn.call(data, k)) continue;
    const v = data[k];
    out += `${first ? "" : ","}"${k}":${typeof v === "string" ? `"${v}"` : String(v)}`;
    first = false;
  }
  return `${out}}}`;
}

/** Verifies `signature` by `publicKey` over `text` (a cache may answer for text it verified before). */
export type TokenVerify = (publicKey: string, text: string, signature: string) => boolean;

const encoder = new TextEncoder();
/** Where signed text is encoded for a verify: reused, since verifying is synchronous (no allocation per check). */
let scratch = new Uint8Array(1024);
const plainVerify: TokenVerify = (k, text, sig) => {
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  return verifyBytes(k, scratch.subarray(0, written), sig);
};

/**
 * The operation of a submission when its signature is the source's, or the
 * refusal: shape first, then TOKEN_NOT_SIGNED_BY_SOURCE (no signature, a
 * signer that is not the operation's source, or a signature that does not verify).
 */
export function checkTokenSubmission(channel: string, sub: unknown, verify: TokenVerify = plainVerify): TokenOp | Refusal {
  if (typeof sub !== "object" || sub === null || Array.isArray(sub)) return { code: "TOKEN_BAD_SUBMISSION", message: 'a token submission is { "data", "signer", "signature" }' };
  const s = sub as Record<string, unknown>;
  for (const k of Object.keys(s)) if (k !== "data" && k !== "signer" && k !== "signature") return { code: "TOKEN_BAD_SUBMISSION", message: `a token submission has no field "${k.slice(0, 40)}"` };
  const op = parseTokenOp(s.data);
  if ("code" in op) return op;
  const source = signerOf(op);
  if (s.signer !== source) return { code: "TOKEN_NOT_SIGNED_BY_SOURCE", message: `a ${op.type} is signed by ${op.type === "transfer" ? "its source (from)" : op.type === "approve" ? "the owner" : "the spender"}, ${source.slice(0, 16)}…` };
  if (typeof s.signature !== "string") return { code: "TOKEN_NOT_SIGNED_BY_SOURCE", message: "the submission carries no signature" };
  if (!verify(source, tokenSigningText(JSON.stringify(channel), s.data as Record<string, unknown>), s.signature)) return { code: "TOKEN_NOT_SIGNED_BY_SOURCE", message: "the signature does not verify with the source's key over this channel's token data" };
  return op;
}

/** The data of an operation as a client sends it. */
export function tokenOpData(op: TokenOp): Record<string, string | number> {
  switch (op.type) {
    case "transfer":
      return { type: op.type, from: op.from, to: op.to, amount: formatBaseUnits(op.amount), nonce: op.nonce };
    case "approve":
      return { type: op.type, owner: op.owner, spender: op.spender, amount: formatBaseUnits(op.amount), nonce: op.nonce, ...(op.expires !== null ? { expires: op.expires } : {}) };
    case "transferFrom":
      return { type: op.type, spender: op.spender, from: op.from, to: op.to, amount: formatBaseUnits(op.amount), nonce: op.nonce };
  }
}

/** A signed submission of `op` by `key` (which must be the op's source for it to be accepted). */
export function signTokenOp(channel: string, key: KeyPair, op: TokenOp): TokenSubmission & { data: Record<string, string | number>; signer: string; signature: string } {
  const data = tokenOpData(op);
  return { data, signer: key.publicKey, signature: signBytes(key, tokenSigningBytes(channel, data)) };
}

/** Checks one submission: the operation, or the refusal. */
export type TokenChecker = (sub: unknown) => TokenOp | Refusal;

/** A checked submission's fields, compared with a copy's before its verdict is reused. */
interface Verified {
  signer: string;
  /** The data's fields and values, a copy taken when the signature verified (strings and safe integers). */
  keys: readonly string[];
  values: readonly unknown[];
  op: TokenOp;
}

/**
 * checkTokenSubmission for one channel, remembering by signature each
 * submission whose signature verified: a node checks a submission when it
 * admits it, and a later copy (in a peer's proposal, a gossip frame, a
 * certified block at catch-up) costs a comparison of its signer and data
 * fields with the remembered ones, not a second verify (~85 us) nor the
 * signed text rebuilt. The signed bytes are a function of the channel and
 * those fields, so a copy that differs in any byte they make, or carries
 * another field, is checked in full. Refusals are not kept. Bounded: two
 * generations of at most `limit / 2` entries each; the older is dropped when
 * the newer fills, so a busy node re-verifies only what it saw long ago.
 */
export function tokenSubmissionChecker(channel: string, limit = 100_000): TokenChecker {
  let young = new Map<string, Verified>();
  let old = new Map<string, Verified>();
  const half = Math.max(1, Math.floor(limit / 2));

  const remember = (signature: string, e: Verified) => {
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(signature, e);
  };

  /** The remembered op when `s` carries exactly the remembered signer and data; undefined otherwise. */
  const recall = (s: Record<string, unknown>, signature: string): TokenOp | undefined => {
    let e = young.get(signature);
    if (e === undefined) {
      e = old.get(signature);
      if (e === undefined) return undefined;
      remember(signature, e);
    }
    if (s.signer !== e.signer) return undefined;
    const d = s.data;
    if (typeof d !== "object" || d === null || Array.isArray(d)) return undefined;
    if (Object.keys(d).length !== e.keys.length) return undefined;
    const r = d as Record<string, unknown>;
    for (let i = 0; i < e.keys.length; i++) if (!hasOwn.call(r, e.keys[i]) || r[e.keys[i]] !== e.values[i]) return undefined;
    return e.op;
  };

  return (sub) => {
    if (typeof sub !== "object" || sub === null || Array.isArray(sub)) return checkTokenSubmission(channel, sub, plainVerify);
    const s = sub as Record<string, unknown>;
    const signature = s.signature;
    const keys = Object.keys(s);
    if (typeof signature === "string" && keys.length === 3 && hasOwn.call(s, "data") && hasOwn.call(s, "signer")) {
      const known = recall(s, signature);
      if (known !== undefined) return known;
    }
    const r = checkTokenSubmission(channel, sub, plainVerify);
    if (!("code" in r) && typeof signature === "string") {
      const d = s.data as Record<string, unknown>;
      const dk = Object.keys(d);
      remember(signature, { signer: s.signer as string, keys: dk, values: dk.map((k) => d[k]), op: r });
    }
    return r;
  };
}
