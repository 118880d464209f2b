/** `token:` to a TokenPlan: name, symbol, decimals and genesis balances (each with at most `decimals` digits after the point). */
import { entries, isObj, type CompileContext } from "./compile-context.js";
import type { TokenPlan } from "./plan.js";

/** The token plan, or undefined when the channel declares none. */
export function compileToken(ctx: CompileContext): TokenPlan | undefined {
  const t = ctx.doc.token;
  if (!isObj(t) || typeof t.name !== "string" || typeof t.symbol !== "string") return undefined;
  const decimals = typeof t.decimals === "number" ? t.decimals : 0;
  const genesis: Record<string, number> = {};
  let supply = 0;
  for (const [account, amount] of entries(t.genesis)) {
    if (typeof amount !== "number") continue;
    // Amounts are in whole units with at most `decimals` digits after the point.
    const scaled = amount * 10 ** decimals;
    if (Math.abs(scaled - Math.round(scaled)) > 1e-6 * Math.max(1, Math.abs(scaled))) {
      ctx.reporter.error("DEFINITION_BAD_VALUE", ["token", "genesis", account], `genesis amount ${amount} of "${account}" has more than ${decimals} digits after the point`, `round it to ${decimals} decimals, or raise \`decimals\``);
      continue;
    }
    genesis[account] = amount;
    supply += amount;
  }
  return { name: t.name, symbol: t.symbol, decimals, genesis, supply: Number(supply.toFixed(decimals)) };
}
