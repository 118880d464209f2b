/**
 * Admission: the one place a submission from a stranger becomes a BlockInput.
 * Cheap refusals come first (text length, then an iterative scan for depth,
 * duplicate and prototype keys) so a 10 MB string or 10k-deep nesting costs a
 * length check or a few dozen characters, never a parse; then JSON.parse,
 * plain-JSON checks (NaN-like numbers, -0), one RFC 8785 encoding (carried in
 * the BlockInput so execution never encodes again) and the signature.
 *
 * A signed submission is `{ data, signer, signature }`: `signature` is
 * ed25519 by `signer` (public key hex) over the canonical bytes of
 * `{ channel, cell, data }` (signedMessage), so a signature for one cell or
 * channel cannot be replayed into another. A cell with `operations:` takes
 * `{ op, data }` (plus signer and signature when signed), and the signature
 * covers `{ channel, cell, data, op }`.
 *
 * Admission is for direct submissions: a cell that receives outputs of other
 * cells refuses them (CELL_NOT_A_SOURCE) unless it declares `direct: true`.
 */
import type { Json } from "../core/canonical.js";
import { canonicalString } from "../core/canonical.js";
import { verifyBytes } from "../core/keys.js";
import { deepFreezeData } from "../core/freeze.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { BlockInput, Rejected } from "./types.js";
import { inspectValue, reject } from "./inspect.js";
import { scanJsonText } from "./json-scan.js";

const encoder = new TextEncoder();
/** Room the envelope adds around `data` in raw text (keys, a 64-char key, a 128-char signature, spacing). */
const ENVELOPE_SLACK = 1024;
const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** A signature given beside the data instead of in an envelope. */
export interface DetachedSignature {
  signer: string;
  signature: string;
}

/**
 * The bytes a submitter signs: RFC 8785 of `{ channel, cell, data }`. Built
 * from the canonical text of `data` without encoding it again (keys "cell" <
 * "channel" < "data" are already in RFC 8785 order).
 */
export function signedMessage(channel: string, cell: string, data: Json, op?: string): Uint8Array {
  return messageFor(channel, cell, canonicalString(data), op);
}

/** RFC 8785 of `{ cell, channel, data, op? }` ("op" sorts after "data"). */
function messageFor(channel: string, cell: string, canonicalData: string, op?: string): Uint8Array {
  const tail = op === undefined ? "" : `,"op":${JSON.stringify(op)}`;
  return encoder.encode(`{"cell":${JSON.stringify(cell)},"channel":${JSON.stringify(channel)},"data":${canonicalData}${tail}}`);
}

/**
 * Admits one submission to `cellName`: `raw` is JSON text (from the wire) or
 * an already-parsed value. Returns the BlockInput (data, canonical bytes,
 * verified signer) or a rejection verdict; never throws on hostile input.
 *
 * @example
 * const r = admitInput(plan, "readings", '{"sensor":"s-1","pm25":12,"at":1}');
 * if ("accepted" in r) reply(400, r); else pending.push(r);
 */
export function admitInput(plan: ChannelPlan, cellName: string, raw: unknown, signature?: DetachedSignature): BlockInput | Rejected {
  const cell = Object.prototype.hasOwnProperty.call(plan.cells, cellName) ? plan.cells[cellName] : undefined;
  if (cell === undefined) return reject("CELL_UNKNOWN_CELL", `the channel ${plan.channel} has no cell "${cellName}"`);
  if (cell.upstream.length > 0 && !cell.direct) {
    return reject("CELL_NOT_A_SOURCE", `cell "${cellName}" takes only outputs of ${cell.upstream.map((c) => `"${c}"`).join(", ")}, not direct submissions (the channel would need \`direct: true\` on the cell)`);
  }
  const { maxBytes, maxDepth } = plan.inputLimits;
  const ops = cell.operations !== undefined;
  const envelope = ops || (cell.signed && signature === undefined);
  const signedEnvelope = cell.signed && signature === undefined;
  let value: unknown = raw;
  if (typeof raw === "string") {
    const limit = maxBytes + (envelope ? ENVELOPE_SLACK : 0);
    // UTF-8 is never shorter than UTF-16 length, so this refuses only text that is certainly too large.
    if (raw.length > limit) return reject("CELL_TOO_LARGE", `the submission is ${raw.length} characters, over the limit of ${limit} bytes`);
    const bad = scanJsonText(raw, maxDepth + (envelope ? 1 : 0));
    if (bad) return bad;
    try {
      value = JSON.parse(raw) as unknown;
    } catch (e) {
      return reject("CELL_NOT_JSON", `the submission is not JSON: ${(e as Error).message}`);
    }
  }
  let data: unknown = value;
  let signer: string | null = null;
  let sig: string | undefined;
  let op: string | undefined;
  if (envelope) {
    const bad = inspectValue(value, maxDepth + 1, maxBytes + ENVELOPE_SLACK);
    if (bad) return bad;
    const shape = ops ? (signedEnvelope ? '{ "op": ..., "data": ..., "signer": "<public key hex>", "signature": "<hex>" }' : '{ "op": ..., "data": ... }') : '{ "data": ..., "signer": "<public key hex>", "signature": "<hex>" }';
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      return reject(signedEnvelope && !ops ? "CELL_UNSIGNED" : "CELL_BAD_SUBMISSION", `cell "${cellName}" takes submissions of the form ${shape}`);
    }
    const env = value as Record<string, unknown>;
    const allowed = new Set(["data", ...(ops ? ["op"] : []), ...(signedEnvelope ? ["signer", "signature"] : [])]);
    const extra = Object.keys(env).filter((k) => !allowed.has(k));
    if (signedEnvelope && (!("signer" in env) || !("signature" in env))) {
      return reject("CELL_UNSIGNED", `cell "${cellName}" accepts only signed submissions: ${shape}`);
    }
    if (!("data" in env) || extra.length > 0) {
      return reject("CELL_BAD_SUBMISSION", `a submission to cell "${cellName}" has exactly the keys ${[...allowed].join(", ")}${extra.length > 0 ? `; remove ${extra.join(", ")}` : ""}`);
    }
    data = env.data;
    if (ops) {
      const names = Object.keys(cell.operations!);
      if (typeof env.op !== "string" || !Object.prototype.hasOwnProperty.call(cell.operations, env.op)) {
        return reject("CELL_UNKNOWN_OP", typeof env.op === "string" ? `cell "${cellName}" has no operation "${env.op.slice(0, 64)}"; it has ${names.join(", ")}` : `cell "${cellName}" takes several kinds of input: name one with "op" (${names.join(", ")})`, "/op");
      }
      op = env.op;
    }
    if (signedEnvelope) {
      if (typeof env.signer !== "string" || !HEX64.test(env.signer)) {
        return reject("CELL_BAD_SUBMISSION", "signer must be the signer's public key as 64 lowercase hex characters", "/signer");
      }
      if (typeof env.signature !== "string" || !HEX128.test(env.signature)) {
        return reject("CELL_BAD_SIGNATURE", "signature must be 128 lowercase hex characters (ed25519)", "/signature");
      }
      signer = env.signer;
      sig = env.signature;
    }
  }
  if (signature !== undefined) {
    if (typeof signature.signer !== "string" || !HEX64.test(signature.signer)) {
      return reject("CELL_BAD_SUBMISSION", "signer must be the signer's public key as 64 lowercase hex characters");
    }
    signer = signature.signer;
    sig = signature.signature;
  }
  const bad = inspectValue(data, maxDepth, maxBytes);
  if (bad) return bad;
  let canonical: string;
  try {
    canonical = canonicalString(data);
  } catch (e) {
    return reject("CELL_NOT_JSON", `the data has no canonical JSON encoding: ${(e as Error).message}`);
  }
  const bytes = encoder.encode(canonical);
  if (bytes.length > maxBytes) return reject("CELL_TOO_LARGE", `the data is ${bytes.length} bytes, over the limit of ${maxBytes}`);
  if (signer !== null) {
    if (sig === undefined || !verifyBytes(signer, messageFor(plan.channel, cellName, canonical, op), sig)) {
      return reject("CELL_BAD_SIGNATURE", `the signature does not match signer ${signer.slice(0, 12)}... over {channel, cell, data${op === undefined ? "" : ", op"}}`);
    }
  }
  // Frozen, so the bytes keep matching the data and stored records stay write-once.
  const input: BlockInput = Object.freeze(op === undefined ? { data: deepFreezeData(data as Json), bytes, signer } : { data: deepFreezeData(data as Json), bytes, signer, op });
  admitted.add(input);
  return input;
}

/**
 * BlockInputs this process admitted with the plan's limits: executeBlock skips
 * re-walking their data (the walk costs ~15% of a block). A BlockInput built
 * any other way (a peer's proposal decoded elsewhere, a test) is checked again.
 */
const admitted = new WeakSet<BlockInput>();

/** True when `input` came from admitInput (same process) and is unchanged since. */
export function wasAdmitted(input: BlockInput): boolean {
  return admitted.has(input);
}
