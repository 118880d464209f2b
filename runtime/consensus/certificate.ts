/**
 * Commit certificates: building one from the precommits that decided a block,
 * and checking one received from anywhere (catch-up, a downstream cell, L0).
 */
import { StatecellError } from "../core/errors.js";
import type { GroupPlan } from "../definition/plan.js";
import { precommitString } from "./messages.js";
import { cachingVerifier } from "./verifier.js";
import type { CommitCertificate, SignatureVerifier, Vote } from "./types.js";
import { validatorSet, type ValidatorSet } from "./validator-set.js";

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/** Why a certificate was refused. */
export type CertificateCode =
  | "CONSENSUS_CERT_MALFORMED"
  | "CONSENSUS_CERT_WRONG_BLOCK"
  | "CONSENSUS_CERT_NON_MEMBER"
  | "CONSENSUS_CERT_DUPLICATE_SIGNER"
  | "CONSENSUS_CERT_BAD_SIGNATURE"
  | "CONSENSUS_CERT_BELOW_THRESHOLD";

export type CertificateCheck = { ok: true; signers: string[] } | { ok: false; code: CertificateCode; message: string };

/** What a certificate must be about. */
export interface CertifiedTarget {
  channel: string;
  cell: string;
  height: number;
  /** The block's exact value id (`app.valueId(value)`), recomputed by the checker, never taken from the certificate. */
  valueId: string;
}

/** A certificate from a quorum of precommits, ordered by validator index so every node builds the same one. */
export function buildCertificate(set: ValidatorSet, votes: readonly Vote[]): CommitCertificate {
  const v0 = votes[0];
  const sorted = [...votes].sort((a, b) => set.index.get(a.validator)! - set.index.get(b.validator)!);
  return {
    channel: v0.channel,
    cell: v0.cell,
    height: v0.height,
    round: v0.round,
    valueId: v0.valueId as string,
    signatures: sorted.map((v) => ({ validator: v.validator, signature: v.signature })),
  };
}

/**
 * Checks that `cert` certifies exactly `target`: well formed, distinct group
 * members, at least the group's quorum, every signature a precommit over the
 * target's value id at the certificate's round.
 * @example verifyCertificate(plan.groups.edge, keys, { channel, cell, height: 7, valueId }, cert).ok
 */
export function verifyCertificate(
  group: GroupPlan | ValidatorSet,
  keys: Readonly<Record<string, string>> | null,
  target: CertifiedTarget,
  cert: unknown,
  verifier: SignatureVerifier = cachingVerifier(256),
): CertificateCheck {
  const set = "keys" in group && "index" in group ? group : validatorSet(group, keys ?? {});
  const fail = (code: CertificateCode, message: string): CertificateCheck => ({ ok: false, code, message });
  if (typeof cert !== "object" || cert === null || Array.isArray(cert)) return fail("CONSENSUS_CERT_MALFORMED", "a certificate is an object");
  const c = cert as Record<string, unknown>;
  if (!Number.isSafeInteger(c.height) || !Number.isSafeInteger(c.round) || (c.round as number) < 0 || typeof c.valueId !== "string" || !HEX64.test(c.valueId) || !Array.isArray(c.signatures)) {
    return fail("CONSENSUS_CERT_MALFORMED", "a certificate has channel, cell, height, round, valueId and signatures");
  }
  if (c.channel !== target.channel || c.cell !== target.cell || c.height !== target.height || c.valueId !== target.valueId) {
    return fail(
      "CONSENSUS_CERT_WRONG_BLOCK",
      `the certificate is for ${String(c.channel)}/${String(c.cell)} height ${String(c.height)} value ${String(c.valueId).slice(0, 12)}, expected ${target.channel}/${target.cell} height ${target.height} value ${target.valueId.slice(0, 12)}`,
    );
  }
  if ((c.signatures as unknown[]).length > set.size) return fail("CONSENSUS_CERT_DUPLICATE_SIGNER", `${(c.signatures as unknown[]).length} signatures for a group of ${set.size}`);
  const text = precommitString(target.channel, target.cell, target.height, c.round as number, target.valueId);
  const seen = new Set<string>();
  for (const s of c.signatures as unknown[]) {
    const sig = s as Record<string, unknown> | null;
    if (typeof sig !== "object" || sig === null || typeof sig.validator !== "string" || typeof sig.signature !== "string" || !HEX128.test(sig.signature)) {
      return fail("CONSENSUS_CERT_MALFORMED", "each signature is { validator: 64 hex, signature: 128 hex }");
    }
    if (!set.index.has(sig.validator)) return fail("CONSENSUS_CERT_NON_MEMBER", `${sig.validator.slice(0, 12)}… is not a validator of group "${set.group}"`);
    if (seen.has(sig.validator)) return fail("CONSENSUS_CERT_DUPLICATE_SIGNER", `${sig.validator.slice(0, 12)}… signed twice`);
    seen.add(sig.validator);
    if (!verifier.verify(sig.validator, text, sig.signature)) {
      return fail("CONSENSUS_CERT_BAD_SIGNATURE", `the signature of ${sig.validator.slice(0, 12)}… is not a precommit for this block at round ${String(c.round)}`);
    }
  }
  if (seen.size < set.quorum) return fail("CONSENSUS_CERT_BELOW_THRESHOLD", `${seen.size} signatures, group "${set.group}" needs ${set.quorum} of ${set.size}`);
  return { ok: true, signers: [...seen] };
}

/** Throwing form of verifyCertificate, for callers that stop on the first bad block. */
export function assertCertificate(...args: Parameters<typeof verifyCertificate>): void {
  const r = verifyCertificate(...args);
  if (!r.ok) {
    throw new StatecellError(r.code, r.message, {
      remedy: "fetch the block from another validator of the group; a peer that served this one is faulty",
      payload: { height: args[2].height },
    });
  }
}
