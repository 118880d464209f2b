import { keyPairFromName } from "../../../runtime/core/keys.js";
import { loadChannel } from "../../../runtime/definition/index.js";
import type { ChannelPlan } from "../../../runtime/definition/plan.js";
import { tokenConfig, type TokenConfig } from "../../../runtime/token/index.js";

/** A channel with a token whose accounts are test signers (keys derived from names). */
export function tokenChannel(token: string, extra = ""): ChannelPlan {
  const text = `channel: coin
version: 1
groups:
  vals: { validators: [v1, v2, v3, v4], threshold: 3 }
schemas:
  S: { type: object }
cells:
  one: { group: vals, accepts: S }
snapshots: { group: vals, every: 5 }
${extra}
token:
${token
  .trim()
  .split("\n")
  .map((l) => `  ${l}`)
  .join("\n")}
`;
  const r = loadChannel(text, { file: "coin.yaml" });
  if (!r.plan) throw new Error(r.problems.map((p) => `${p.code} ${p.path} ${p.message}`).join("\n"));
  return r.plan;
}

export const key = (name: string) => keyPairFromName(name);
export const pub = (name: string) => keyPairFromName(name).publicKey;

export function configOf(plan: ChannelPlan): TokenConfig {
  return tokenConfig(plan, (n) => keyPairFromName(n).publicKey);
}
