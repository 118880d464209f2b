/**
 * A node's identity on disk: a key file, JSON `{ "publicKey", "seed" }`
 * (both 64 lowercase hex characters; the seed is the ed25519 private key).
 *
 * Writing: the file is made under a temporary name with O_CREAT|O_EXCL and
 * mode 0600 (the umask can only narrow it, and fchmod sets exactly 0600), so
 * it is never readable by anyone else, not even for a moment; it is written
 * and synced, then hard-linked to its name, which fails if the name exists:
 * an existing key is never overwritten, even by a racing writer, and the
 * name never shows a half-written file.
 *
 * Reading refuses a file that its group or others may read or write (as
 * ssh does for private keys), checked on the opened file itself.
 *
 * The seed never appears in an error message, a log or the output of a
 * command; errors name the file and what is wrong, never its content.
 */
import { randomBytes } from "node:crypto";
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, linkSync, openSync, readSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { StatecellError } from "../../core/errors.js";
import { bytesToHex, hexToBytes } from "../../core/hash.js";
import { keyPairFromSeed, type KeyPair } from "../../core/keys.js";

/** The largest key file read (a key file is about 160 bytes). */
const MAX_KEY_FILE_BYTES = 4096;
const HEX64 = /^[0-9a-f]{64}$/;

/** The mode bits that let anyone but the owner read, write or run the file. */
const NOT_OWNER = 0o077;

/**
 * Generates an ed25519 identity and writes it to a new key file at `path`
 * (mode 0600). Returns only the public key.
 * @throws StatecellError NODE_KEY_EXISTS when `path` exists; NODE_KEY_WRITE_FAILED when the file cannot be made.
 */
export function createKeyFile(path: string): { publicKey: string } {
  const seed = randomBytes(32);
  try {
    const { publicKey } = keyPairFromSeed(seed);
    const text = `${JSON.stringify({ publicKey, seed: bytesToHex(seed) }, null, 2)}\n`;
    writeNewFile(path, text);
    return { publicKey };
  } finally {
    seed.fill(0);
  }
}

/** Writes `text` to a new file `path` with mode 0600, atomically, never replacing a file. */
function writeNewFile(path: string, text: string): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  } catch (e) {
    throw writeFailed(path, e);
  }
  let linked = false;
  try {
    try {
      fchmodSync(fd, 0o600);
      const bytes = Buffer.from(text, "utf8");
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      bytes.fill(0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      linked = true;
    } catch (e) {
      if (errnoOf(e) === "EEXIST") throw exists(path);
      throw writeFailed(path, e);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Nothing to remove, or the folder went away: the key is either linked or not written.
    }
  }
  if (linked) syncFolder(dir);
}

/** Makes the new name durable (best effort: not every platform can sync a folder). */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, constants.O_RDONLY);
    fsyncSync(fd);
  } catch {
    // Windows cannot open a folder; the file itself was synced.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Reads the key file at `path`.
 * @throws StatecellError NODE_KEY_NOT_FOUND, NODE_KEY_PERMISSIONS (readable by group or others), NODE_KEY_MALFORMED.
 */
export function loadKeyFile(path: string): KeyPair {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (e) {
    throw new StatecellError("NODE_KEY_NOT_FOUND", `the key file ${path} cannot be opened (${errnoOf(e)})`, {
      remedy: "check `identity` in node.yaml, or make a key with `statecell keys new --out FILE`",
      payload: { file: path },
    });
  }
  let text: string;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw malformed(path, "it is not a regular file");
    const wide = keyFileModeProblem(st.mode);
    if (wide !== undefined) {
      throw new StatecellError("NODE_KEY_PERMISSIONS", `the key file ${path} has mode ${wide}: its group or others may read it`, {
        remedy: `make it readable by its owner only: chmod 600 ${shellQuote(path)}`,
        payload: { file: path, mode: wide },
      });
    }
    if (st.size > MAX_KEY_FILE_BYTES) throw malformed(path, `it is ${st.size} bytes; a key file is under ${MAX_KEY_FILE_BYTES}`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    text = buf.subarray(0, off).toString("utf8");
    buf.fill(0);
  } finally {
    closeSync(fd);
  }
  return keyFromText(path, text);
}

/** `0644` when `mode` lets group or others in (and the platform has such bits), else undefined. */
export function keyFileModeProblem(mode: number): string | undefined {
  if (process.platform === "win32") return undefined;
  if ((mode & NOT_OWNER) === 0) return undefined;
  return `0${(mode & 0o777).toString(8)}`;
}

function keyFromText(path: string, text: string): KeyPair {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch {
    // Never the parser's message: it quotes the text, which holds the seed.
    throw malformed(path, "it is not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw malformed(path, "it is not a JSON object");
  const obj = parsed as Record<string, unknown>;
  const keys = Object.keys(obj).sort();
  if (keys.length !== 2 || keys[0] !== "publicKey" || keys[1] !== "seed") {
    // Not even the names of the keys are shown: they are the file's content too.
    throw malformed(path, `it has ${keys.length} key${keys.length === 1 ? "" : "s"}, not exactly "publicKey" and "seed"`);
  }
  if (typeof obj.seed !== "string" || !HEX64.test(obj.seed)) throw malformed(path, '"seed" is not 64 lowercase hex characters');
  if (typeof obj.publicKey !== "string" || !HEX64.test(obj.publicKey)) throw malformed(path, '"publicKey" is not 64 lowercase hex characters');
  const seed = hexToBytes(obj.seed);
  try {
    const pair = keyPairFromSeed(seed);
    if (pair.publicKey !== obj.publicKey) throw malformed(path, '"publicKey" is not the public key of "seed" (the file was edited or mixed up)');
    return pair;
  } finally {
    seed.fill(0);
  }
}

function malformed(path: string, why: string): StatecellError {
  return new StatecellError("NODE_KEY_MALFORMED", `the key file ${path} is not a statecell key file: ${why}`, {
    remedy: "point `identity` at a file made by `statecell keys new --out FILE` (JSON with publicKey and seed)",
    payload: { file: path },
  });
}

function exists(path: string): StatecellError {
  return new StatecellError("NODE_KEY_EXISTS", `${path} exists; a key file is never overwritten`, {
    remedy: "choose another --out file, or move the old key away first if you really mean to replace it (its node loses its identity)",
    payload: { file: path },
  });
}

function writeFailed(path: string, e: unknown): StatecellError {
  return new StatecellError("NODE_KEY_WRITE_FAILED", `the key file ${path} cannot be written (${errnoOf(e)})`, {
    remedy: "check that its folder exists and that you may write there",
    payload: { file: path },
  });
}

function errnoOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" ? code : "error";
}

/** `path` quoted for a POSIX shell when it needs it. */
function shellQuote(path: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(path) ? path : `'${path.replace(/'/g, "'\\''")}'`;
}
