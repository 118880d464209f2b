/**
 * An output of an upstream cell as an input of the cell it goes to. It keeps
 * where it came from (rules read `source.cell`; a pipeline cell takes only
 * such inputs) and the verified signer of the submission it comes from (a
 * `signed: true` downstream cell takes only outputs of signed inputs).
 */
import type { BlockInput, BlockOutput } from "./types.js";

export function outputInput(o: BlockOutput): BlockInput {
  const input: BlockInput = { data: o.data, signer: o.signer, source: { cell: o.from } };
  if (o.op !== undefined) input.op = o.op;
  return input;
}
