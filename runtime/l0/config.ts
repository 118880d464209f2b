/**
 * l0.yaml (schemas/l0.schema.json) and L0's identity key file. Configuration
 * says how the process runs; what channels exist is never configured (it is
 * in the ledger, registered by the channels' own validators), and no key is
 * hard-coded per environment.
 */
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { bytesToHex, hexToBytes } from "../core/hash.js";
import { keyPairFromSeed, type KeyPair } from "../core/keys.js";
import { l0Error } from "./errors.js";

/** A loaded l0.yaml, paths made absolute. */
export interface L0Config {
  mode: "embedded";
  identity: string;
  listen: { host: string; port: number };
  dataDir: string;
  cutEveryMs: number;
  limits: { maxSnapshotBytes?: number; maxRecordBytes?: number; maxBodyBytes?: number; maxPerGlobal?: number };
}

let validate: ReturnType<Ajv["compile"]> | undefined;

/**
 * Parses and checks l0.yaml; relative paths are taken from `file`'s folder.
 * @throws StatecellError L0_CONFIG naming the key that is wrong
 */
export function loadL0Config(text: string, file: string): L0Config {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw l0Error("L0_CONFIG", `${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`, "fix the YAML at the line the message names", { file }, e);
  }
  validate ??= new Ajv({ strict: true, allErrors: false, useDefaults: true }).compile(JSON.parse(readFileSync(new URL("../../schemas/l0.schema.json", import.meta.url), "utf8")) as object);
  if (!validate(doc)) {
    const e = validate.errors![0];
    const where = e.instancePath === "" ? "the file" : e.instancePath.slice(1).replace(/\//g, ".");
    const extra = e.keyword === "additionalProperties" ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : "";
    throw l0Error("L0_CONFIG", `${file}: ${where} ${e.message ?? e.keyword}${extra}`, "write the key as schemas/l0.schema.json describes it (docs/l0.md, \"Running L0\")", { file, path: e.instancePath });
  }
  const d = doc as { mode?: "embedded"; identity: string; listen: string; dataDir: string; cutEveryMs?: number; limits?: L0Config["limits"] };
  const m = /^(?:\[([^\]]+)\]|([^:]+)):([0-9]+)$/.exec(d.listen)!;
  const port = Number(m[3]);
  if (port > 65_535) throw l0Error("L0_CONFIG", `${file}: listen port ${port} is above 65535`, "give a port from 0 to 65535", { file });
  const base = dirname(resolve(file));
  return { mode: d.mode ?? "embedded", identity: resolve(base, d.identity), listen: { host: m[1] ?? m[2], port }, dataDir: resolve(base, d.dataDir), cutEveryMs: d.cutEveryMs ?? 5_000, limits: d.limits ?? {} };
}

/**
 * Reads L0's identity key file, creating it with a fresh key (mode 0600)
 * when it does not exist.
 * @throws StatecellError L0_KEY_FILE when it cannot be read, written or is not a key file
 */
export function loadKeyFile(path: string): { key: KeyPair; created: boolean } {
  if (!existsSync(path)) {
    const seed = randomBytes(32);
    const key = keyPairFromSeed(seed);
    const text = `${JSON.stringify({ type: "ed25519", seed: bytesToHex(seed), publicKey: key.publicKey }, null, 2)}\n`;
    try {
      const fd = openSync(path, "wx", 0o600);
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      chmodSync(path, 0o600);
    } catch (e) {
      throw l0Error("L0_KEY_FILE", `L0's key file ${path} cannot be created: ${(e as Error).message}`, "give an identity path in a folder L0 may write", { path }, e);
    }
    return { key, created: true };
  }
  let k: { type?: unknown; seed?: unknown; publicKey?: unknown };
  try {
    k = JSON.parse(readFileSync(path, "utf8")) as typeof k;
  } catch (e) {
    throw l0Error("L0_KEY_FILE", `L0's key file ${path} cannot be read as JSON: ${(e as Error).message}`, "give the key file L0 created (JSON { type, seed, publicKey })", { path }, e);
  }
  if (k === null || typeof k !== "object" || k.type !== "ed25519" || typeof k.seed !== "string" || !/^[0-9a-f]{64}$/.test(k.seed)) {
    throw l0Error("L0_KEY_FILE", `L0's key file ${path} is not { type: "ed25519", seed: 64 hex, publicKey: 64 hex }`, "give the key file L0 created", { path });
  }
  const key = keyPairFromSeed(hexToBytes(k.seed));
  if (k.publicKey !== undefined && k.publicKey !== key.publicKey) {
    throw l0Error("L0_KEY_FILE", `L0's key file ${path} names the public key ${String(k.publicKey).slice(0, 12)}…, but its seed gives ${key.publicKey.slice(0, 12)}…`, "restore the key file from its backup: it was edited", { path });
  }
  return { key, created: false };
}
