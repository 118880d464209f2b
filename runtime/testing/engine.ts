/**
 * The runner's one door into the cells module: admission of a test
 * submission exactly as a client would send it, block execution, and the
 * inputs that outputs become downstream. Keeping it here means the runner
 * never depends on how cells represents state or outputs internally.
 */
import { canonicalBytes, type Json } from "../core/canonical.js";
import { signBytes, type KeyPair } from "../core/keys.js";
import { admitInput, executeBlock, plainState, signedMessage, type BlockHeader, type BlockInput, type CellState, type Verdict } from "../cells/index.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { CodeRunner } from "../sandbox/index.js";

export type EngineInput = BlockInput;
export type EngineVerdict = Verdict & { code?: string; rule?: string; message?: string; path?: string };

/** One output of an input: the downstream cell, the operation it is submitted as (when `to` has operations), the data. */
export interface EngineOutput {
  to: string;
  op?: string;
  data: Json;
}

/** What one block did, shaped for the runner: outputs grouped by the input that produced them. */
export interface EngineBlock {
  verdicts: EngineVerdict[];
  state: CellState;
  /** outputs[i]: the outputs of input i, in emit order. */
  outputs: EngineOutput[][];
}

export interface Engine {
  initialState(cell: string): CellState;
  /** Admits a submission (of operation `op`, for a cell with operations): the input for the block, or the admission's rejection. */
  admit(cell: string, data: Json, signer: KeyPair | null, op?: string): { input: EngineInput } | { verdict: EngineVerdict };
  execute(cell: string, state: CellState, inputs: readonly EngineInput[], header: BlockHeader): EngineBlock;
  /** The input cell `to` receives for an output of cell `from` (submitted as operation `op` when `to` has operations). */
  emitted(output: EngineOutput, from: string): EngineInput;
  /** A plain copy of a state, for matching and display. */
  plain(state: CellState): Json;
}

/**
 * What a client sends for a test submission: the JSON text, and a detached
 * signature for a signer of a cell that is not `signed:` (which takes the
 * data alone). Exported so a test can check the exact wire form.
 *
 * - a cell without operations: the data, or `{ data, signer, signature }` for
 *   a signed cell, the signature over `{ channel, cell, data }` (README "Signed inputs");
 * - a cell with operations: `{ op, data }`, or `{ op, data, signer, signature }`,
 *   the signature over `{ channel, cell, op, data }` (so a signature for one
 *   operation cannot be replayed as another).
 */
export function testSubmission(
  plan: Pick<ChannelPlan, "channel" | "cells">,
  cell: string,
  data: Json,
  signer: KeyPair | null,
  op?: string,
): { raw: string; detached?: { signer: string; signature: string } } {
  const body: Record<string, Json> = op === undefined ? { data } : { op, data };
  const plain = op === undefined ? JSON.stringify(data) : JSON.stringify(body);
  if (signer === null) return { raw: plain };
  const signature = signBytes(signer, signedBytes(plan.channel, cell, data, op));
  const own = Object.prototype.hasOwnProperty.call(plan.cells, cell) ? plan.cells[cell] : undefined;
  // A signed cell takes the wire envelope; an unsigned one a detached signature.
  if (own?.signed) return { raw: JSON.stringify({ ...body, signer: signer.publicKey, signature }) };
  return { raw: plain, detached: { signer: signer.publicKey, signature } };
}

/** The bytes a submitter signs: RFC 8785 of `{ channel, cell, data }`, with `op` beside them for an operation. */
export function signedBytes(channel: string, cell: string, data: Json, op?: string): Uint8Array {
  return op === undefined ? signedMessage(channel, cell, data) : canonicalBytes({ channel, cell, op, data });
}

export function createEngine(plan: ChannelPlan, code?: (cell: string) => CodeRunner | undefined): Engine {
  const modules = code ? { code } : {};
  return {
    initialState: () => ({}),
    admit(cell, data, signer, op) {
      const s = testSubmission(plan, cell, data, signer, op);
      const r = s.detached ? admitInput(plan, cell, s.raw, s.detached) : admitInput(plan, cell, s.raw);
      return "accepted" in r ? { verdict: r } : { input: r };
    },
    execute(cell, state, inputs, header) {
      const r = executeBlock(plan, cell, state, inputs, header, modules);
      const outputs: EngineBlock["outputs"] = inputs.map(() => []);
      for (const o of r.outputs) {
        // An output to a cell with operations names its operation (EmitPlan.op): as cells carries it, else the one the emits name.
        const carried = (o as { op?: unknown }).op;
        const op = typeof carried === "string" ? carried : emitOp(plan, cell, o.to);
        outputs[o.input]?.push(op === undefined ? { to: o.to, data: o.data } : { to: o.to, op, data: o.data });
      }
      return { verdicts: r.verdicts, state: r.state, outputs };
    },
    emitted(output, from) {
      // What cells delivers between cells: the data, its operation, and the cell it came from (the `source` root).
      const input: BlockInput & { op?: string; source?: { cell: string } } = { data: output.data, signer: null, source: { cell: from } };
      if (output.op !== undefined) input.op = output.op;
      return input;
    },
    plain: (state) => plainState(state),
  };
}

/**
 * The operation outputs of `from` to `to` are submitted as, when every emit of
 * `from` to `to` (cell-level and per operation) names the same one; undefined
 * when `to` has no operations or the emits name several.
 */
export function emitOp(plan: Pick<ChannelPlan, "cells">, from: string, to: string): string | undefined {
  const cell = plan.cells[from];
  if (!cell || !plan.cells[to]?.operations) return undefined;
  const ops = new Set<string | undefined>();
  for (const e of cell.emit) if (e.to === to) ops.add(e.op);
  for (const o of Object.values(cell.operations ?? {})) for (const e of o.emit) if (e.to === to) ops.add(e.op);
  return ops.size === 1 ? [...ops][0] : undefined;
}
