/**
 * Shape checks of what strangers send L0: submissions, snapshots, governance
 * records and their signatures. Exactly the documented fields (an extra field
 * would be hashed and stored without meaning anything), names and hex in the
 * formats the channel language uses, integers in range. Each check answers a
 * Refusal (with the offending path, what it is and what it must be) or the
 * typed value; nothing here throws or hashes.
 */
import { refuse, shown } from "./errors.js";
import { encodingSuite, KNOWN_ENCODINGS, type EncodingSuite } from "./encoding.js";
import type { Refusal, Registration, RegisteredGroup, Resume, SnapshotSubmission, Upgrade } from "./types.js";

/** A channel name, as schemas/channel.schema.json defines it. */
export const CHANNEL_NAME = /^[a-z][a-z0-9-]{0,62}$/;
/** A group or cell name. */
export const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;
/** A validator name. */
export const VALIDATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const HEX64 = /^[0-9a-f]{64}$/;
export const HEX128 = /^[0-9a-f]{128}$/;

/** Most groups a registration may name, and most validators of one group. */
export const MAX_GROUPS = 64;
export const MAX_GROUP_VALIDATORS = 1_000;
/** Most cells one snapshot may list (each costs ~250 bytes, so the size limit is usually reached first). */
export const MAX_SNAPSHOT_CELLS = 10_000;

type Checked<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
const no = <T>(refusal: Refusal): Checked<T> => ({ ok: false, refusal });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
}

/** Exactly `keys` (in any order), else a refusal naming the missing or extra ones. */
function exactKeys(code: string, what: string, v: Record<string, unknown>, keys: readonly string[], remedy: string): Refusal | undefined {
  const have = Object.keys(v);
  if (have.length === keys.length) {
    let all = true;
    for (let i = 0; i < keys.length && all; i++) all = Object.prototype.hasOwnProperty.call(v, keys[i]);
    if (all) return undefined;
  }
  const extra = have.filter((k) => !keys.includes(k));
  const missing = keys.filter((k) => !Object.prototype.hasOwnProperty.call(v, k));
  if (extra.length === 0 && missing.length === 0) return undefined;
  const parts = [missing.length > 0 ? `lacks ${missing.join(", ")}` : "", extra.length > 0 ? `has unknown field${extra.length > 1 ? "s" : ""} ${extra.slice(0, 5).map((k) => shown(k, 40)).join(", ")}${extra.length > 5 ? ", …" : ""}` : ""].filter(Boolean);
  return refuse(code, `${what} ${parts.join(" and ")}`, remedy, have.slice(0, 20), [...keys]);
}

function isInt(v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= min && v <= max;
}

const SNAPSHOT_KEYS = ["type", "encoding", "channel", "definitionHash", "height", "prevHash", "cells", "token"] as const;
const SUBMISSION_KEYS = ["snapshot", "hash", "certificate"] as const;
const CERTIFICATE_KEYS = ["channel", "cell", "height", "round", "valueId", "signatures"] as const;

/** The encoding a record names, or L0_ENCODING. */
export function checkEncoding(encoding: unknown): Checked<EncodingSuite> {
  const suite = encodingSuite(encoding);
  if (suite !== undefined) return ok(suite);
  return no(
    refuse(
      "L0_ENCODING",
      `the encoding ${shown(encoding, 60)} is not one this L0 knows; it knows ${KNOWN_ENCODINGS.map((e) => JSON.stringify(e)).join(", ")}`,
      `encode the record with one of ${KNOWN_ENCODINGS.join(", ")} and send it again (an L0 never guesses an encoding: a wrong guess would hash the record differently)`,
      typeof encoding === "string" ? encoding.slice(0, 80) : null,
      [...KNOWN_ENCODINGS],
    ),
  );
}

const SNAPSHOT_REMEDY = "send { snapshot, hash, certificate } with the snapshot exactly as docs/l0.md, \"Snapshot\", defines it";

function badSnapshot(message: string, actual: unknown = null, required: unknown = null): Checked<never> {
  return no(refuse("L0_BAD_SNAPSHOT", message, SNAPSHOT_REMEDY, actual === undefined ? null : (shown(actual, 80) as string), required as string | null));
}

/**
 * A submission's envelope, encoding and snapshot (not its certificate, which
 * is checked against the group: acceptance.ts).
 */
export function checkSubmissionShape(body: unknown): Checked<{ submission: SnapshotSubmission; suite: EncodingSuite }> {
  if (!isObject(body)) return badSnapshot("a submission is a JSON object { snapshot, hash, certificate }", body, "an object");
  const env = exactKeys("L0_BAD_SNAPSHOT", "the submission", body, SUBMISSION_KEYS, SNAPSHOT_REMEDY);
  if (env) return no(env);
  const s = body.snapshot;
  if (!isObject(s)) return badSnapshot("snapshot is a JSON object", s, "an object");
  const enc = checkEncoding(s.encoding);
  if (!enc.ok) return enc;
  const keys = exactKeys("L0_BAD_SNAPSHOT", "the snapshot", s, SNAPSHOT_KEYS, SNAPSHOT_REMEDY);
  if (keys) return no(keys);
  if (s.type !== "snapshot") return badSnapshot(`snapshot.type is ${shown(s.type)}; it is "snapshot"`, s.type, "snapshot");
  if (typeof s.channel !== "string" || !CHANNEL_NAME.test(s.channel)) return badSnapshot(`snapshot.channel ${shown(s.channel)} is not a channel name (lowercase letters, digits and dashes)`, s.channel, CHANNEL_NAME.source);
  if (typeof s.definitionHash !== "string" || !HEX64.test(s.definitionHash)) return badSnapshot(`snapshot.definitionHash ${shown(s.definitionHash)} is not 64 lowercase hex`, s.definitionHash, "64 lowercase hex");
  if (!isInt(s.height, 1)) return badSnapshot(`snapshot.height ${shown(s.height)} is not a whole number of 1 or more`, s.height, "1, 2, ...");
  if (typeof s.prevHash !== "string" || !HEX64.test(s.prevHash)) return badSnapshot(`snapshot.prevHash ${shown(s.prevHash)} is not 64 lowercase hex`, s.prevHash, "64 lowercase hex");
  if (!isObject(s.cells)) return badSnapshot("snapshot.cells is an object { CELL: { height, hash, stateRoot } }", s.cells, "an object");
  let n = 0;
  for (const name in s.cells) {
    if (!Object.prototype.hasOwnProperty.call(s.cells, name)) continue;
    if (++n > MAX_SNAPSHOT_CELLS) return badSnapshot(`snapshot.cells lists more than ${MAX_SNAPSHOT_CELLS} cells`, n, MAX_SNAPSHOT_CELLS);
    if (!NAME.test(name)) return badSnapshot(`snapshot.cells has the key ${shown(name, 40)}, which is not a cell name`, name, NAME.source);
    const c = s.cells[name];
    if (!isObject(c)) return badSnapshot(`snapshot.cells.${name} is { height, hash, stateRoot }`, c, "an object");
    const ck = exactKeys("L0_BAD_SNAPSHOT", `snapshot.cells.${name}`, c, ["height", "hash", "stateRoot"], SNAPSHOT_REMEDY);
    if (ck) return no(ck);
    if (!isInt(c.height, 0)) return badSnapshot(`snapshot.cells.${name}.height ${shown(c.height)} is not a whole number of 0 or more`, c.height, "0, 1, 2, ...");
    if (typeof c.hash !== "string" || !HEX64.test(c.hash)) return badSnapshot(`snapshot.cells.${name}.hash ${shown(c.hash)} is not 64 lowercase hex`, c.hash, "64 lowercase hex");
    if (typeof c.stateRoot !== "string" || !HEX64.test(c.stateRoot)) return badSnapshot(`snapshot.cells.${name}.stateRoot ${shown(c.stateRoot)} is not 64 lowercase hex`, c.stateRoot, "64 lowercase hex");
  }
  if (s.token !== null) {
    if (!isObject(s.token)) return badSnapshot("snapshot.token is null or { stateRoot }", s.token, "null or { stateRoot }");
    const tk = exactKeys("L0_BAD_SNAPSHOT", "snapshot.token", s.token, ["stateRoot"], SNAPSHOT_REMEDY);
    if (tk) return no(tk);
    if (typeof s.token.stateRoot !== "string" || !HEX64.test(s.token.stateRoot)) return badSnapshot(`snapshot.token.stateRoot ${shown(s.token.stateRoot)} is not 64 lowercase hex`, s.token.stateRoot, "64 lowercase hex");
  }
  if (typeof body.hash !== "string" || !HEX64.test(body.hash)) return badSnapshot(`hash ${shown(body.hash)} is not 64 lowercase hex`, body.hash, "64 lowercase hex");
  return ok({ submission: body as unknown as SnapshotSubmission, suite: enc.value });
}

/** A certificate's own shape (its target and signatures are checked against the group later). */
export function checkCertificateShape(c: unknown): Refusal | undefined {
  const remedy = "send the snapshot group's commit certificate unchanged: { channel, cell, height, round, valueId, signatures: [{ validator, signature }] }";
  if (!isObject(c)) return refuse("L0_CERTIFICATE", "the certificate is not an object", remedy, shown(c), "an object");
  const k = exactKeys("L0_CERTIFICATE", "the certificate", c, CERTIFICATE_KEYS, remedy);
  if (k) return k;
  if (!isInt(c.height, 1) || !isInt(c.round, 0) || typeof c.channel !== "string" || typeof c.cell !== "string" || typeof c.valueId !== "string" || !Array.isArray(c.signatures)) {
    return refuse("L0_CERTIFICATE", "the certificate's channel and cell are text, height a whole number of 1 or more, round of 0 or more, valueId text and signatures a list", remedy, null, null);
  }
  for (const s of c.signatures as unknown[]) {
    if (!isObject(s) || Object.keys(s).length !== 2 || typeof s.validator !== "string" || !HEX64.test(s.validator) || typeof s.signature !== "string" || !HEX128.test(s.signature)) {
      return refuse("L0_CERTIFICATE", "each certificate signature is { validator: 64 hex, signature: 128 hex }", remedy, shown(s), "{ validator, signature }");
    }
  }
  return undefined;
}

const RECORD_REMEDY = "send { record, signatures: [{ key, signature }] } with the record exactly as docs/l0.md defines it";

function badRecord<T>(message: string, actual: unknown = null, required: unknown = null): Checked<T> {
  return no(refuse("L0_BAD_RECORD", message, RECORD_REMEDY, actual === null || actual === undefined ? null : shown(actual, 80), (required ?? null) as string | null));
}

/** The `{ record, signatures }` envelope of a governance record: the record is checked by its kind's check. */
export function checkSignedEnvelope(body: unknown, type: "registration" | "upgrade" | "resume"): Checked<{ record: Record<string, unknown>; signatures: Array<{ key: string; signature: string }>; suite: EncodingSuite }> {
  if (!isObject(body)) return badRecord(`a ${type} is sent as an object { record, signatures }`, body, "an object");
  const k = exactKeys("L0_BAD_RECORD", `the ${type}`, body, ["record", "signatures"], RECORD_REMEDY);
  if (k) return no(k);
  const r = body.record;
  if (!isObject(r)) return badRecord(`record is an object`, r, "an object");
  const enc = checkEncoding(r.encoding);
  if (!enc.ok) return enc;
  if (r.type !== type) return badRecord(`record.type is ${shown(r.type)}; this endpoint takes "${type}"`, r.type, type);
  if (typeof r.channel !== "string" || !CHANNEL_NAME.test(r.channel)) return badRecord(`record.channel ${shown(r.channel)} is not a channel name (lowercase letters, digits and dashes)`, r.channel, CHANNEL_NAME.source);
  if (!Array.isArray(body.signatures) || body.signatures.length === 0) return badRecord("signatures is a non-empty list of { key, signature }", body.signatures, "a list");
  if (body.signatures.length > MAX_GROUP_VALIDATORS) return no(refuse("L0_DUPLICATE_SIGNER", `${body.signatures.length} signatures: more than any group has validators (${MAX_GROUP_VALIDATORS})`, "send each validator's signature once", body.signatures.length, MAX_GROUP_VALIDATORS));
  for (const s of body.signatures as unknown[]) {
    if (!isObject(s) || Object.keys(s).length !== 2 || typeof s.key !== "string" || !HEX64.test(s.key) || typeof s.signature !== "string" || !HEX128.test(s.signature)) {
      return badRecord("each signature is { key: 64 hex, signature: 128 hex }", s, "{ key, signature }");
    }
  }
  return ok({ record: r, signatures: body.signatures as Array<{ key: string; signature: string }>, suite: enc.value });
}

function checkGroup(name: string, g: unknown): Checked<RegisteredGroup> {
  if (!isObject(g)) return badRecord(`group "${name}" is { validators: [{ name, key }], threshold }`, g, "an object");
  const k = exactKeys("L0_BAD_RECORD", `group "${name}"`, g, ["validators", "threshold"], RECORD_REMEDY);
  if (k) return no(k);
  if (!Array.isArray(g.validators) || g.validators.length === 0) return badRecord(`group "${name}" lists no validators`, g.validators, "a non-empty list");
  if (g.validators.length > MAX_GROUP_VALIDATORS) return badRecord(`group "${name}" lists ${g.validators.length} validators; at most ${MAX_GROUP_VALIDATORS}`, g.validators.length, MAX_GROUP_VALIDATORS);
  const names = new Set<string>();
  const keys = new Set<string>();
  for (const v of g.validators as unknown[]) {
    if (!isObject(v) || Object.keys(v).length !== 2 || typeof v.name !== "string" || !VALIDATOR_NAME.test(v.name) || typeof v.key !== "string" || !HEX64.test(v.key)) {
      return badRecord(`each validator of group "${name}" is { name, key: 64 lowercase hex }`, v, "{ name, key }");
    }
    if (names.has(v.name)) return badRecord(`group "${name}" lists validator "${v.name}" twice`, v.name, "each validator once");
    if (keys.has(v.key)) return no(refuse("L0_DUPLICATE_SIGNER", `two validators of group "${name}" share the key ${v.key.slice(0, 12)}…: one machine would count twice`, "give every validator its own key", v.key, "distinct keys"));
    names.add(v.name);
    keys.add(v.key);
  }
  const n = names.size;
  const q = g.threshold;
  if (!isInt(q, 1) || q > n || 3 * q <= 2 * n) {
    const min = Math.floor((2 * n) / 3) + 1;
    return no(
      refuse(
        "L0_UNSAFE_THRESHOLD",
        `group "${name}": a threshold of ${shown(q)} of ${n} is not safe (two quorums must share a correct validator: 3q > 2n and q <= n)`,
        `register a threshold from ${min} to ${n} (the channel file's "2/3" is ${min} of ${n})`,
        typeof q === "number" ? q : null,
        { min, max: n },
      ),
    );
  }
  return ok(g as unknown as RegisteredGroup);
}

const REGISTRATION_KEYS = ["type", "encoding", "channel", "version", "definitionHash", "groups", "snapshotGroup", "token", "prev"] as const;

/** A registration record's fields (type, encoding and channel are checked by checkSignedEnvelope). */
export function checkRegistrationShape(r: Record<string, unknown>): Checked<Registration> {
  const k = exactKeys("L0_BAD_RECORD", "the registration", r, REGISTRATION_KEYS, RECORD_REMEDY);
  if (k) return no(k);
  if (!isInt(r.version, 1)) return badRecord(`version ${shown(r.version)} is not a whole number of 1 or more`, r.version, "1, 2, ...");
  if (typeof r.definitionHash !== "string" || !HEX64.test(r.definitionHash)) return badRecord(`definitionHash ${shown(r.definitionHash)} is not 64 lowercase hex (the channel plan's hash)`, r.definitionHash, "64 lowercase hex");
  if (!isObject(r.groups)) return badRecord("groups is an object { NAME: { validators, threshold } }", r.groups, "an object");
  const names = Object.keys(r.groups);
  if (names.length === 0 || names.length > MAX_GROUPS) return badRecord(`groups has ${names.length} groups; from 1 to ${MAX_GROUPS}`, names.length, { min: 1, max: MAX_GROUPS });
  const keyOf = new Map<string, string>();
  for (const name of names) {
    if (!NAME.test(name)) return badRecord(`${shown(name, 40)} is not a group name`, name, NAME.source);
    const g = checkGroup(name, r.groups[name]);
    if (!g.ok) return g;
    for (const v of g.value.validators) {
      const known = keyOf.get(v.name);
      if (known !== undefined && known !== v.key) return badRecord(`validator "${v.name}" has two keys in two groups`, v.name, "one key per validator name");
      keyOf.set(v.name, v.key);
    }
  }
  if (typeof r.snapshotGroup !== "string" || !Object.prototype.hasOwnProperty.call(r.groups, r.snapshotGroup)) {
    return badRecord(`snapshotGroup ${shown(r.snapshotGroup)} is not one of the registered groups (${names.slice(0, 10).join(", ")})`, r.snapshotGroup, names.slice(0, 10));
  }
  if (r.token !== null && !isObject(r.token)) return badRecord("token is null or the token's genesis as an object", r.token, "null or an object");
  if (r.version === 1 ? r.prev !== null : typeof r.prev !== "string" || !HEX64.test(r.prev)) {
    return no(
      refuse(
        "L0_REGISTRATION_PREV",
        r.version === 1 ? `version 1 has prev ${shown(r.prev)}; the first registration has prev: null` : `version ${String(r.version)} has prev ${shown(r.prev)}; a later version names the hash of the version before it`,
        r.version === 1 ? "write prev: null" : "write prev: the hash L0 answered for the previous version (GET /v1/channels/{channel})",
        typeof r.prev === "string" ? r.prev.slice(0, 64) : null,
        r.version === 1 ? null : "64 lowercase hex",
      ),
    );
  }
  return ok(r as unknown as Registration);
}

const UPGRADE_KEYS = ["type", "encoding", "channel", "registration", "fromDefinitionHash", "toDefinitionHash", "atHeight"] as const;

/** An upgrade record's fields. */
export function checkUpgradeShape(r: Record<string, unknown>): Checked<Upgrade> {
  const k = exactKeys("L0_BAD_RECORD", "the upgrade", r, UPGRADE_KEYS, RECORD_REMEDY);
  if (k) return no(k);
  if (!isInt(r.registration, 1)) return badRecord(`registration ${shown(r.registration)} is not a version number`, r.registration, "1, 2, ...");
  for (const f of ["fromDefinitionHash", "toDefinitionHash"] as const) {
    if (typeof r[f] !== "string" || !HEX64.test(r[f] as string)) return badRecord(`${f} ${shown(r[f])} is not 64 lowercase hex`, r[f], "64 lowercase hex");
  }
  if (!isInt(r.atHeight, 1)) return badRecord(`atHeight ${shown(r.atHeight)} is not a snapshot height (1, 2, ...)`, r.atHeight, "1, 2, ...");
  return ok(r as unknown as Upgrade);
}

const RESUME_KEYS = ["type", "encoding", "channel", "registration", "freeze", "height", "hash"] as const;

/** A resume record's fields. */
export function checkResumeShape(r: Record<string, unknown>): Checked<Resume> {
  const k = exactKeys("L0_BAD_RECORD", "the resume record", r, RESUME_KEYS, RECORD_REMEDY);
  if (k) return no(k);
  if (!isInt(r.registration, 1)) return badRecord(`registration ${shown(r.registration)} is not a version number`, r.registration, "1, 2, ...");
  if (!isInt(r.freeze, 1)) return badRecord(`freeze ${shown(r.freeze)} is not a freeze number (1, 2, ...)`, r.freeze, "1, 2, ...");
  if (!isInt(r.height, 1)) return badRecord(`height ${shown(r.height)} is not a snapshot height`, r.height, "1, 2, ...");
  if (typeof r.hash !== "string" || !HEX64.test(r.hash)) return badRecord(`hash ${shown(r.hash)} is not 64 lowercase hex`, r.hash, "64 lowercase hex");
  return ok(r as unknown as Resume);
}

export type { Checked };
