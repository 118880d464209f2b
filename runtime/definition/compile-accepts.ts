/**
 * What a cell or an operation accepts: the name of one of the channel's
 * schemas, or an inline schema compiled with the channel's schema compiler.
 */
import type { Json } from "../core/canonical.js";
import { isObj, type CompileContext } from "./compile-context.js";
import type { SchemaPlan } from "./plan.js";
import type { DocPath } from "./reporter.js";
import { didYouMean, listSome } from "./suggest.js";

/**
 * The schema `accepts` (written at `path`) stands for; `owner` names its
 * owner in messages (`cell "readings"`), `inlineName` an inline schema in
 * schema problems (`of cell readings`). `plan` is undefined after a problem.
 */
export function compileAccepts(ctx: CompileContext, accepts: Json | undefined, path: DocPath, owner: string, inlineName: string): { plan?: SchemaPlan; schemaName?: string } {
  const { reporter, names } = ctx;
  if (typeof accepts === "string") {
    if (!names.schemas.has(accepts)) {
      reporter.error(
        "DEFINITION_UNKNOWN_SCHEMA",
        path,
        `${owner} accepts schema "${accepts}", which is not defined${didYouMean(accepts, names.schemas, reporter.suggestions)}`,
        names.schemas.size ? `use one of: ${listSome(names.schemas)}, or an inline schema` : "define it under `schemas:`, or write an inline schema",
      );
      return { schemaName: accepts };
    }
    const plan = ctx.namedSchemas[accepts];
    return plan ? { plan, schemaName: accepts } : { schemaName: accepts };
  }
  if (isObj(accepts) || typeof accepts === "boolean") {
    const plan = ctx.schemas.compile(inlineName, accepts, path);
    return plan ? { plan } : {};
  }
  return {};
}
