/**
 * A channel's registration with L0 (docs/l0.md, "Registration"), built the
 * same on every node from the channel plan and the network file, and the
 * signatures of its snapshot group gathered for it: each validator of the
 * group signs the record, sends its signature to the others, and once a
 * threshold is held the record goes into the outbox.
 */
import type { Json } from "../../core/canonical.js";
import type { KeyPair } from "../../core/keys.js";
import type { ChannelPlan } from "../../definition/plan.js";
import { encodingSuite, ENCODING_V1, recordHash, signRecord, type Registration } from "../../l0/index.js";

/** Version 1 of `plan`'s registration; `keys[group][validator]` are the public keys from the network file. */
export function genesisRegistration(plan: ChannelPlan, keys: (group: string) => Readonly<Record<string, string>>, token: Registration["token"] = null): Registration {
  const groups: Registration["groups"] = {};
  for (const [name, g] of Object.entries(plan.groups)) {
    const k = keys(name);
    groups[name] = { validators: g.validators.map((v) => ({ name: v, key: k[v] })), threshold: g.threshold.quorum };
  }
  return { type: "registration", encoding: ENCODING_V1, channel: plan.channel, version: 1, definitionHash: plan.hash, groups, snapshotGroup: plan.snapshots!.group, token, prev: null };
}

export function registrationHash(r: Registration): string {
  return recordHash("registration", r);
}

export function signRegistration(r: Registration, key: KeyPair): { key: string; signature: string } {
  return signRecord("registration", r, key);
}

/** Whether `signature` by `key` signs `r` (both untrusted). */
export function registrationSignatureValid(r: Registration, key: unknown, signature: unknown): boolean {
  if (typeof key !== "string" || typeof signature !== "string" || !/^[0-9a-f]{64}$/.test(key) || !/^[0-9a-f]{128}$/.test(signature)) return false;
  const suite = encodingSuite(r.encoding)!;
  try {
    return suite.verify(key, suite.recordBytes("registration", r as unknown as Json), signature);
  } catch {
    return false;
  }
}
