/**
 * Acceptance of a channel snapshot: a pure decision over what L0 knows
 * (registrations, the channel's chain) and what a stranger sent. It never
 * writes and never throws; the service (service.ts) carries out the outcome:
 *
 * - `accepted`: the next snapshot of the chain, fully checked;
 * - `known`: a snapshot L0 already holds (same hash): the same answer again,
 *   whatever certificate came with it this time;
 * - `fork`: a second, fully valid snapshot for a height that already has one.
 *   It is kept as evidence and the channel is frozen until a threshold of its
 *   snapshot group names the snapshot to continue from (governance.ts,
 *   `applyResume`). Signatures are never counted to pick a side: both sides
 *   carry a quorum of one group, so the group itself must say;
 * - `refused`: a Refusal with its code, the actual and the required values.
 *
 * Checks run cheapest first, so that what costs (hashing, ~80 µs per
 * signature) is spent only on a submission that could be accepted: size,
 * shape, encoding, registration, hash, height and freeze, previous hash,
 * definition, token, then the certificate.
 *
 * No rule here depends on what an accepted snapshot said beyond its hash and
 * height (no "cell heights never decrease", no fee): a rule of that kind can
 * make every later snapshot of a channel unacceptable, as a fee rule did in
 * the system L0 learns from (docs/l0.md, "Nothing is permanent"). Every
 * refusal names something the channel or the operator can change.
 */
import { exceedsJsonSize } from "../consensus/frame-size.js";
import { refuse, short } from "./errors.js";
import { currentVersion, definitionAt, versionOf, type ChannelStates, type KnownSnapshot, type L0Registry } from "./model.js";
import { checkSubmissionShape } from "./shapes.js";
import { checkSnapshotCertificate } from "./signatures.js";
import { GENESIS_HASH, type Refusal, type Registration, type RegisteredValidator, type Snapshot, type SnapshotSubmission } from "./types.js";

/**
 * Default bound on a submission's canonical size (1 MiB). A snapshot entry
 * costs about 250 bytes per cell, so this holds about 4,000 cells; an
 * operator raises `maxSnapshotBytes` for a channel with more (a refused
 * channel is accepted once it is raised: nothing is lost).
 */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 1_048_576;

/** Most evidence snapshots kept during one freeze (a quorum that certifies many values is reported by the first few). */
export const MAX_EVIDENCE_PER_FREEZE = 8;

/** Options of acceptSnapshot. */
export interface AcceptOptions {
  /** Most bytes of the submission's canonical JSON (default DEFAULT_MAX_SNAPSHOT_BYTES). */
  maxSnapshotBytes?: number;
}

/** What was checked and by whom, for an accepted snapshot or a fork. */
export interface CheckedSnapshot {
  submission: SnapshotSubmission;
  snapshot: Snapshot;
  hash: string;
  /** The registration version whose snapshot group certified it. */
  registration: number;
  signers: RegisteredValidator[];
}

/** The outcome of acceptSnapshot. */
export type Acceptance =
  | ({ outcome: "accepted" } & CheckedSnapshot)
  | { outcome: "known"; known: KnownSnapshot }
  | ({ outcome: "fork"; kept: KnownSnapshot } & CheckedSnapshot)
  | { outcome: "refused"; refusal: Refusal };

const refused = (refusal: Refusal): Acceptance => ({ outcome: "refused", refusal });

/**
 * Decides what L0 does with a submission `{ snapshot, hash, certificate }`.
 * @example acceptSnapshot(service.registry, service.channels, body).outcome // "accepted"
 */
export function acceptSnapshot(registry: L0Registry, channelState: ChannelStates, submission: unknown, options: AcceptOptions = {}): Acceptance {
  const max = options.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;
  if (exceedsJsonSize(submission, max)) {
    return refused(
      refuse(
        "L0_TOO_LARGE",
        `the submission is larger than this L0's limit of ${max} bytes of canonical JSON`,
        `send a snapshot of at most ${max} bytes; a channel whose snapshots need more asks the L0 operator to raise maxSnapshotBytes (the same snapshot is accepted then)`,
        `more than ${max} bytes`,
        max,
      ),
    );
  }
  const shape = checkSubmissionShape(submission);
  if (!shape.ok) return refused(shape.refusal);
  const { submission: sub, suite } = shape.value;
  const s = sub.snapshot;
  const reg = registry.registration(s.channel);
  if (reg === undefined) {
    return refused(refuse("L0_UNREGISTERED", `the channel "${s.channel}" is not registered with this L0`, "POST its registration (signed by a threshold of its snapshot group) to /v1/registrations, then send the snapshot again", s.channel, "a registered channel"));
  }
  const state = channelState.state(s.channel) ?? { channel: s.channel, head: { height: 0, hash: GENESIS_HASH }, freezes: 0, frozen: null, evidence: 0, at: () => [] };

  let hash: string;
  try {
    hash = suite.hashBytes(suite.checkedSnapshotBytes(s));
  } catch {
    return refused(refuse("L0_BAD_SNAPSHOT", "the snapshot cannot be encoded as canonical JSON", "send plain JSON", null, null));
  }
  if (hash !== sub.hash) {
    return refused(
      refuse(
        "L0_HASH",
        `the snapshot hashes to ${short(hash)} under ${s.encoding}, not to the claimed ${short(sub.hash)}`,
        `hash the snapshot as sha256("statecell:l0:snapshot:" || its RFC 8785 bytes) (docs/l0.md, "Snapshot"), and send the hash the certificate's precommits sign`,
        sub.hash,
        hash,
      ),
    );
  }

  const head = state.head;
  if (s.height <= head.height) {
    const held = state.at(s.height);
    const same = held.find((k) => k.hash === hash);
    if (same !== undefined) return { outcome: "known", known: same };
    const kept = held.find((k) => k.status === "accepted");
    if (kept === undefined) {
      // Cannot happen while the store keeps its invariant (heights 1..head accepted); refused rather than trusted.
      return refused(refuse("L0_HEIGHT", `L0 holds no accepted snapshot at height ${s.height} of "${s.channel}"`, "send the snapshot that follows the channel's head", s.height, head.height + 1));
    }
    if (state.frozen !== null && state.evidence >= MAX_EVIDENCE_PER_FREEZE) {
      return refused(frozenRefusal(s.channel, state.frozen.height, state.frozen.freeze, state.frozen.hashes));
    }
    // A fork candidate is judged by the rules that accepted the snapshot it conflicts with.
    const version = versionOf(reg, kept.registration) ?? currentVersion(reg);
    if (s.definitionHash !== kept.definitionHash) return refused(definitionRefusal(s, kept.definitionHash, s.height));
    const token = tokenRefusal(version.record, s);
    if (token) return refused(token);
    const certified = checkSnapshotCertificate(suite, version.record.snapshotGroup, version.record.groups[version.record.snapshotGroup], { channel: s.channel, height: s.height, hash }, sub.certificate);
    if (!certified.ok) return refused(certified.refusal);
    return { outcome: "fork", kept, submission: sub, snapshot: s, hash, registration: version.version, signers: certified.signers };
  }

  if (state.frozen !== null) return refused(frozenRefusal(s.channel, state.frozen.height, state.frozen.freeze, state.frozen.hashes));
  if (s.height !== head.height + 1) {
    return refused(
      refuse(
        "L0_HEIGHT",
        `snapshot height ${s.height} of "${s.channel}" does not follow L0's head at height ${head.height}`,
        `send the snapshots from height ${head.height + 1} on, in order (GET /v1/channels/${s.channel} gives the head)`,
        s.height,
        head.height + 1,
      ),
    );
  }
  if (s.prevHash !== head.hash) {
    return refused(
      refuse(
        "L0_PREV_HASH",
        `snapshot ${s.height} of "${s.channel}" names ${short(s.prevHash)} as the previous snapshot; L0's snapshot ${head.height} is ${short(head.hash)}`,
        head.height === 0 ? `the first snapshot has prevHash ${GENESIS_HASH}` : `build the snapshot on L0's snapshot ${head.height} (prevHash ${head.hash}) and send it again`,
        s.prevHash,
        head.hash,
      ),
    );
  }
  const def = definitionAt(reg, s.height);
  if (s.definitionHash !== def.definitionHash) return refused(definitionRefusal(s, def.definitionHash, def.fromHeight));
  const version = currentVersion(reg);
  const token = tokenRefusal(version.record, s);
  if (token) return refused(token);
  const group = version.record.groups[version.record.snapshotGroup];
  const certified = checkSnapshotCertificate(suite, version.record.snapshotGroup, group, { channel: s.channel, height: s.height, hash }, sub.certificate);
  if (!certified.ok) return refused(certified.refusal);
  return { outcome: "accepted", submission: sub, snapshot: s, hash, registration: version.version, signers: certified.signers };
}

/** The refusal of a snapshot of a frozen channel. */
export function frozenRefusal(channel: string, height: number, freeze: number, hashes: readonly string[]): Refusal {
  return refuse(
    "L0_FROZEN",
    `the channel "${channel}" is frozen since freeze ${freeze}: L0 holds ${hashes.length} different certified snapshots for height ${height} (${hashes.map(short).join(", ")})`,
    `have a threshold of the snapshot group sign a resume record { type: "resume", freeze: ${freeze}, height, hash } naming the snapshot to continue from, and POST it to /v1/resumes`,
    { height, hashes: [...hashes] },
    "a resume record",
  );
}

function definitionRefusal(s: Snapshot, required: string, since: number): Refusal {
  return refuse(
    "L0_DEFINITION",
    `snapshot ${s.height} of "${s.channel}" carries definition ${short(s.definitionHash)}; the definition in force at that height is ${short(required)} (since height ${since})`,
    `run the channel definition ${required} at this height, or have a threshold of the snapshot group approve an upgrade (POST /v1/upgrades) from height ${s.height} or later`,
    s.definitionHash,
    required,
  );
}

function tokenRefusal(r: Registration, s: Snapshot): Refusal | undefined {
  if ((r.token === null) === (s.token === null)) return undefined;
  return r.token === null
    ? refuse("L0_TOKEN", `snapshot ${s.height} of "${s.channel}" carries a token state, but the channel is registered without a token`, "send token: null, or register a version with the token's genesis first", "{ stateRoot }", null)
    : refuse("L0_TOKEN", `snapshot ${s.height} of "${s.channel}" carries no token state, but the channel is registered with a token`, "send token: { stateRoot } with the token's state root", null, "{ stateRoot }");
}
