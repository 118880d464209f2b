/**
 * Governance records, decided purely like snapshots (accept.ts): channel
 * registrations and their later versions, upgrades of the definition at a
 * height (approvals may arrive one at a time, and anyone can read who has
 * approved: `upgradeReadiness`), and the resume record that unfreezes a
 * channel after a fork. Every record is signed over its signing bytes
 * (encoding.ts) by validators of the snapshot group in force: version 1 by
 * its own group, every later record by the current version's group.
 */
import type { Json } from "../core/canonical.js";
import { exceedsJsonSize } from "../consensus/frame-size.js";
import type { EncodingSuite, RecordKind } from "./encoding.js";
import { refuse, short } from "./errors.js";
import { currentVersion, type ChannelRegistry, type ChannelState, type ChannelStates, type DefinitionChange, type KnownSnapshot, type L0Registry, type RegistrationVersion } from "./model.js";
import { checkRegistrationShape, checkResumeShape, checkSignedEnvelope, checkUpgradeShape } from "./shapes.js";
import { checkApprovals, membersOf } from "./signatures.js";
import { GENESIS_HASH, type RecordSignature, type Refusal, type Registration, type RegisteredValidator, type Resume, type SignedRecord, type Upgrade } from "./types.js";

/** Default bound on a governance record with its signatures (256 KiB: a registration of 64 groups of 16 validators is ~150 KiB). */
export const DEFAULT_MAX_RECORD_BYTES = 262_144;

/** Most upgrade proposals below their threshold a channel may have open at once. */
export const MAX_OPEN_UPGRADES = 16;

const tooLarge = (max: number): Refusal =>
  refuse("L0_TOO_LARGE", `the record is larger than this L0's limit of ${max} bytes of canonical JSON`, `send a record of at most ${max} bytes (the L0 operator sets maxRecordBytes)`, `more than ${max} bytes`, max);

const unregistered = (channel: string): Refusal =>
  refuse("L0_UNREGISTERED", `the channel "${channel}" is not registered with this L0`, "POST its version 1 registration to /v1/registrations first", channel, "a registered channel");

/** A record's signing bytes, or L0_BAD_RECORD for a value canonical JSON cannot carry (e.g. a token nested deeper than 256 levels). */
function bytesOf(suite: EncodingSuite, kind: RecordKind, record: unknown): Uint8Array | Refusal {
  try {
    return suite.recordBytes(kind, record);
  } catch {
    return refuse("L0_BAD_RECORD", `the ${kind} cannot be encoded as canonical JSON (a value nested deeper than 256 levels, or not plain JSON)`, "send plain JSON, nested at most 256 levels", null, null);
  }
}

const headOf = (states: ChannelStates, channel: string): ChannelState["head"] => states.state(channel)?.head ?? { height: 0, hash: GENESIS_HASH };

// ---------------------------------------------------------------------------
// Registration

/** The outcome of acceptRegistration. */
export type RegistrationDecision =
  | { outcome: "registered"; version: RegistrationVersion; signers: RegisteredValidator[]; definition: DefinitionChange | null }
  | { outcome: "known"; version: RegistrationVersion }
  | { outcome: "refused"; refusal: Refusal };

/**
 * Decides a registration `{ record, signatures }`: version 1 of an
 * unregistered channel signed by a threshold of its own snapshot group, or
 * version n + 1 (prev = version n's hash, same definition) signed by a
 * threshold of version n's snapshot group. The same record again is `known`.
 */
export function acceptRegistration(registry: L0Registry, channelState: ChannelStates, body: unknown, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): RegistrationDecision {
  if (exceedsJsonSize(body, maxRecordBytes)) return { outcome: "refused", refusal: tooLarge(maxRecordBytes) };
  const env = checkSignedEnvelope(body, "registration");
  if (!env.ok) return { outcome: "refused", refusal: env.refusal };
  const shape = checkRegistrationShape(env.value.record);
  if (!shape.ok) return { outcome: "refused", refusal: shape.refusal };
  const r = shape.value;
  const { suite, signatures } = env.value;
  const bytes = bytesOf(suite, "registration", r);
  if (!(bytes instanceof Uint8Array)) return { outcome: "refused", refusal: bytes };
  const hash = suite.hashBytes(bytes);
  const reg = registry.registration(r.channel);
  const same = reg?.versions.find((v) => v.hash === hash);
  if (same !== undefined) return { outcome: "known", version: same };
  const head = headOf(channelState, r.channel);
  let approver: Registration;
  if (reg === undefined) {
    if (r.version !== 1) return { outcome: "refused", refusal: { ...unregistered(r.channel), actual: r.version, required: 1 } };
    approver = r;
  } else {
    const cur = currentVersion(reg);
    if (r.version === 1) {
      return {
        outcome: "refused",
        refusal: refuse(
          "L0_ALREADY_REGISTERED",
          `the channel "${r.channel}" is already registered (version ${cur.version}, ${short(cur.hash)}); this is another version 1`,
          `change a registered channel with version ${cur.version + 1} (prev: ${cur.hash}) signed by a threshold of version ${cur.version}'s snapshot group, or register under another channel name`,
          hash,
          cur.hash,
        ),
      };
    }
    if (r.version !== cur.version + 1) {
      return { outcome: "refused", refusal: refuse("L0_REGISTRATION_VERSION", `registration version ${r.version} of "${r.channel}" does not follow the current version ${cur.version}`, `send version ${cur.version + 1}`, r.version, cur.version + 1) };
    }
    if (r.prev !== cur.hash) {
      return { outcome: "refused", refusal: refuse("L0_REGISTRATION_PREV", `version ${r.version} names ${short(r.prev)} as the previous version; version ${cur.version} is ${short(cur.hash)}`, `write prev: "${cur.hash}"`, r.prev, cur.hash) };
    }
    const def = currentDefinition(reg, head.height);
    if (r.definitionHash !== def.definitionHash) {
      return {
        outcome: "refused",
        refusal: refuse(
          "L0_DEFINITION",
          `version ${r.version} carries definition ${short(r.definitionHash)}; the definition in force is ${short(def.definitionHash)}`,
          `keep definitionHash "${def.definitionHash}" in the registration; change the definition with an upgrade record (POST /v1/upgrades) at a snapshot height`,
          r.definitionHash,
          def.definitionHash,
        ),
      };
    }
    approver = cur.record;
  }
  const group = approver.groups[approver.snapshotGroup];
  const checked = checkApprovals(suite, bytes, approver.snapshotGroup, group, signatures, true);
  if (!checked.ok) return { outcome: "refused", refusal: checked.refusal };
  const version: RegistrationVersion = { version: r.version, hash, record: r, signatures: [...signatures], fromHeight: head.height + 1 };
  return { outcome: "registered", version, signers: checked.signers, definition: reg === undefined ? { fromHeight: 1, definitionHash: r.definitionHash, source: hash } : null };
}

/** The definition in force at the head (upgrades scheduled above it excluded). */
export function currentDefinition(reg: ChannelRegistry, headHeight: number): DefinitionChange {
  let cur = reg.definitions[0];
  for (let i = 1; i < reg.definitions.length; i++) if (reg.definitions[i].fromHeight <= headHeight) cur = reg.definitions[i];
  return cur;
}

/** The upgrade scheduled above the head, if any (at most one: a newer one replaces it). */
export function scheduledDefinition(reg: ChannelRegistry, headHeight: number): DefinitionChange | undefined {
  const d = reg.definitions;
  return d.length > 1 && d[d.length - 1].fromHeight > headHeight ? d[d.length - 1] : undefined;
}

/**
 * The definition changes after an upgrade takes `atHeight`: changes above the
 * head are dropped (a newer approved upgrade replaces a scheduled one), and
 * the new one is added unless it cancels (to = from).
 */
export function withUpgrade(reg: ChannelRegistry, headHeight: number, u: Upgrade, hash: string): DefinitionChange[] {
  const kept = reg.definitions.filter((d, i) => i === 0 || d.fromHeight <= headHeight);
  if (u.toDefinitionHash !== u.fromDefinitionHash) kept.push({ fromHeight: u.atHeight, definitionHash: u.toDefinitionHash, source: hash });
  return kept;
}

// ---------------------------------------------------------------------------
// Upgrades

/** One approval of an upgrade: the validator and its signature over the record. */
export interface Approval extends RegisteredValidator {
  signature: string;
}

/** `open`: below its threshold; `scheduled`: approved and taking effect at atHeight; `replaced`: a later approved upgrade took its place before it took effect; `refused`: reached its threshold too late (atHeight not above the head) or from another definition. */
export type UpgradeStatus = "open" | "scheduled" | "replaced" | "refused";

/** An upgrade proposal L0 holds, with the approvals so far. */
export interface UpgradeProposal {
  hash: string;
  record: Upgrade;
  approvals: Approval[];
  status: UpgradeStatus;
  /** The refusal that ended it, for status `refused`. */
  refusal: Refusal | null;
}

/** The outcome of acceptUpgrade: the proposal after this POST (new or merged approvals), or a refusal. */
export type UpgradeDecision =
  | { outcome: "approved"; proposal: UpgradeProposal; added: Approval[]; scheduled: boolean; definitions: DefinitionChange[] | null; replaced: string[] }
  | { outcome: "refused"; refusal: Refusal; proposal?: UpgradeProposal };

/**
 * Decides approvals of an upgrade `{ record, signatures }` (one or more
 * signatures of the current snapshot group). They are merged with those held
 * for the same record; when they reach the threshold the upgrade is scheduled
 * if its atHeight is still above the head and it starts from the definition in
 * force, replacing an upgrade scheduled before it that has not taken effect.
 */
export function acceptUpgrade(registry: L0Registry, channelState: ChannelStates, proposalsOf: (channel: string) => readonly UpgradeProposal[], body: unknown, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): UpgradeDecision {
  if (exceedsJsonSize(body, maxRecordBytes)) return { outcome: "refused", refusal: tooLarge(maxRecordBytes) };
  const env = checkSignedEnvelope(body, "upgrade");
  if (!env.ok) return { outcome: "refused", refusal: env.refusal };
  const shape = checkUpgradeShape(env.value.record);
  if (!shape.ok) return { outcome: "refused", refusal: shape.refusal };
  const u = shape.value;
  const { suite, signatures } = env.value;
  const reg = registry.registration(u.channel);
  if (reg === undefined) return { outcome: "refused", refusal: unregistered(u.channel) };
  const cur = currentVersion(reg);
  const bytes = bytesOf(suite, "upgrade", u);
  if (!(bytes instanceof Uint8Array)) return { outcome: "refused", refusal: bytes };
  const hash = suite.hashBytes(bytes);
  const proposals = proposalsOf(u.channel);
  const held = proposals.find((p) => p.hash === hash);
  if (held !== undefined && held.status === "refused") return { outcome: "refused", refusal: held.refusal!, proposal: held };
  if (held !== undefined && held.status !== "open") return { outcome: "approved", proposal: held, added: [], scheduled: false, definitions: null, replaced: [] };
  if (u.registration !== cur.version) {
    return {
      outcome: "refused",
      refusal: refuse("L0_REGISTRATION_VERSION", `the upgrade is approved under registration version ${u.registration}; the current version of "${u.channel}" is ${cur.version}`, `write registration: ${cur.version} and have version ${cur.version}'s snapshot group approve it`, u.registration, cur.version),
    };
  }
  const groupName = cur.record.snapshotGroup;
  const group = cur.record.groups[groupName];
  const checked = checkApprovals(suite, bytes, groupName, group, signatures, false);
  if (!checked.ok) return { outcome: "refused", refusal: checked.refusal };
  const before = held?.approvals ?? [];
  const have = new Set(before.map((a) => a.key));
  const added: Approval[] = [];
  for (const s of signatures) {
    if (have.has(s.key)) continue;
    have.add(s.key);
    added.push({ name: membersOf(group).get(s.key)!, key: s.key, signature: s.signature });
  }
  const approvals = orderApprovals(group, [...before, ...added]);
  const head = headOf(channelState, u.channel).height;
  const proposal: UpgradeProposal = { hash, record: u, approvals, status: "open", refusal: null };
  if (approvals.length < group.threshold) {
    const open = proposals.filter((p) => p.status === "open" && p.hash !== hash && p.record.registration === cur.version && p.record.atHeight > head).length;
    if (held === undefined && open >= MAX_OPEN_UPGRADES) {
      return {
        outcome: "refused",
        refusal: refuse(
          "L0_UPGRADES_FULL",
          `"${u.channel}" has ${open} upgrade proposals below their threshold; at most ${MAX_OPEN_UPGRADES} are kept open`,
          `send a threshold of approvals (${group.threshold}) together: an upgrade approved at once needs no open slot; or wait until open proposals pass their atHeight`,
          open,
          MAX_OPEN_UPGRADES,
        ),
      };
    }
    return { outcome: "approved", proposal, added, scheduled: false, definitions: null, replaced: [] };
  }
  // The threshold is met: schedule it, or end it with the reason it cannot take effect.
  const def = currentDefinition(reg, head);
  let refusal: Refusal | null = null;
  if (u.atHeight <= head) {
    refusal = refuse(
      "L0_UPGRADE_HEIGHT",
      `the upgrade reached its threshold at head ${head}, but takes effect at height ${u.atHeight}, which L0 has already accepted`,
      `approve a new upgrade record with atHeight ${head + 1} or later; snapshots keep the current definition until then`,
      u.atHeight,
      head + 1,
    );
  } else if (u.fromDefinitionHash !== def.definitionHash) {
    refusal = refuse(
      "L0_UPGRADE_FROM",
      `the upgrade starts from definition ${short(u.fromDefinitionHash)}; the definition in force is ${short(def.definitionHash)}`,
      `write fromDefinitionHash "${def.definitionHash}" and approve the new record`,
      u.fromDefinitionHash,
      def.definitionHash,
    );
  }
  if (refusal !== null) return { outcome: "refused", refusal, proposal: { ...proposal, status: "refused", refusal } };
  // Every upgrade scheduled before this one that has not taken effect (a cancellation included) gives way to it.
  const replaced = proposals.filter((p) => p.status === "scheduled" && p.hash !== hash && p.record.atHeight > head).map((p) => p.hash);
  return { outcome: "approved", proposal: { ...proposal, status: "scheduled" }, added, scheduled: true, definitions: withUpgrade(reg, head, u, hash), replaced };
}

function orderApprovals(group: { validators: readonly RegisteredValidator[] }, approvals: Approval[]): Approval[] {
  const index = new Map(group.validators.map((v, i) => [v.key, i]));
  return approvals.sort((a, b) => (index.get(a.key) ?? 0) - (index.get(b.key) ?? 0));
}

/** One line of `GET /v1/channels/{channel}/upgrades`. */
export interface UpgradeReadiness {
  hash: string;
  record: Upgrade;
  /** open, scheduled, in-effect (scheduled and reached), replaced, refused, expired (open, atHeight passed), stale (open under an older registration). */
  status: UpgradeStatus | "in-effect" | "expired" | "stale";
  approvals: Array<{ name: string; key: string }>;
  missing: string[];
  threshold: number;
  /** Whether the approvals meet the threshold of the group that must approve it. */
  ready: boolean;
  refusal: Refusal | null;
}

/**
 * Who has approved each upgrade proposal and whether its threshold is met,
 * like Fabric's `checkcommitreadiness` (docs/l0.md, "Upgrades").
 */
export function upgradeReadiness(reg: ChannelRegistry, headHeight: number, proposals: readonly UpgradeProposal[]): { channel: string; registration: number; snapshotGroup: string; threshold: number; definitionHash: string; scheduled: DefinitionChange | null; upgrades: UpgradeReadiness[] } {
  const cur = currentVersion(reg);
  const group = cur.record.groups[cur.record.snapshotGroup];
  const upgrades = proposals.map((p): UpgradeReadiness => {
    const approvers = new Set(p.approvals.map((a) => a.key));
    let status: UpgradeReadiness["status"] = p.status;
    if (p.status === "scheduled" && p.record.atHeight <= headHeight) status = "in-effect";
    else if (p.status === "open" && p.record.registration !== cur.version) status = "stale";
    else if (p.status === "open" && p.record.atHeight <= headHeight) status = "expired";
    return {
      hash: p.hash,
      record: p.record,
      status,
      approvals: p.approvals.map((a) => ({ name: a.name, key: a.key })),
      missing: p.record.registration === cur.version ? group.validators.filter((v) => !approvers.has(v.key)).map((v) => v.name) : [],
      threshold: group.threshold,
      ready: p.record.registration === cur.version && p.approvals.length >= group.threshold,
      refusal: p.refusal,
    };
  });
  return { channel: reg.channel, registration: cur.version, snapshotGroup: cur.record.snapshotGroup, threshold: group.threshold, definitionHash: currentDefinition(reg, headHeight).definitionHash, scheduled: scheduledDefinition(reg, headHeight) ?? null, upgrades };
}

// ---------------------------------------------------------------------------
// Resume

/** The outcome of acceptResume. */
export type ResumeDecision =
  | { outcome: "resumed"; hash: string; record: Resume; signatures: RecordSignature[]; target: KnownSnapshot; signers: RegisteredValidator[] }
  | { outcome: "refused"; refusal: Refusal };

/**
 * Decides a resume record: the channel is frozen by freeze `record.freeze`,
 * the named snapshot is one L0 holds at that height (accepted, or kept as
 * evidence and following the accepted snapshot below it), and a threshold of
 * the current snapshot group signed it.
 */
export function acceptResume(registry: L0Registry, channelState: ChannelStates, body: unknown, maxRecordBytes = DEFAULT_MAX_RECORD_BYTES): ResumeDecision {
  if (exceedsJsonSize(body, maxRecordBytes)) return { outcome: "refused", refusal: tooLarge(maxRecordBytes) };
  const env = checkSignedEnvelope(body, "resume");
  if (!env.ok) return { outcome: "refused", refusal: env.refusal };
  const shape = checkResumeShape(env.value.record);
  if (!shape.ok) return { outcome: "refused", refusal: shape.refusal };
  const r = shape.value;
  const { suite, signatures } = env.value;
  const reg = registry.registration(r.channel);
  if (reg === undefined) return { outcome: "refused", refusal: unregistered(r.channel) };
  const state = channelState.state(r.channel);
  if (state === undefined || state.frozen === null) {
    return { outcome: "refused", refusal: refuse("L0_NOT_FROZEN", `the channel "${r.channel}" is not frozen: there is nothing to resume`, "send snapshots as usual; a resume record is only for a channel frozen by a fork", state?.freezes ?? 0, "a frozen channel") };
  }
  const frozen = state.frozen;
  if (r.freeze !== frozen.freeze) {
    return { outcome: "refused", refusal: refuse("L0_RESUME_FREEZE", `the record resumes freeze ${r.freeze}; "${r.channel}" is frozen by freeze ${frozen.freeze}`, `write freeze: ${frozen.freeze} (GET /v1/channels/${r.channel} shows the freeze)`, r.freeze, frozen.freeze) };
  }
  const cur = currentVersion(reg);
  if (r.registration !== cur.version) {
    return { outcome: "refused", refusal: refuse("L0_REGISTRATION_VERSION", `the record is signed under registration version ${r.registration}; the current version is ${cur.version}`, `write registration: ${cur.version}`, r.registration, cur.version) };
  }
  const held = r.height <= state.head.height ? state.at(r.height) : [];
  const target = held.find((k) => k.hash === r.hash && (k.status === "accepted" || k.status === "evidence"));
  if (target === undefined) {
    return {
      outcome: "refused",
      refusal: refuse(
        "L0_RESUME_UNKNOWN",
        `L0 holds no snapshot ${short(r.hash)} at height ${r.height} of "${r.channel}" to continue from`,
        `name a snapshot L0 holds (its head ${state.head.height} or a fork's evidence: GET /v1/channels/${r.channel}); send a snapshot first if L0 does not hold it`,
        { height: r.height, hash: r.hash } as Json,
        held.filter((k) => k.status !== "superseded").map((k) => k.hash),
      ),
    };
  }
  if (target.status === "evidence") {
    const below = r.height === 1 ? GENESIS_HASH : state.at(r.height - 1).find((k) => k.status === "accepted")?.hash;
    if (target.prevHash !== below) {
      return {
        outcome: "refused",
        refusal: refuse(
          "L0_RESUME_LINK",
          `the snapshot ${short(r.hash)} at height ${r.height} follows ${short(target.prevHash)}, not L0's snapshot ${r.height - 1} (${short(below)})`,
          `send the snapshots of that branch below height ${r.height} first (each is kept as evidence), then resume from the lowest height where the branches part`,
          target.prevHash,
          below ?? null,
        ),
      };
    }
  }
  const bytes = bytesOf(suite, "resume", r);
  if (!(bytes instanceof Uint8Array)) return { outcome: "refused", refusal: bytes };
  const checked = checkApprovals(suite, bytes, cur.record.snapshotGroup, cur.record.groups[cur.record.snapshotGroup], signatures, true);
  if (!checked.ok) return { outcome: "refused", refusal: checked.refusal };
  return { outcome: "resumed", hash: suite.hashBytes(bytes), record: r, signatures: [...signatures], target, signers: checked.signers };
}

/** A signed record as the HTTP API and the store carry it. */
export type SignedGovernance = SignedRecord<Registration> | SignedRecord<Upgrade> | SignedRecord<Resume>;
