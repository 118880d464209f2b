/**
 * The host's decisions about one input, each a pure function of the rule
 * context (the input, the state before it, the block): its rules, its record
 * key, its planned state updates and its outputs. They evaluate; applying is
 * settle.ts's job, so a later refusal of the same input leaves nothing behind.
 */
import type { Json } from "../../core/canonical.js";
import { StatecellError } from "../../core/errors.js";
import type { ChannelPlan, EmitPlan, RulePlan, StateUpdatePlan } from "../../definition/plan.js";
import { placeholderSegment, type CompiledExpr, type RuleContext } from "../../rules/index.js";
import { isTruthy } from "../../rules/truthy.js";
import type { BlockOutput, Rejected } from "../types.js";
import { FORBIDDEN_KEYS, inexactNumber, inspectValue, nameProblem, reject } from "../inspect.js";
import { ruleMessage } from "../messages.js";
import { containsOwned } from "../user-state.js";

/** Longest record key, in UTF-16 units: keys are ids, not documents. */
export const MAX_KEY_LENGTH = 1024;

/** The rules in order; the first that applies and does not hold rejects. */
export function runRules(rules: readonly RulePlan[], ctx: RuleContext): Rejected | undefined {
  for (const rule of rules) {
    let ok: boolean;
    try {
      if (rule.when !== undefined && !rule.when(ctx)) continue;
      ok = rule.compiled(ctx);
    } catch (e) {
      return fault(e, `rule "${rule.name}" could not be evaluated`, rule.name);
    }
    if (!ok) return reject("CELL_RULE", ruleMessage(rule, ctx), undefined, rule.name);
  }
  return undefined;
}

/** The record key as a string, or why it cannot be one. */
export function evalKey(expr: CompiledExpr, ctx: RuleContext): string | Rejected {
  let v: Json;
  try {
    v = expr(ctx);
  } catch (e) {
    return fault(e, "the record key could not be computed");
  }
  if (typeof v === "number" && Number.isInteger(v) && !Number.isSafeInteger(v)) return reject("CELL_BAD_KEY", inexactNumber(String(v), "the record key"));
  const k = typeof v === "string" ? v : typeof v === "number" && Number.isSafeInteger(v) ? String(v) : undefined;
  if (k === undefined) {
    return reject("CELL_BAD_KEY", `the record key must be text or a whole number, got ${v === null ? "null" : Array.isArray(v) ? "a list" : typeof v}`);
  }
  if (k === "" || k.length > MAX_KEY_LENGTH || FORBIDDEN_KEYS.has(k)) {
    return reject("CELL_BAD_KEY", k === "" ? "the record key is empty" : k.length > MAX_KEY_LENGTH ? `the record key is longer than ${MAX_KEY_LENGTH} characters` : `"${k}" cannot be a record key`);
  }
  const bad = nameProblem(k);
  if (bad !== undefined) return reject("CELL_BAD_KEY", `the record key "${k}" ${bad}`);
  return k;
}

/** A state update with its path and value evaluated, ready to apply. */
export interface Planned {
  op: StateUpdatePlan["op"];
  segs: string[];
  value: Json;
}

/**
 * The planned updates of the current input. The entries and their `segs` are
 * reused from input to input (`n` says how many are in use): two updates per
 * input made five objects an input that lived until the next one, about a
 * fifth of a block's garbage with state updates (bench/execute.ts). Nothing
 * keeps a Planned or its segs past the input it was planned for.
 */
export interface PlanBuffer {
  items: Planned[];
  n: number;
}

export function newPlanBuffer(): PlanBuffer {
  return { items: [], n: 0 };
}

/** Evaluates `when`, paths and values of every update (nothing is applied yet). */
export function planUpdates(updates: readonly StateUpdatePlan[], ctx: RuleContext, out: PlanBuffer): Rejected | undefined {
  for (let ui = 0; ui < updates.length; ui++) {
    const u = updates[ui];
    try {
      if (u.when !== undefined && !isTruthy(u.when(ctx))) continue;
      let slot = out.items[out.n];
      if (slot === undefined) out.items[out.n] = slot = { op: u.op, segs: [], value: null };
      const segs = slot.segs;
      segs.length = 0;
      const parts = u.pathParts;
      for (let pi = 0; pi < parts.length; pi++) {
        const part = parts[pi];
        if ("literal" in part) {
          segs.push(part.literal);
          continue;
        }
        const v = part.expr(ctx);
        // One definition of a segment for writing and for reading (`{ var: "a.{data.x}" }`).
        const seg = placeholderSegment(v);
        const bad = seg === undefined ? undefined : nameProblem(seg);
        if (bad !== undefined) return reject("CELL_BAD_PATH", `{${part.source}} in the state path "${u.path}" gave a segment that ${bad}`, u.path);
        if (seg === undefined) {
          return reject(
            "CELL_BAD_PATH",
            `{${part.source}} in the state path "${u.path}" gave ${JSON.stringify(v) ?? "nothing"}, which cannot name a field (text or a whole number, not empty, not __proto__, constructor or prototype)`,
            u.path,
          );
        }
        segs.push(seg);
      }
      if (segs[0] === "records") {
        return reject("CELL_BAD_PATH", `the state path "${u.path}" writes into records, which only the record key fills`, u.path);
      }
      slot.op = u.op;
      slot.value = u.op === "remove" ? null : u.value !== undefined ? u.value(ctx) : u.op === "add" ? 1 : null;
      out.n++;
    } catch (e) {
      return fault(e, `the state update of "${u.path}" could not be evaluated`);
    }
  }
  return undefined;
}

/** Outputs of the current input and of the block so far (count and canonical JSON bytes). */
export interface OutputTally {
  /** Sizes of the current input's outputs, parallel to its output list. */
  sizes: number[];
  blockCount: number;
  blockBytes: number;
}

export function newTally(): OutputTally {
  return { sizes: [], blockCount: 0, blockBytes: 0 };
}

/** Where an input's outputs come from. */
export interface EmitSource {
  cellName: string;
  index: number;
  signer: string | null;
  limits: ChannelPlan["outputLimits"];
}

/**
 * Evaluates `emits` for one (transformed) item; outputs go to `out`, their
 * sizes (UTF-8 bytes of their JSON text, which has the length of their
 * canonical text: RFC 8785 orders keys differently but writes the same
 * characters) to `tally.sizes`. Stops as soon as the input's outputs are over
 * the per-input limits, so one input can never make a block build more than
 * `perInput` outputs of `perInputBytes`.
 */
export function evalEmits(emits: readonly EmitPlan[], from: EmitSource, ctx: RuleContext, owned: Set<object>, out: BlockOutput[], tally: OutputTally): Rejected | undefined {
  const { limits } = from;
  const sizes = tally.sizes;
  for (const e of emits) {
    let data: Json;
    try {
      if (e.when !== undefined && !isTruthy(e.when(ctx))) continue;
      data = e.data !== undefined ? e.data(ctx) : ctx.data;
    } catch (err) {
      return fault(err, `the output to "${e.to}" could not be computed`);
    }
    if (sizes.length >= limits.perInput) {
      return reject("CELL_OUTPUT_LIMIT", `the input produces more than ${limits.perInput} outputs, the channel's limit per input (limits.maxOutputsPerInput)`);
    }
    const bad = inspectValue(data, 64, limits.perInputBytes);
    if (bad) {
      if (bad.code === "CELL_TOO_LARGE") return overBytes(limits.perInputBytes);
      return reject(bad.code === "CELL_BAD_TEXT" || bad.code === "CELL_BAD_NUMBER" ? bad.code : "CELL_BAD_OUTPUT", `the output to "${e.to}" is not plain JSON: ${bad.message}`, bad.path);
    }
    const size = Buffer.byteLength(JSON.stringify(data), "utf8");
    let total = size;
    for (const x of sizes) total += x;
    if (total > limits.perInputBytes) return overBytes(limits.perInputBytes);
    if (owned.size > 0 && containsOwned(data, owned)) data = JSON.parse(JSON.stringify(data)) as Json;
    const o: BlockOutput = { to: e.to, from: from.cellName, input: from.index, data, signer: from.signer };
    if (e.op !== undefined) o.op = e.op;
    out.push(o);
    sizes.push(size);
  }
  return undefined;
}

function overBytes(limit: number): Rejected {
  return reject("CELL_OUTPUT_LIMIT", `the input's outputs take more than ${limit} bytes of JSON, the channel's limit per input (limits.maxOutputBytesPerInput)`);
}

/** The block-wide output limits, for the current input's outputs on top of the block's so far. */
export function checkOutputLimits(limits: ChannelPlan["outputLimits"], tally: OutputTally): Rejected | undefined {
  if (tally.sizes.length === 0) return undefined;
  if (tally.blockCount + tally.sizes.length > limits.perBlock) {
    return reject("CELL_OUTPUT_LIMIT", `the block's outputs would pass ${limits.perBlock}, the channel's limit per block (limits.maxOutputsPerBlock); send this input again in a later block`);
  }
  let bytes = tally.blockBytes;
  for (const x of tally.sizes) bytes += x;
  if (bytes > limits.perBlockBytes) {
    return reject("CELL_OUTPUT_LIMIT", `the block's outputs would take more than ${limits.perBlockBytes} bytes of JSON, the channel's limit per block (limits.maxOutputBytesPerBlock); send this input again in a later block`);
  }
  return undefined;
}

/** Adds the current (accepted) input's outputs to the block's tally. */
export function countOutputs(tally: OutputTally): void {
  tally.blockCount += tally.sizes.length;
  for (const x of tally.sizes) tally.blockBytes += x;
}

/**
 * A rejection from something an expression threw. statecell's own errors
 * keep their code and message; anything else is CELL_EXPRESSION_FAULT with
 * statecell's words (an engine's message never becomes a verdict's text).
 */
export function fault(e: unknown, what: string, rule?: string): Rejected {
  if (e instanceof StatecellError) return reject(e.code, `${what}: ${e.message}`, undefined, rule);
  return reject("CELL_EXPRESSION_FAULT", `${what}: the expression failed in a way statecell does not classify (a bug; please report it with the input)`, undefined, rule);
}
