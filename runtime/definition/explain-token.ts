/** The token in plain English, for explain: what it is, the supply, its cell, fees, rewards and the pending policy. */
import type { RuleEngine } from "../rules/index.js";
import type { TokenPlan } from "./plan.js";
import { TOKEN_CELL, formatUnits } from "./token-amount.js";

/** Lines about `t`; amounts in whole tokens and base units. */
export function tokenLines(t: TokenPlan, engine: RuleEngine): string[] {
  const d = t.decimals;
  const units = (base: string) => `${formatUnits(BigInt(base), d)} ${t.symbol}`;
  const holders = Object.entries(t.genesis);
  const lines: string[] = [];
  lines.push(
    `Token: ${t.name} (${t.symbol}) with ${d} decimal${d === 1 ? "" : "s"} (1 ${t.symbol} = ${(10n ** BigInt(d)).toString()} base unit${d === 0 ? "" : "s"})${t.description ? `: ${t.description.trim().replace(/\.$/, "")}` : ""}. The genesis supply of ${units(t.supply)} is held by ${holders.length} account${holders.length === 1 ? "" : "s"}${holders.length ? `: ${holders.map(([a, v]) => `${a} ${formatUnits(BigInt(v), d)}`).join(", ")}` : ""}.`,
  );
  lines.push(
    t.maxSupply !== undefined
      ? `The supply never exceeds ${units(t.maxSupply)}; the sum of all balances always equals the supply.`
      : "The supply has no maximum (amounts stop at 2^128 − 1 base units); the sum of all balances always equals the supply.",
  );
  lines.push(
    `Group ${t.group} runs the built-in cell "${TOKEN_CELL}": transfers, approvals and transferFroms, each signed by its source with the source's next nonce; a transfer moves more than 0 to another account, and the source's balance must cover the amount plus the fee.`,
  );
  const noFee = "amount" in t.fee && t.fee.amount === "0";
  const burned = "burn" in t.feesTo;
  const fee = "amount" in t.fee ? `Every transfer pays a fee of ${units(t.fee.amount)}` : `Every transfer pays a fee, in base units, of ${engine.describe(t.fee.expression)}`;
  lines.push(noFee ? "Transfers pay no fee." : `${fee}; fees are ${burned ? "burned (they leave the supply)" : `split among the validators of group ${(t.feesTo as { group: string }).group}`}.`);
  const fixedSupply = noFee || !burned ? "the supply stays as it is" : "the supply only falls, by the fees burned";
  lines.push(
    t.rewards
      ? `At every snapshot the token cell mints ${units(t.rewards.amount)}, split among the validators of group ${t.rewards.group}${t.maxSupply !== undefined ? `, until the supply reaches ${units(t.maxSupply)}` : ""}.`
      : `No rewards are minted: ${fixedSupply}.`,
  );
  lines.push(`A node keeps at most ${t.pending.perAccount} submissions per account waiting behind a nonce gap, each at most ${t.pending.expiresAfter} s; one with the same nonce replaces it.`);
  return lines;
}
