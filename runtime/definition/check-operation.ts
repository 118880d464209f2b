/**
 * Where an input of a cell is made (an emit, a test's submission), the
 * operation it is submitted as: named exactly when the receiving cell has
 * operations, and one of them.
 */
import type { DocPath, Reporter } from "./reporter.js";
import { didYouMean, listSome } from "./suggest.js";

/**
 * Checks the operation `op` named where inputs of cell `to` are made (an
 * emit, a test's submission): required when `to` has operations, refused when
 * it has none. `operations` holds each cell's operation names (cells without
 * are absent); `what` names the place in messages. Reports and returns false
 * on a problem.
 */
export function checkOperation(
  reporter: Reporter,
  operations: ReadonlyMap<string, ReadonlySet<string>>,
  to: string,
  op: string | undefined,
  path: DocPath,
  what: string,
): boolean {
  const ops = operations.get(to);
  if (ops === undefined) {
    if (op === undefined) return true;
    reporter.error("DEFINITION_UNKNOWN_OPERATION", [...path, "op"], `${what} names operation "${op}", but cell "${to}" has no operations`, "remove `op:`; only a cell with `operations:` takes one");
    return false;
  }
  if (op === undefined) {
    reporter.error("DEFINITION_MISSING_KEY", path, `${what} must name one of its operations with \`op:\``, `add \`op:\`, one of: ${listSome(ops)}`, { anchor: "key" });
    return false;
  }
  if (ops.has(op)) return true;
  reporter.error("DEFINITION_UNKNOWN_OPERATION", [...path, "op"], `cell "${to}" has no operation "${op}"${didYouMean(op, ops, reporter.suggestions)}`, `use one of: ${listSome(ops)}`);
  return false;
}
