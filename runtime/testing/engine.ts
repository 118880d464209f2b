/**
 * The runner's one door into the cells module: admission of a test
 * submission exactly as a client would send it, block execution, and the
 * inputs that outputs become downstream. Keeping it here means the runner
 * never depends on how cells represents state or outputs internally.
 */
import type { Json } from "../core/canonical.js";
import { signBytes, type KeyPair } from "../core/keys.js";
import { admitInput, executeBlock, outputInput, plainState, signedMessage, type BlockHeader, type BlockInput, type BlockOutput, type CellState, type Verdict } from "../cells/index.js";
import type { ChannelPlan } from "../definition/plan.js";
import type { CodeRunner } from "../sandbox/index.js";

export type EngineInput = BlockInput;
export type EngineVerdict = Verdict & { code?: string; rule?: string; message?: string; path?: string };

/** What one block did, shaped for the runner: outputs grouped by the input that produced them. */
export interface EngineBlock {
  verdicts: EngineVerdict[];
  state: CellState;
  /** outputs[i]: the outputs of input i, in emit order. */
  outputs: BlockOutput[][];
}

export interface Engine {
  initialState(cell: string): CellState;
  /** Admits a submission: the input for the block, or the admission's rejection. */
  admit(cell: string, data: Json, signer: KeyPair | null): { input: EngineInput } | { verdict: EngineVerdict };
  execute(cell: string, state: CellState, inputs: readonly EngineInput[], header: BlockHeader): EngineBlock;
  /** The input a downstream cell receives for an output of an upstream cell. */
  emitted(output: BlockOutput): EngineInput;
  /** A plain copy of a state, for matching and display. */
  plain(state: CellState): Json;
}

export function createEngine(plan: ChannelPlan, code?: (cell: string) => CodeRunner | undefined): Engine {
  const modules = code ? { code } : {};
  return {
    initialState: () => ({}),
    admit(cell, data, signer) {
      const c = plan.cells[cell];
      let r;
      if (signer === null) {
        // What an unsigning client sends: the data as JSON text.
        r = admitInput(plan, cell, JSON.stringify(data));
      } else {
        const signature = signBytes(signer, signedMessage(plan.channel, cell, data));
        // A signed cell takes the wire envelope; an unsigned one a detached signature.
        r = c?.signed
          ? admitInput(plan, cell, JSON.stringify({ data, signer: signer.publicKey, signature }))
          : admitInput(plan, cell, JSON.stringify(data), { signer: signer.publicKey, signature });
      }
      return "accepted" in r ? { verdict: r } : { input: r };
    },
    execute(cell, state, inputs, header) {
      const r = executeBlock(plan, cell, state, inputs, header, modules);
      const outputs: EngineBlock["outputs"] = inputs.map(() => []);
      for (const o of r.outputs) outputs[o.input]?.push(o);
      return { verdicts: r.verdicts, state: r.state, outputs };
    },
    emitted: (output) => outputInput(output),
    plain: (state) => plainState(state),
  };
}
