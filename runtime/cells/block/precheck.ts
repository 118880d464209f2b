/**
 * Stage 1 of a block: the checks that depend on an input alone, done once
 * per input whatever happens later. Where the input may come from (a direct
 * submission, or an output of an upstream cell), its signer, its operation,
 * the input limits, its canonical bytes and its schema.
 */
import { canonicalBytes } from "../../core/canonical.js";
import type { CellPlan, OperationPlan, SchemaPlan, ValidateFn } from "../../definition/plan.js";
import type { BlockInput, Rejected } from "../types.js";
import { inspectValue, reject } from "../inspect.js";
import { wasAdmitted } from "../admit.js";
import type { BlockEnv } from "./env.js";

/** An input that passed stage 1. */
export interface Prechecked {
  index: number;
  input: BlockInput;
  /** Canonical bytes (carried from admission, or computed here once). */
  bytes: Uint8Array;
  /** The operation it names, for a cell with operations. */
  op: OperationPlan | undefined;
}

export type PrecheckResult = Prechecked | Rejected;

/** Stage 1 for every input, in order. */
export function precheck(env: BlockEnv): PrecheckResult[] {
  const { cell, inputs, plan } = env;
  const { maxBytes, maxDepth } = plan.inputLimits;
  const out: PrecheckResult[] = new Array<PrecheckResult>(inputs.length);
  for (let i = 0; i < inputs.length; i++) out[i] = checkOne(env.cellName, cell, inputs[i], i, maxBytes, maxDepth);
  env.lap("limits");
  for (let i = 0; i < out.length; i++) {
    const p = out[i];
    if ("accepted" in p) continue;
    const schema: SchemaPlan = p.op?.accepts ?? cell.accepts;
    if (!schema.validate(p.input.data)) out[i] = schemaRejection(p.op?.schemaName ?? cell.schemaName, p.op ? `operation "${p.op.name}" of cell "${cell.name}"` : `cell "${cell.name}"`, schema.validate.errors);
  }
  env.lap("schema");
  return out;
}

function checkOne(cellName: string, cell: CellPlan, input: BlockInput, index: number, maxBytes: number, maxDepth: number): PrecheckResult {
  // Where it comes from: a pipeline cell takes only its upstream cells' outputs, unless `direct: true`.
  const source = input.source;
  if (source === undefined) {
    if (cell.upstream.length > 0 && !cell.direct) {
      return reject(
        "CELL_NOT_A_SOURCE",
        `cell "${cellName}" takes only outputs of ${list(cell.upstream)}, not direct submissions (the channel would need \`direct: true\` on the cell)`,
      );
    }
  } else if (!cell.upstream.includes(source.cell)) {
    return reject("CELL_NOT_A_SOURCE", `cell "${cellName}" takes no outputs of cell "${source.cell}"${cell.upstream.length > 0 ? `, only of ${list(cell.upstream)}` : ""}`);
  }
  // Signed: the verified signer of a submission, or of the submission an output comes from.
  if (cell.signed && (typeof input.signer !== "string" || input.signer === "")) {
    return reject(
      "CELL_UNSIGNED",
      source === undefined
        ? `cell "${cellName}" accepts only signed inputs, and this one has no signer`
        : `cell "${cellName}" accepts only outputs of signed inputs, and the input this output comes from was not signed`,
    );
  }
  // Operation.
  let op: OperationPlan | undefined;
  if (cell.operations !== undefined) {
    const name = input.op;
    if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(cell.operations, name)) {
      const names = Object.keys(cell.operations);
      return reject(
        "CELL_UNKNOWN_OP",
        typeof name === "string"
          ? `cell "${cellName}" has no operation "${name}"; it has ${names.join(", ")}`
          : `cell "${cellName}" takes several kinds of input: name one with "op" (${names.join(", ")})`,
      );
    }
    op = cell.operations[name];
  } else if (input.op !== undefined) {
    return reject("CELL_UNKNOWN_OP", `cell "${cellName}" has no operations, so a submission names none (drop "op")`);
  }
  // Limits: values that did not come through admission in this process are walked again.
  const trusted = input.bytes !== undefined && wasAdmitted(input);
  const bad = trusted ? undefined : inspectValue(input.data, maxDepth, maxBytes);
  if (bad) return bad;
  let bytes = input.bytes;
  if (bytes === undefined) {
    try {
      bytes = canonicalBytes(input.data);
    } catch {
      return reject("CELL_NOT_JSON", "the input has no canonical JSON encoding");
    }
  }
  if (bytes.length > maxBytes) return reject("CELL_TOO_LARGE", `the input is ${bytes.length} bytes, over the limit of ${maxBytes}`);
  return { index, input, bytes, op };
}

function list(names: readonly string[]): string {
  return names.map((n) => `"${n}"`).join(names.length === 2 ? " and " : ", ");
}

/** CELL_SCHEMA with the first error's place (the message may quote ajv, which never reaches consensus). */
export function schemaRejection(schemaName: string | undefined, what: string, errors: ValidateFn["errors"]): Rejected {
  const first = errors?.[0];
  const kind = schemaName !== undefined ? `a ${schemaName}` : `an input of ${what}`;
  if (first === undefined) return reject("CELL_SCHEMA", `the input is not ${kind}`, "");
  let where = first.instancePath;
  if (first.keyword === "required" && typeof first.params.missingProperty === "string") where = `${where}/${first.params.missingProperty}`;
  return reject("CELL_SCHEMA", `the input is not ${kind}: ${first.instancePath || "the input"} ${first.message ?? "is invalid"}`, where);
}
