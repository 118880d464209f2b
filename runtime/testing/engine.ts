/**
 * The runner's one door into the cells module: admission of a test
 * submission exactly as a client would send it, block execution, and the
 * inputs that outputs become downstream. Keeping it here means the runner
 * never depends on how cells represents state or outputs internally.
 */
import type { Json } from "../core/canonical.js";
import { signBytes, type KeyPair } from "../core/keys.js";
import {
  admitInput,
  executeBlock,
  outputInput,
  plainState,
  signedMessage,
  type BlockHeader,
  type BlockInput,
  type BlockOutput,
  type CellState,
  type Verdict,
} from "../cells/index.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { CodeRunner } from "../sandbox/index.js";

export type EngineInput = BlockInput;
export type EngineVerdict = Verdict & { code?: string; rule?: string; message?: string; path?: string };

/** What one block did, shaped for the runner: outputs grouped by the input that produced them. */
export interface EngineBlock {
  verdicts: EngineVerdict[];
  state: CellState;
  /** outputs[i]: the outputs of input i, in emit order (each with the `op` of its target, when that cell has operations). */
  outputs: BlockOutput[][];
}

export interface Engine {
  initialState(cell: string): CellState;
  /** Admits a submission (of operation `op`, for a cell with operations): the input for the block, or the admission's rejection. */
  admit(cell: string, data: Json, signer: KeyPair | null, op?: string): { input: EngineInput } | { verdict: EngineVerdict };
  execute(cell: string, state: CellState, inputs: readonly EngineInput[], header: BlockHeader): EngineBlock;
  /** The input a downstream cell receives for an output of an upstream cell (its source, op and signer, as cells delivers it). */
  emitted(output: BlockOutput): EngineInput;
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
 *   the signature over `{ channel, cell, data, op }` (so a signature for one
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
  const signature = signBytes(signer, signedMessage(plan.channel, cell, data, op));
  const own = Object.prototype.hasOwnProperty.call(plan.cells, cell) ? plan.cells[cell] : undefined;
  // A signed cell takes the wire envelope; an unsigned one a detached signature.
  if (own?.signed) return { raw: JSON.stringify({ ...body, signer: signer.publicKey, signature }) };
  return { raw: plain, detached: { signer: signer.publicKey, signature } };
}

/** `token`: what rules read as `token` when the channel has one (the test token cell's view after its latest block). */
export function createEngine(plan: ChannelPlan, code?: (cell: string) => CodeRunner | undefined, token?: () => Json): Engine {
  const base = code ? { code } : {};
  return {
    initialState: () => ({}),
    admit(cell, data, signer, op) {
      const s = testSubmission(plan, cell, data, signer, op);
      const r = s.detached ? admitInput(plan, cell, s.raw, s.detached) : admitInput(plan, cell, s.raw);
      return "accepted" in r ? { verdict: r } : { input: r };
    },
    execute(cell, state, inputs, header) {
      const r = executeBlock(plan, cell, state, inputs, header, token ? { ...base, token: token() } : base);
      const outputs: EngineBlock["outputs"] = inputs.map(() => []);
      for (const o of r.outputs) outputs[o.input]?.push(o);
      return { verdicts: r.verdicts, state: r.state, outputs };
    },
    emitted: (output) => outputInput(output),
    plain: (state) => plainState(state),
  };
}
