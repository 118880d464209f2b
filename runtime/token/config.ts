/**
 * The token's compiled rules of play, from the channel's TokenPlan and the
 * binding of names to public keys (the network file on a node; test signers in
 * channel tests). Built once per channel; pure.
 */
import { StatecellError } from "../core/errors.js";
import type { Json } from "../core/canonical.js";
import type { ChannelPlan, TokenPlan } from "../definition/plan.js";
import { createRuleEngine, type CompiledExpr } from "../rules/index.js";
import { MAX_AMOUNT, parseBaseUnits } from "./amount.js";

const HEX64 = /^[0-9a-f]{64}$/;

/** A name (or a key) to a public key, or undefined when the name is not bound. */
export type ResolveAccount = (nameOrKey: string) => string | undefined;

export interface TokenConfig {
  channel: string;
  plan: TokenPlan;
  /** Genesis balances by public key. */
  genesis: ReadonlyMap<string, bigint>;
  maxSupply: bigint;
  /** The fee of a transfer, or a refusal message when the fee expression faults or gives no whole amount. */
  feeOf: (op: { type: string; from: string; to: string; amount: bigint }, block: { height: number; time: number }) => bigint | string;
  /** Validators (public keys, sorted) fees are split among; empty: fees are burned. */
  feesTo: readonly string[];
  /** Base units minted per snapshot epoch, and the validators (sorted keys) that share them. */
  reward: bigint;
  rewardTo: readonly string[];
  /** Snapshot epochs: every N token blocks, or every N ms of block time. */
  epochOf: (height: number, time: number) => number;
}

/**
 * The token's configuration for `plan`, with names resolved by `resolve`.
 * @throws StatecellError TOKEN_UNBOUND_ACCOUNT when a genesis account or a validator of a fee or reward group has no key
 */
export function tokenConfig(plan: ChannelPlan, resolve: ResolveAccount): TokenConfig {
  const t = plan.token;
  if (!t) throw new StatecellError("TOKEN_NO_TOKEN", `the channel ${plan.channel} declares no token`, { remedy: "add a `token:` section to the channel" });
  const key = (name: string, where: string): string => {
    const k = HEX64.test(name) ? name : resolve(name);
    if (k === undefined || !HEX64.test(k)) {
      throw new StatecellError("TOKEN_UNBOUND_ACCOUNT", `${where} names "${name}", which is neither a public key nor a name bound to one`, {
        remedy: "bind the name to a key in the network file (`keys:`), or write the public key in the channel",
        payload: { name },
      });
    }
    return k;
  };
  const genesis = new Map<string, bigint>();
  for (const [account, amount] of Object.entries(t.genesis)) {
    const k = key(account, "token.genesis");
    genesis.set(k, (genesis.get(k) ?? 0n) + (parseBaseUnits(amount) ?? 0n));
  }
  const groupKeys = (group: string, where: string) => [...new Set(plan.groups[group].validators.map((v) => key(v, where)))].sort();
  const engine = createRuleEngine({ params: (plan.document as { params?: Json } | null)?.params ?? {} });
  const channel = { name: plan.channel, version: plan.version, hash: plan.hash, params: (plan.document as { params?: Json } | null)?.params ?? null };
  let feeOf: TokenConfig["feeOf"];
  if ("amount" in t.fee) {
    const fixed = parseBaseUnits(t.fee.amount) ?? 0n;
    feeOf = () => fixed;
  } else {
    const expr: CompiledExpr = engine.compile(t.fee.expression);
    feeOf = (op, block) => {
      const amount = op.amount <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(op.amount) : op.amount.toString(10);
      let v: Json;
      try {
        v = expr({ data: { type: op.type, from: op.from, to: op.to, amount }, state: null, block: { ...block, hash: "" }, signer: op.from, token: null, channel, source: { cell: null }, op: null });
      } catch (e) {
        return `the fee expression faulted: ${(e as { code?: string }).code ?? "error"}`;
      }
      if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
      const parsed = parseBaseUnits(v);
      if (parsed !== undefined) return parsed;
      return `the fee expression gave ${JSON.stringify(v)?.slice(0, 40)}, not a whole number of base units from 0`;
    };
  }
  const s = plan.snapshots;
  const epochOf: TokenConfig["epochOf"] = s?.every !== undefined ? (h) => Math.floor(h / s.every!) : s?.seconds !== undefined ? (_h, time) => Math.floor(time / (s.seconds! * 1000)) : () => 0;
  return {
    channel: plan.channel,
    plan: t,
    genesis,
    maxSupply: t.maxSupply !== undefined ? (parseBaseUnits(t.maxSupply) ?? MAX_AMOUNT) : MAX_AMOUNT,
    feeOf,
    feesTo: "group" in t.feesTo ? groupKeys(t.feesTo.group, "token.feesTo") : [],
    reward: t.rewards ? (parseBaseUnits(t.rewards.amount) ?? 0n) : 0n,
    rewardTo: t.rewards ? groupKeys(t.rewards.group, "token.rewards") : [],
    epochOf,
  };
}
