/**
 * l0.yaml and the identity key file: defaults, relative paths, every key
 * checked against schemas/l0.schema.json, a key file created once and then
 * read back to the same key.
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadKeyFile, loadL0Config } from "../../../runtime/l0/index.js";
import { tempDir } from "./helpers.js";

let t: ReturnType<typeof tempDir>;
beforeEach(() => {
  t = tempDir();
});
afterEach(() => t.cleanup());

describe("l0.yaml", () => {
  it("fills defaults and resolves paths against the file's folder", () => {
    const c = loadL0Config("identity: l0.key\nlisten: 127.0.0.1:7400\ndataDir: data\n", join(t.dir, "l0.yaml"));
    expect(c).toEqual({ mode: "embedded", identity: join(t.dir, "l0.key"), listen: { host: "127.0.0.1", port: 7400 }, dataDir: join(t.dir, "data"), cutEveryMs: 5_000, limits: {} });
    expect(loadL0Config("identity: k\nlisten: '[::1]:0'\ndataDir: d\ncutEveryMs: 50\nlimits: { maxSnapshotBytes: 4096 }\n", "/x/l0.yaml")).toMatchObject({ listen: { host: "::1", port: 0 }, cutEveryMs: 50, limits: { maxSnapshotBytes: 4096 } });
  });

  it("refuses unknown keys, missing keys, bad values and bad YAML with L0_CONFIG", () => {
    const bad = (text: string) => {
      try {
        loadL0Config(text, "l0.yaml");
      } catch (e) {
        return (e as { code: string; message: string });
      }
      return undefined;
    };
    expect(bad("identity: k\nlisten: 1.2.3.4:1\ndataDir: d\nallowList: [abc]\n")).toMatchObject({ code: "L0_CONFIG", message: expect.stringContaining("allowList") });
    expect(bad("listen: 1.2.3.4:1\ndataDir: d\n")).toMatchObject({ code: "L0_CONFIG", message: expect.stringContaining("identity") });
    expect(bad("identity: k\nlisten: nowhere\ndataDir: d\n")).toMatchObject({ code: "L0_CONFIG", message: expect.stringContaining("listen") });
    expect(bad("identity: k\nlisten: h:70000\ndataDir: d\n")).toMatchObject({ code: "L0_CONFIG" });
    expect(bad("identity: k\nlisten: h:1\ndataDir: d\ncutEveryMs: 1\n")).toMatchObject({ code: "L0_CONFIG", message: expect.stringContaining("cutEveryMs") });
    expect(bad("identity: [\n")).toMatchObject({ code: "L0_CONFIG" });
    expect(bad("identity: k\nlisten: h:1\ndataDir: d\nmode: cluster\n")).toMatchObject({ code: "L0_CONFIG", message: expect.stringContaining("mode") });
  });
});

describe("the identity key file", () => {
  it("is created once with mode 0600 and read back to the same key", () => {
    const path = join(t.dir, "l0.key");
    const first = loadKeyFile(path);
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const second = loadKeyFile(path);
    expect(second).toMatchObject({ created: false, key: { publicKey: first.key.publicKey } });
    expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ type: "ed25519", publicKey: first.key.publicKey });
  });

  it("an edited or foreign key file is refused with L0_KEY_FILE", () => {
    const path = join(t.dir, "l0.key");
    const { key } = loadKeyFile(path);
    const k = JSON.parse(readFileSync(path, "utf8")) as Record<string, string>;
    writeFileSync(path, JSON.stringify({ ...k, publicKey: "00".repeat(32) }));
    expect(() => loadKeyFile(path)).toThrow(expect.objectContaining({ code: "L0_KEY_FILE" }));
    writeFileSync(path, "not json");
    expect(() => loadKeyFile(path)).toThrow(expect.objectContaining({ code: "L0_KEY_FILE" }));
    writeFileSync(path, JSON.stringify({ type: "rsa", seed: "x" }));
    expect(() => loadKeyFile(path)).toThrow(expect.objectContaining({ code: "L0_KEY_FILE" }));
    expect(key.publicKey).toMatch(/^[0-9a-f]{64}$/);
  });
});
