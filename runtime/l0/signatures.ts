/**
 * Who signed: a snapshot's commit certificate against the registered snapshot
 * group, and the approvals of a governance record. Every signer must be a
 * distinct member of the group and every signature must verify over the exact
 * bytes; a certificate must reach the group's threshold. The system L0 learns
 * from checked that each signature verified and that one signer was on a
 * list, never that a threshold of the channel's own validators signed: here
 * the threshold is the registered one, and nothing else counts.
 */
import type { CommitCertificate } from "../consensus/types.js";
import { refuse, short } from "./errors.js";
import type { EncodingSuite } from "./encoding.js";
import { checkCertificateShape } from "./shapes.js";
import { SNAPSHOT_CELL, type RecordSignature, type Refusal, type RegisteredGroup, type RegisteredValidator } from "./types.js";

const members = new WeakMap<RegisteredGroup, ReadonlyMap<string, string>>();

/** key -> validator name of a group, built once per group object. */
export function membersOf(group: RegisteredGroup): ReadonlyMap<string, string> {
  let m = members.get(group);
  if (m === undefined) {
    m = new Map(group.validators.map((v) => [v.key, v.name]));
    members.set(group, m);
  }
  return m;
}

export type SignersCheck = { ok: true; signers: RegisteredValidator[] } | { ok: false; refusal: Refusal };

/**
 * Checks a snapshot's certificate: for (channel, "snapshots", height, hash),
 * every signature a distinct member's precommit at the certificate's round,
 * at least the group's threshold.
 */
export function checkSnapshotCertificate(suite: EncodingSuite, groupName: string, group: RegisteredGroup, target: { channel: string; height: number; hash: string }, certificate: unknown): SignersCheck {
  const bad = checkCertificateShape(certificate);
  if (bad) return { ok: false, refusal: bad };
  const c = certificate as CommitCertificate;
  if (c.channel !== target.channel || c.cell !== SNAPSHOT_CELL || c.height !== target.height || c.valueId !== target.hash) {
    return {
      ok: false,
      refusal: refuse(
        "L0_CERTIFICATE",
        `the certificate is for ${short(c.channel)}/${short(c.cell)} height ${c.height} value ${short(c.valueId)}; this snapshot needs one for ${target.channel}/${SNAPSHOT_CELL} height ${target.height} value ${short(target.hash)}`,
        "send the snapshot group's commit certificate of this very snapshot: its valueId is the snapshot's hash",
        { channel: c.channel.slice(0, 64), cell: c.cell.slice(0, 64), height: c.height, valueId: c.valueId.slice(0, 64) },
        { channel: target.channel, cell: SNAPSHOT_CELL, height: target.height, valueId: target.hash },
      ),
    };
  }
  const bytes = suite.precommitBytes(target.channel, SNAPSHOT_CELL, target.height, c.round, target.hash);
  return checkSigners(group, groupName, c.signatures.map((s) => ({ key: s.validator, signature: s.signature })), (key, sig) => suite.verify(key, bytes, sig), `a precommit for this snapshot at round ${c.round}`, true);
}

/**
 * Checks the approvals of a governance record (signatures over its signing
 * bytes). With `threshold` false (upgrades, whose approvals may arrive one at
 * a time) a single valid member's signature is enough here.
 */
export function checkApprovals(suite: EncodingSuite, bytes: Uint8Array, groupName: string, group: RegisteredGroup, signatures: readonly RecordSignature[], threshold: boolean): SignersCheck {
  return checkSigners(group, groupName, signatures, (key, sig) => suite.verify(key, bytes, sig), "a signature of this record", threshold);
}

function checkSigners(group: RegisteredGroup, groupName: string, signatures: readonly RecordSignature[], verify: (key: string, signature: string) => boolean, what: string, threshold: boolean): SignersCheck {
  const n = group.validators.length;
  const q = group.threshold;
  const m = membersOf(group);
  if (signatures.length > n) {
    return { ok: false, refusal: refuse("L0_DUPLICATE_SIGNER", `${signatures.length} signatures for group "${groupName}" of ${n} validators: some signer appears twice`, "send each validator's signature once", signatures.length, n) };
  }
  const seen = new Set<string>();
  const signers: RegisteredValidator[] = [];
  // Membership and duplicates first, for all signatures: they cost nothing, a verify costs ~80 µs (runtime/core/keys.ts).
  for (const s of signatures) {
    const name = m.get(s.key);
    if (name === undefined) {
      return {
        ok: false,
        refusal: refuse(
          "L0_SIGNER_OUTSIDE_GROUP",
          `the key ${short(s.key)} is not a validator of the registered group "${groupName}" (${group.validators.slice(0, 8).map((v) => v.name).join(", ")}${n > 8 ? ", …" : ""})`,
          `have validators of group "${groupName}" sign; a validator that joined the channel is registered by a new registration version first`,
          s.key,
          group.validators.slice(0, 32).map((v) => v.key),
        ),
      };
    }
    if (seen.has(s.key)) {
      return { ok: false, refusal: refuse("L0_DUPLICATE_SIGNER", `validator "${name}" (${short(s.key)}) signed twice; one validator counts once`, "send each validator's signature once", s.key, "distinct signers") };
    }
    seen.add(s.key);
    signers.push({ name, key: s.key });
  }
  for (let i = 0; i < signatures.length; i++) {
    const s = signatures[i];
    if (!verify(s.key, s.signature)) {
      return {
        ok: false,
        refusal: refuse(
          "L0_BAD_SIGNATURE",
          `the signature of validator "${signers[i].name}" (${short(s.key)}) is not ${what}`,
          "send the signatures exactly as the validators made them over these exact bytes (any change to the record or snapshot changes what they sign)",
          s.signature,
          what,
        ),
      };
    }
  }
  if (threshold && seen.size < q) {
    return {
      ok: false,
      refusal: refuse(
        "L0_THRESHOLD",
        `${seen.size} of group "${groupName}"'s ${n} validators signed (${signers.map((s) => s.name).join(", ") || "none"}); its registered threshold is ${q}`,
        `collect at least ${q} signatures of group "${groupName}" and send them together`,
        seen.size,
        q,
      ),
    };
  }
  return { ok: true, signers };
}
