/**
 * `token:` to a TokenPlan. Lint checks every part: name and symbol (the JSON
 * Schema), decimals, the validating group, genesis accounts (a public key or a
 * name) and amounts (whole units with at most `decimals` digits after the
 * point, converted to base units digit by digit), the maximum supply against
 * the genesis supply, the fee (fixed, or an expression reading only data,
 * block and channel), where fees go, rewards and the pending-transfer policy.
 */
import type { Json } from "../core/canonical.js";
import { entries, isObj, type CompileContext } from "./compile-context.js";
import type { TokenPlan } from "./plan.js";
import { didYouMean, listSome } from "./suggest.js";
import { MAX_AMOUNT, formatBaseUnits, formatUnits, parseUnits } from "./token-amount.js";

/** A genesis account: a public key (64 lowercase hex) or a name a network file binds. */
const ACCOUNT = /^(?:[0-9a-f]{64}|[A-Za-z][A-Za-z0-9_.-]{0,62})$/;
/** What a fee expression may read: the transfer, the block and the channel (never state, whose reads would not be committed). */
const FEE_ROOTS = new Set(["data", "block", "channel"]);
/** Defaults of the pending-transfer policy. */
export const DEFAULT_TOKEN_PENDING = { expiresAfter: 60, perAccount: 64 } as const;

/** The token plan, or undefined when the channel declares none (or after a problem). */
export function compileToken(ctx: CompileContext): TokenPlan | undefined {
  const t = ctx.doc.token;
  if (!isObj(t) || typeof t.name !== "string" || typeof t.symbol !== "string") return undefined;
  const { reporter, names } = ctx;
  const errors = reporter.problems.length;
  const decimals = typeof t.decimals === "number" && Number.isInteger(t.decimals) && t.decimals >= 0 && t.decimals <= 18 ? t.decimals : 0;

  const groupOf = (key: string, value: Json | undefined, what: string): string | undefined => {
    if (typeof value !== "string") return undefined;
    if (!names.groups.has(value)) {
      reporter.error("DEFINITION_UNKNOWN_GROUP", ["token", ...key.split(".")], `${what} names group "${value}", which is not defined${didYouMean(value, names.groups, reporter.suggestions)}`, `use one of: ${listSome(names.groups)}`);
      return undefined;
    }
    return value;
  };

  let group = groupOf("group", t.group, "the token");
  if (t.group === undefined) {
    const snapshots = isObj(ctx.doc.snapshots) && typeof ctx.doc.snapshots.group === "string" ? ctx.doc.snapshots.group : undefined;
    group = snapshots !== undefined && names.groups.has(snapshots) ? snapshots : names.groups.size === 1 ? [...names.groups][0] : undefined;
    if (group === undefined) reporter.error("DEFINITION_MISSING_KEY", ["token"], "the token needs `group:`, the group whose validators run its cell (there are no snapshots and several groups to choose from)", `add \`group: ${[...names.groups][0] ?? "NAME"}\``, { anchor: "key" });
  }

  const amount = (value: Json | undefined, path: Array<string | number>, what: string): bigint | undefined => {
    const r = parseUnits(value, decimals);
    if ("value" in r) return r.value;
    reporter.error("DEFINITION_BAD_VALUE", ["token", ...path], `${what}: ${r.problem}`, `write whole ${t.symbol as string} with at most ${decimals} digit${decimals === 1 ? "" : "s"} after the point, e.g. "${formatUnits(1234n * 10n ** BigInt(decimals) + (decimals > 0 ? 5n : 0n), decimals)}"`);
    return undefined;
  };

  const genesis: Record<string, string> = {};
  let supply = 0n;
  for (const [account, value] of entries(t.genesis)) {
    if (!ACCOUNT.test(account)) {
      reporter.error("DEFINITION_BAD_VALUE", ["token", "genesis", account], `genesis account "${account.slice(0, 80)}" is neither a public key (64 lowercase hex characters) nor a name`, "write the account's public key, or a name the network file binds to one", { anchor: "key" });
      continue;
    }
    const v = amount(value, ["genesis", account], `the genesis amount of "${account}"`);
    if (v === undefined) continue;
    Object.defineProperty(genesis, account, { value: formatBaseUnits(v), enumerable: true, writable: true, configurable: true });
    supply += v;
  }

  let maxSupply: bigint | undefined;
  if (t.maxSupply !== undefined) {
    maxSupply = amount(t.maxSupply, ["maxSupply"], "the maximum supply");
    if (maxSupply !== undefined && maxSupply < supply) {
      reporter.error("DEFINITION_BAD_VALUE", ["token", "maxSupply"], `the maximum supply ${formatUnits(maxSupply, decimals)} is below the genesis supply ${formatUnits(supply, decimals)}`, `raise maxSupply to at least "${formatUnits(supply, decimals)}", or lower the genesis balances`);
    }
  }
  if (supply > MAX_AMOUNT) reporter.error("DEFINITION_BAD_VALUE", ["token", "genesis"], "the genesis balances add up to more than the largest amount (2^128 − 1 base units)", "lower the genesis balances");

  let fee: TokenPlan["fee"] = { amount: "0" };
  if (isObj(t.fee)) {
    const expr = t.fee.expression;
    if (expr !== undefined) {
      const compiled = ctx.exprs.expr(expr, ["token", "fee", "expression"]);
      const roots = ctx.exprs.varRoots(expr);
      const bad = [...roots].filter((r) => !FEE_ROOTS.has(r));
      if (bad.length > 0) reporter.error("DEFINITION_UNKNOWN_ROOT", ["token", "fee", "expression"], `a fee expression reads ${bad.join(", ")}; it may read only data (the transfer), block and channel`, "compute the fee from data.amount, data.type, block and channel.params");
      if (compiled) fee = { expression: expr };
    } else if (t.fee.amount !== undefined) {
      const v = amount(t.fee.amount, ["fee", "amount"], "the fee");
      if (v !== undefined) fee = { amount: formatBaseUnits(v) };
    }
  } else if (t.fee !== undefined) {
    const v = amount(t.fee, ["fee"], "the fee");
    if (v !== undefined) fee = { amount: formatBaseUnits(v) };
  }

  let feesTo: TokenPlan["feesTo"] = { burn: true };
  if (typeof t.feesTo === "string" && t.feesTo !== "burn") {
    const g = groupOf("feesTo", t.feesTo, "feesTo");
    if (g !== undefined) feesTo = { group: g };
  }

  let rewards: TokenPlan["rewards"];
  if (isObj(t.rewards)) {
    const v = amount(t.rewards.amount, ["rewards", "amount"], "the reward per snapshot");
    const g = groupOf("rewards.group", t.rewards.group ?? group ?? null, "rewards");
    if (!isObj(ctx.doc.snapshots)) reporter.error("DEFINITION_MISSING_KEY", ["token", "rewards"], "rewards are minted at every snapshot, but the channel has no `snapshots:`", "add `snapshots: { group: NAME, every: 20 }`, or remove `rewards`", { anchor: "key" });
    if (v !== undefined && g !== undefined) rewards = { amount: formatBaseUnits(v), group: g };
  }

  const p = isObj(t.pending) ? t.pending : {};
  const pending = {
    expiresAfter: typeof p.expiresAfter === "number" ? p.expiresAfter : DEFAULT_TOKEN_PENDING.expiresAfter,
    perAccount: typeof p.perAccount === "number" ? p.perAccount : DEFAULT_TOKEN_PENDING.perAccount,
  };

  if (reporter.problems.slice(errors).some((x) => x.severity === "error") || group === undefined) return undefined;
  return {
    name: t.name,
    symbol: t.symbol,
    decimals,
    ...(typeof t.description === "string" ? { description: t.description } : {}),
    group,
    genesis,
    supply: formatBaseUnits(supply),
    ...(maxSupply !== undefined ? { maxSupply: formatBaseUnits(maxSupply) } : {}),
    fee,
    feesTo,
    ...(rewards ? { rewards } : {}),
    pending,
  };
}

/** The groups `token:` names as written (so they count as used). */
export function tokenGroups(ctx: CompileContext): string[] {
  const t = ctx.doc.token;
  if (!isObj(t)) return [];
  const out: string[] = [];
  if (typeof t.group === "string") out.push(t.group);
  if (typeof t.feesTo === "string" && t.feesTo !== "burn") out.push(t.feesTo);
  if (isObj(t.rewards) && typeof t.rewards.group === "string") out.push(t.rewards.group);
  return out;
}
