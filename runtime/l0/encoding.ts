/**
 * Encodings: how a record's bytes, hashes and signatures are made. Every L0
 * record carries `encoding`, and L0 hashes and checks it with that encoding's
 * suite, so adding an encoding later never re-hashes or re-verifies the past
 * (docs/l0.md, "Encodings"). A hash-function change applied to every record
 * at once is what broke signatures at the boundary ordinal in the system L0
 * learns from; here the boundary is per record and explicit.
 *
 * "statecell/1": the signing bytes of a record of kind K are
 * `"statecell:l0:K:" || RFC 8785 canonical bytes`; its hash is the sha256 of
 * those bytes as 64 lowercase hex; signatures are ed25519 over those bytes
 * as 128 lowercase hex; certificates are consensus precommits over
 * `["statecell/consensus/1", channel, cell, "precommit", height, round, valueId]`.
 */
import { createHash } from "node:crypto";
import { canonicalBytes, utf8 } from "../core/canonical.js";
import { signBytes, verifyBytes, type KeyPair } from "../core/keys.js";
import { l0Error } from "./errors.js";
import { ENCODING_V1, type Snapshot } from "./types.js";

/** The kinds of records L0 hashes or signs; each has its own domain tag. */
export type RecordKind = "registration" | "upgrade" | "resume" | "snapshot" | "ack" | "global";

/** How one encoding makes bytes, hashes and signatures. */
export interface EncodingSuite {
  readonly name: string;
  /** The bytes a record of `kind` is hashed and signed as. Throws CORE_NOT_JSON for a value JSON cannot carry. */
  recordBytes(kind: RecordKind, record: unknown): Uint8Array;
  /** The hash of a record's signing bytes. */
  hashBytes(bytes: Uint8Array): string;
  sign(key: KeyPair, bytes: Uint8Array): string;
  /** Never throws: malformed keys and signatures answer false. */
  verify(publicKey: string, bytes: Uint8Array, signature: string): boolean;
  /**
   * The signing bytes of a snapshot that passed checkSubmissionShape (names
   * and hex of the channel language's ASCII patterns, safe integers, a known
   * encoding): the same bytes as `recordBytes("snapshot", s)`, written out
   * directly (pinned by a property test), because the general encoder and
   * its JSON walk cost 40 to 90 µs per 4-cell snapshot, against 210 to 290 µs
   * per signature check, measured on the shared machine (docs/l0.md, "Figures").
   */
  checkedSnapshotBytes(s: Snapshot): Uint8Array;
  /** The bytes a certificate signature of (channel, cell, height, round, valueId) signs. */
  precommitBytes(channel: string, cell: string, height: number, round: number, valueId: string): Uint8Array;
}

const TAGS: Record<RecordKind, Uint8Array> = {
  registration: utf8("statecell:l0:registration:"),
  upgrade: utf8("statecell:l0:upgrade:"),
  resume: utf8("statecell:l0:resume:"),
  snapshot: utf8("statecell:l0:snapshot:"),
  ack: utf8("statecell:l0:ack:"),
  global: utf8("statecell:l0:global:"),
};

// Written out rather than taken from consensus/messages.ts: this encoding is
// frozen, while consensus may move to another signing domain; a test pins it
// to consensus's precommitString for as long as they agree.
const PRECOMMIT_DOMAIN_V1 = "statecell/consensus/1";

const SNAPSHOT_TAG_V1 = "statecell:l0:snapshot:";

const statecellV1: EncodingSuite = {
  name: ENCODING_V1,
  recordBytes(kind, record) {
    const tag = TAGS[kind];
    const body = canonicalBytes(record);
    const all = new Uint8Array(tag.length + body.length);
    all.set(tag, 0);
    all.set(body, tag.length);
    return all;
  },
  // sha256 is sha256 whichever code computes it: node:crypto's is native (runtime/core/hash.ts keeps
  // @noble/hashes for everything else); ~4x faster on a 1 KB snapshot here.
  hashBytes: (bytes) => createHash("sha256").update(bytes).digest("hex"),
  sign: (key, bytes) => signBytes(key, bytes),
  verify: (publicKey, bytes, signature) => verifyBytes(publicKey, bytes, signature),
  checkedSnapshotBytes(s) {
    // RFC 8785 for this shape: members sorted by UTF-16 code units (the names are ASCII), integers
    // in their shortest form, strings that need no escape (the patterns allow none).
    const names = Object.keys(s.cells).sort();
    let cells = "";
    for (let i = 0; i < names.length; i++) {
      const c = s.cells[names[i]];
      cells += `${i === 0 ? "" : ","}"${names[i]}":{"hash":"${c.hash}","height":${c.height},"stateRoot":"${c.stateRoot}"}`;
    }
    const token = s.token === null ? "null" : `{"stateRoot":"${s.token.stateRoot}"}`;
    return utf8(`${SNAPSHOT_TAG_V1}{"cells":{${cells}},"channel":"${s.channel}","definitionHash":"${s.definitionHash}","encoding":"${s.encoding}","height":${s.height},"prevHash":"${s.prevHash}","token":${token},"type":"snapshot"}`);
  },
  precommitBytes: (channel, cell, height, round, valueId) => utf8(JSON.stringify([PRECOMMIT_DOMAIN_V1, channel, cell, "precommit", height, round, valueId])),
};

const SUITES: ReadonlyMap<string, EncodingSuite> = new Map([[ENCODING_V1, statecellV1]]);

/** The encodings this L0 knows, oldest first. */
export const KNOWN_ENCODINGS: readonly string[] = Object.freeze([...SUITES.keys()]);

/** The suite of `name`, or undefined when this L0 does not know it (refused with L0_ENCODING). */
export function encodingSuite(name: unknown): EncodingSuite | undefined {
  return typeof name === "string" ? SUITES.get(name) : undefined;
}

/**
 * The suite of `name`, for records this process builds or has already checked.
 * @throws StatecellError L0_ENCODING for an encoding this L0 does not know
 */
export function requireSuite(name: string): EncodingSuite {
  const s = SUITES.get(name);
  if (s === undefined) {
    throw l0Error("L0_ENCODING", `the encoding ${JSON.stringify(name).slice(0, 80)} is not one this L0 knows (${KNOWN_ENCODINGS.join(", ")})`, `write encoding: "${ENCODING_V1}"`, { encoding: name });
  }
  return s;
}

/** The hash of a record under its own encoding (`record.encoding`). */
export function recordHash(kind: RecordKind, record: { encoding: string }): string {
  const s = requireSuite(record.encoding);
  return s.hashBytes(s.recordBytes(kind, record));
}

/** Signs a record under its own encoding: what each validator adds to a registration, upgrade or resume. */
export function signRecord(kind: RecordKind, record: { encoding: string }, key: KeyPair): { key: string; signature: string } {
  const s = requireSuite(record.encoding);
  return { key: key.publicKey, signature: s.sign(key, s.recordBytes(kind, record)) };
}
