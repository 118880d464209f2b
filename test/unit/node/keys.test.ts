import * as realFs from "node:fs";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StatecellError } from "../../../runtime/core/errors.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { main } from "../../../runtime/cli/main.js";
import { createKeyFile, loadKeyFile } from "../../../runtime/node/config/index.js";

// Every fs call key-file.ts makes goes through these pass-through wrappers,
// so a test can see the flags and mode a file was created with, and what was
// on disk at the moment the file got its name.
const seen = vi.hoisted(() => ({ opens: [] as Array<{ path: string; flags: number; mode?: number }>, atLink: [] as Array<{ tmpMode: number; tmpSize: number; targetExisted: boolean }> }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const wrapped = {
    ...fs,
    openSync: (path: string, flags: number, mode?: number) => {
      seen.opens.push({ path: String(path), flags, mode });
      return fs.openSync(path, flags, mode);
    },
    linkSync: (from: string, to: string) => {
      const st = fs.statSync(from);
      seen.atLink.push({ tmpMode: st.mode & 0o777, tmpSize: st.size, targetExisted: fs.existsSync(to) });
      return fs.linkSync(from, to);
    },
  };
  return { ...wrapped, default: wrapped };
});

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "keys-"));
  seen.opens.length = 0;
  seen.atLink.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const seedOf = (file: string) => (JSON.parse(readFileSync(file, "utf8")) as { seed: string }).seed;

/** Everything an error shows anyone: message, remedy, payload, JSON, stack. */
function allTextOf(e: unknown): string {
  const err = e as StatecellError;
  return [err.message, err.remedy, JSON.stringify(err.payload), JSON.stringify(err), err.stack].join("\n");
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return (e as StatecellError).code;
  }
  return "no error";
}

describe("createKeyFile", () => {
  it("writes { publicKey, seed } with mode 0600, and loadKeyFile gives back the same identity", () => {
    const file = join(dir, "edge-1.key.json");
    const { publicKey } = createKeyFile(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(["publicKey", "seed"]);
    expect(json.publicKey).toBe(publicKey);
    expect(json.seed).toMatch(/^[0-9a-f]{64}$/);
    expect(loadKeyFile(file).publicKey).toBe(publicKey);
    expect(createKeyFile(join(dir, "other.json")).publicKey).not.toBe(publicKey);
  });

  it("creates the file exclusively with mode 0600 under a temporary name, and names it only once written: never readable by others, not for a moment", () => {
    const file = join(dir, "k.json");
    createKeyFile(file);
    const create = seen.opens.find((o) => o.flags & realFs.constants.O_CREAT);
    expect(create).toBeDefined();
    expect(create!.path).not.toBe(file);
    expect(create!.flags & realFs.constants.O_EXCL).toBeTruthy();
    expect(create!.mode).toBe(0o600);
    expect(seen.atLink).toEqual([{ tmpMode: 0o600, tmpSize: statSync(file).size, targetExisted: false }]);
    expect(readdirSync(dir)).toEqual(["k.json"]);
  });

  it("is 0600 whatever the umask (0, or one that would make it 0400)", () => {
    const old = process.umask(0);
    try {
      createKeyFile(join(dir, "a.json"));
      process.umask(0o277);
      createKeyFile(join(dir, "b.json"));
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, "a.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "b.json")).mode & 0o777).toBe(0o600);
  });

  it("refuses to overwrite an existing file (NODE_KEY_EXISTS), leaving it and nothing else behind", () => {
    const file = join(dir, "k.json");
    writeFileSync(file, "precious");
    chmodSync(file, 0o640);
    expect(codeOf(() => createKeyFile(file))).toBe("NODE_KEY_EXISTS");
    expect(readFileSync(file, "utf8")).toBe("precious");
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(["k.json"]);
  });

  it("a missing folder is NODE_KEY_WRITE_FAILED with the system's code", () => {
    let err: unknown;
    try {
      createKeyFile(join(dir, "no", "such", "k.json"));
    } catch (e) {
      err = e;
    }
    expect((err as StatecellError).code).toBe("NODE_KEY_WRITE_FAILED");
    expect((err as StatecellError).message).toContain("ENOENT");
  });
});

describe("loadKeyFile", () => {
  it("refuses a key file its group or others may read or write, with chmod 600 as the remedy", () => {
    const file = join(dir, "k.json");
    createKeyFile(file);
    for (const mode of [0o644, 0o640, 0o604, 0o620, 0o602, 0o660]) {
      chmodSync(file, mode);
      let err: unknown;
      try {
        loadKeyFile(file);
      } catch (e) {
        err = e;
      }
      expect((err as StatecellError).code).toBe("NODE_KEY_PERMISSIONS");
      expect((err as StatecellError).message).toContain(`mode 0${mode.toString(8)}`);
      expect((err as StatecellError).remedy).toBe(`make it readable by its owner only: chmod 600 ${file}`);
    }
    chmodSync(file, 0o400);
    expect(loadKeyFile(file).publicKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it("never shows the seed: malformed files are NODE_KEY_MALFORMED with messages that hold none of their content", () => {
    const file = join(dir, "k.json");
    createKeyFile(file);
    const seed = seedOf(file);
    const publicKey = (JSON.parse(readFileSync(file, "utf8")) as { publicKey: string }).publicKey;
    const other = keyPairFromName("someone-else").publicKey;
    const variants = [
      `{"publicKey":"${publicKey}","seed":"${seed}"`, // truncated JSON: the parser would quote it
      `${seed}`,
      `{"publicKey":"${publicKey}","seed":"${seed}","note":"${seed}"}`,
      `{"publicKey":"${other}","seed":"${seed}"}`,
      `{"publicKey":"${publicKey}","seed":"${seed.toUpperCase()}"}`,
      `{"publicKey":"${publicKey}","seed":"${seed}x"}`,
      `[${JSON.stringify(seed)}]`,
      `{"${seed}":1,"seed":"${seed}"}`,
      `${" ".repeat(5000)}{"publicKey":"${publicKey}","seed":"${seed}"}`,
    ];
    for (const text of variants) {
      const f = join(dir, `v${variants.indexOf(text)}.json`);
      writeFileSync(f, text, { mode: 0o600 });
      let err: unknown;
      try {
        loadKeyFile(f);
      } catch (e) {
        err = e;
      }
      expect([text.slice(0, 20), (err as StatecellError | undefined)?.code]).toEqual([text.slice(0, 20), "NODE_KEY_MALFORMED"]);
      const shown = allTextOf(err);
      expect(shown).not.toContain(seed);
      expect(shown.toLowerCase()).not.toContain(seed.slice(0, 16));
    }
  });

  it("a missing file is NODE_KEY_NOT_FOUND; a folder is NODE_KEY_MALFORMED", () => {
    expect(codeOf(() => loadKeyFile(join(dir, "nope.json")))).toBe("NODE_KEY_NOT_FOUND");
    mkdirSync(join(dir, "folder"), { mode: 0o700 });
    expect(codeOf(() => loadKeyFile(join(dir, "folder")))).toBe("NODE_KEY_MALFORMED");
  });
});

describe("statecell keys new --out FILE", () => {
  it("prints only the public key; the seed is in the file and nowhere in the output", async () => {
    const file = join(dir, "edge-1.json");
    let out = "";
    const code = await main(["keys", "new", "--out", file], (s) => (out += s));
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(file, "utf8")) as { publicKey: string; seed: string };
    expect(out).toBe(`${json.publicKey}\n`);
    expect(out).not.toContain(json.seed);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses an existing file with exit 1 and shows none of its content", async () => {
    const file = join(dir, "edge-1.json");
    createKeyFile(file);
    const seed = seedOf(file);
    let out = "";
    expect(await main(["keys", "new", "--out", file], (s) => (out += s))).toBe(1);
    expect(out).toContain("NODE_KEY_EXISTS");
    expect(out).not.toContain(seed);
    expect(seedOf(file)).toBe(seed);
  });

  it("without --out, or with an extra argument, is wrong usage (exit 2) and writes nothing", async () => {
    let out = "";
    expect(await main(["keys", "new"], (s) => (out += s))).toBe(2);
    expect(out).toContain("--out FILE");
    expect(await main(["keys", "new", "--out", join(dir, "a"), "extra"], () => undefined)).toBe(2);
    expect(await main(["keys", "new", "--bogus"], () => undefined)).toBe(2);
    expect(existsSync(join(dir, "a"))).toBe(false);
    let help = "";
    expect(await main(["keys", "new", "--help"], (s) => (help += s))).toBe(0);
    expect(help).toContain("statecell keys new --out FILE");
  });

  it("`statecell keys NAME` still prints test keys", async () => {
    let out = "";
    expect(await main(["keys", "alice"], (s) => (out += s))).toBe(0);
    expect(out).toBe(`alice\t${keyPairFromName("alice").publicKey}\n`);
  });
});
