import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatProblem, type Problem } from "../../../runtime/core/errors.js";
import { keyPairFromName } from "../../../runtime/core/keys.js";
import { createKeyFile, loadNetwork, loadNodeConfig } from "../../../runtime/node/config/index.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "node-config-"));
  mkdirSync(join(dir, "keys"));
  mkdirSync(join(dir, "channels"));
  writeFileSync(join(dir, "channels", "air.yaml"), "channel: air\n");
  writeFileSync(join(dir, "channels", "poll.yaml"), "channel: poll\n");
  writeFileSync(join(dir, "network.yaml"), "network: test\nvalidators: {}\n");
  createKeyFile(join(dir, "keys", "edge-1.json"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string, mode = 0o644): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

const NODE = `# yaml-language-server: $schema=../schemas/node.schema.json
identity: keys/edge-1.json
listen:
  api: 127.0.0.1:8080
  peer: "0.0.0.0:26656"
network: network.yaml
channels:
  - channels/air.yaml
  - channels/poll.yaml
data: data/edge-1
`;

const codes = (ps: Problem[]) => ps.map((p) => p.code);
const at = (p: Problem) => `${p.location?.line}:${p.location?.col}`;

describe("loadNodeConfig", () => {
  it("loads node.yaml with paths resolved from the file's folder and addresses parsed", () => {
    const file = write("node.yaml", NODE);
    const { config, problems } = loadNodeConfig(file);
    expect(problems).toEqual([]);
    expect(config).toEqual({
      file,
      identity: join(dir, "keys", "edge-1.json"),
      listen: { api: { host: "127.0.0.1", port: 8080 }, peer: { host: "0.0.0.0", port: 26656 } },
      network: join(dir, "network.yaml"),
      channels: [join(dir, "channels", "air.yaml"), join(dir, "channels", "poll.yaml")],
      data: join(dir, "data", "edge-1"),
    });
  });

  it("reads the quotas per channel, and refuses out-of-range or misspelt ones at their line", () => {
    const quotas = "quotas:\n  default:\n    sandboxMemoryMb: 64\n    sandboxBlockTimeMs: 1500\n  channels:\n    poll:\n      ledgerBytes: 1048576\n";
    const { config, problems } = loadNodeConfig(write("node.yaml", NODE + quotas));
    expect(problems).toEqual([]);
    expect(config?.quotas).toEqual({ default: { sandboxMemoryMb: 64, sandboxBlockTimeMs: 1500 }, channels: { poll: { ledgerBytes: 1048576 } } });
    const bad = loadNodeConfig(write("node.yaml", NODE + quotas.replace("64", "4").replace("1048576", "10").replace("sandboxBlockTimeMs", "sandboxBlockTime")));
    expect(bad.config).toBeUndefined();
    expect(bad.problems.map((p) => `${p.code} ${at(p)}`)).toEqual(["NODE_CONFIG_BAD_VALUE 13:22", "NODE_CONFIG_UNKNOWN_KEY 14:5", "NODE_CONFIG_BAD_VALUE 17:20"]);
    expect(bad.problems[1].message).toContain('did you mean "sandboxBlockTimeMs"?');
  });

  it("reports a misspelt key at its line with a suggestion, and a missing key, like the channel loader", () => {
    const file = write("node.yaml", NODE.replace("channels:\n", "chanels:\n"));
    const { config, problems } = loadNodeConfig(file);
    expect(config).toBeUndefined();
    expect(codes(problems)).toEqual(["NODE_CONFIG_MISSING_KEY", "NODE_CONFIG_UNKNOWN_KEY"]);
    const typo = problems[1];
    expect(at(typo)).toBe("7:1");
    expect(typo.message).toBe('unknown key "chanels" in the file (did you mean "channels"?)');
    expect(typo.remedy).toBe('write "channels"');
    expect(typo.excerpt).toBe("7 | chanels:\n    ^^^^^^^");
    expect(formatProblem(typo)).toContain(`${file}:7:1: error NODE_CONFIG_UNKNOWN_KEY`);
  });

  it("YAML problems keep the loader's DEFINITION_* codes, at their place", () => {
    const file = write("node.yaml", `${NODE}data: again\n`);
    const { problems } = loadNodeConfig(file);
    expect(codes(problems)).toEqual(["DEFINITION_DUPLICATE_KEY"]);
    expect(at(problems[0])).toBe("11:1");
    const broken = write("broken.yaml", "identity: [unclosed\n");
    expect(codes(loadNodeConfig(broken).problems)[0]).toBe("DEFINITION_YAML_SYNTAX");
  });

  it("wrong types and bad addresses are located at the value", () => {
    const file = write("node.yaml", NODE.replace("127.0.0.1:8080", "127.0.0.1:99999").replace('"0.0.0.0:26656"', "26656"));
    const { problems } = loadNodeConfig(file);
    expect(problems.map((p) => [p.code, p.path, at(p)])).toEqual([["NODE_CONFIG_WRONG_TYPE", "listen.peer", "5:9"]]);
    const ranged = write("ranged.yaml", NODE.replace("127.0.0.1:8080", "127.0.0.1:99999"));
    const r = loadNodeConfig(ranged).problems;
    expect(r.map((p) => [p.code, p.path, at(p)])).toEqual([["NODE_CONFIG_BAD_VALUE", "listen.api", "4:8"]]);
    expect(r[0].message).toContain("the port 99999 is out of range; allowed: 0 to 65535");
    const v6 = write("v6.yaml", NODE.replace("127.0.0.1:8080", '"[::1]:8080"'));
    expect(loadNodeConfig(v6).config?.listen.api).toEqual({ host: "::1", port: 8080 });
  });

  it("files it names must exist: a missing key file, network file or channel file is reported at its line", () => {
    const file = write("node.yaml", NODE.replace("keys/edge-1.json", "keys/edge-9.json").replace("channels/poll.yaml", "channels/pol.yaml"));
    const { problems } = loadNodeConfig(file);
    expect(problems.map((p) => [p.code, p.path, at(p)])).toEqual([
      ["NODE_CONFIG_NOT_FOUND", "identity", "2:11"],
      ["NODE_CONFIG_NOT_FOUND", "channels[1]", "9:5"],
    ]);
    expect(problems[0].message).toContain(join(dir, "keys", "edge-9.json"));
  });

  it("a channel listed twice under two spellings, and api and peer on one address, are NODE_CONFIG_DUPLICATE", () => {
    const file = write("node.yaml", NODE.replace("  - channels/poll.yaml", "  - ./channels/../channels/air.yaml").replace('"0.0.0.0:26656"', "127.0.0.1:8080"));
    expect(loadNodeConfig(file).problems.map((p) => [p.code, p.path])).toEqual([
      ["NODE_CONFIG_DUPLICATE", "listen.peer"],
      ["NODE_CONFIG_DUPLICATE", "channels[1]"],
    ]);
  });

  it("an identity readable by others is NODE_KEY_PERMISSIONS with chmod 600 as the remedy", () => {
    chmodSync(join(dir, "keys", "edge-1.json"), 0o644);
    const { problems } = loadNodeConfig(write("node.yaml", NODE));
    expect(codes(problems)).toEqual(["NODE_KEY_PERMISSIONS"]);
    expect(problems[0].message).toContain("mode 0644");
    expect(problems[0].remedy).toBe(`chmod 600 ${join(dir, "keys", "edge-1.json")}`);
  });

  it("a token is kept, but never shown: not in messages, not in excerpts, whatever the problem", () => {
    const token = "Zq9-SECRET-TOKEN-0123456789abcdefghij";
    const ok = loadNodeConfig(write("node.yaml", `${NODE}token: ${token}\n`, 0o600));
    expect(ok.config?.token).toBe(token);
    const wide = loadNodeConfig(write("wide.yaml", `${NODE}token: ${token}\n`, 0o644));
    expect(codes(wide.problems)).toEqual(["NODE_CONFIG_PERMISSIONS"]);
    const short = loadNodeConfig(write("short.yaml", `${NODE}token: SECRETshort\n`, 0o600));
    expect(codes(short.problems)).toEqual(["NODE_CONFIG_BAD_VALUE"]);
    const typed = loadNodeConfig(write("typed.yaml", `${NODE}token: [${token}]\n`, 0o600));
    expect(codes(typed.problems)).toEqual(["NODE_CONFIG_WRONG_TYPE"]);
    const syntax = loadNodeConfig(write("syntax.yaml", `${NODE}token: "${token}\n`, 0o600));
    expect(codes(syntax.problems)[0]).toBe("DEFINITION_YAML_SYNTAX");
    for (const r of [wide, short, typed, syntax]) {
      const text = r.problems.map(formatProblem).join("\n");
      expect(text).not.toContain("SECRET");
    }
    expect(short.problems[0].excerpt).toContain("token: ***");
  });

  it("a missing file, a folder, a file over 1 MiB and a file that is not a mapping are reported at 1:1", () => {
    expect(codes(loadNodeConfig(join(dir, "nope.yaml")).problems)).toEqual(["NODE_CONFIG_NOT_FOUND"]);
    expect(codes(loadNodeConfig(dir).problems)).toEqual(["NODE_CONFIG_NOT_FOUND"]);
    expect(codes(loadNodeConfig(write("big.yaml", `# ${"x".repeat(1024 * 1024)}\n`)).problems)).toEqual(["NODE_CONFIG_TOO_LARGE"]);
    expect(codes(loadNodeConfig(write("list.yaml", "- a\n- b\n")).problems)).toEqual(["NODE_CONFIG_WRONG_TYPE"]);
  });

  it("an alias bomb is refused by the YAML stage before anything expands", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(", ")}]`);
    const t0 = performance.now();
    const { problems } = loadNodeConfig(write("bomb.yaml", `${bomb.join("\n")}\n`));
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(codes(problems)).toContain("DEFINITION_ALIAS_BOMB");
  });
});

const KEY1 = keyPairFromName("edge-1").publicKey;
const KEY2 = keyPairFromName("edge-2").publicKey;

describe("loadNetwork", () => {
  it("loads validators in file order, by name and by key", () => {
    const file = write(
      "network.yaml",
      `network: statecell-test\nvalidators:\n  edge-1: { key: ${KEY1}, peer: "ws://10.0.0.1:26656", api: "http://10.0.0.1:8080" }\n  edge-2:\n    key: ${KEY2}\n    peer: wss://edge-2.example:443/peer\n    description: second gateway\n`,
    );
    const { config, problems } = loadNetwork(file);
    expect(problems).toEqual([]);
    expect(config?.network).toBe("statecell-test");
    expect(config?.validators.map((v) => v.name)).toEqual(["edge-1", "edge-2"]);
    expect(config?.byName.get("edge-1")).toEqual({ name: "edge-1", key: KEY1, peer: "ws://10.0.0.1:26656", api: "http://10.0.0.1:8080" });
    expect(config?.byKey.get(KEY2)?.description).toBe("second gateway");
  });

  it("binds account names under keys: (a token genesis names them), refusing a validator's name and a bad key", () => {
    const KEY3 = keyPairFromName("treasury").publicKey;
    const ok = loadNetwork(write("network.yaml", `network: n\nvalidators:\n  edge-1: { key: ${KEY1}, peer: "ws://h:1" }\nkeys:\n  treasury: ${KEY3}\n`));
    expect(ok.problems).toEqual([]);
    expect(ok.config?.accounts.get("treasury")).toBe(KEY3);
    expect(ok.config?.byName.has("treasury")).toBe(false);
    const dup = loadNetwork(write("network.yaml", `network: n\nvalidators:\n  edge-1: { key: ${KEY1}, peer: "ws://h:1" }\nkeys:\n  edge-1: ${KEY3}\n`));
    expect(dup.config).toBeUndefined();
    expect(dup.problems.map((p) => [p.code, p.path])).toEqual([["NODE_CONFIG_DUPLICATE", "keys.edge-1"]]);
    const bad = loadNetwork(write("network.yaml", `network: n\nvalidators:\n  edge-1: { key: ${KEY1}, peer: "ws://h:1" }\nkeys:\n  treasury: ${KEY3.toUpperCase()}\n  "-x": ${KEY3}\n`));
    expect(bad.problems.map((p) => [p.code, p.path])).toEqual([["NODE_CONFIG_BAD_VALUE", "keys.treasury"], ["NODE_CONFIG_BAD_VALUE", "keys.-x"]]);
  });

  it("two validators with one key are refused at the second key", () => {
    const file = write("network.yaml", `network: n\nvalidators:\n  a: { key: ${KEY1}, peer: "ws://h:1" }\n  b: { key: ${KEY1}, peer: "ws://h:2" }\n`);
    const { config, problems } = loadNetwork(file);
    expect(config).toBeUndefined();
    expect(problems.map((p) => [p.code, p.path, p.message])).toEqual([["NODE_CONFIG_DUPLICATE", "validators.b.key", 'validators "a" and "b" have the same key']]);
  });

  it("bad names, keys, URLs and ids are located with remedies", () => {
    const file = write(
      "network.yaml",
      `network: "bad id!"\nvalidators:\n  -bad: { key: ${KEY1}, peer: "ws://h:1" }\n  ok: { key: ${KEY2.toUpperCase()}, peer: "http://h:1", port: 1 }\n`,
    );
    const ps = loadNetwork(file).problems;
    expect(ps.map((p) => [p.code, p.path])).toEqual([
      ["NODE_CONFIG_BAD_VALUE", "network"],
      ["NODE_CONFIG_BAD_VALUE", "validators.-bad"],
      ["NODE_CONFIG_BAD_VALUE", "validators.ok.key"],
      ["NODE_CONFIG_BAD_VALUE", "validators.ok.peer"],
      ["NODE_CONFIG_UNKNOWN_KEY", "validators.ok.port"],
    ]);
    for (const p of ps) expect(p.remedy).toBeTruthy();
    const urls = write("urls.yaml", `network: n\nvalidators:\n  a: { key: ${KEY1}, peer: "ws://user:pw@h:1" }\n  b: { key: ${KEY2}, peer: "ws://h:1/?q=1", api: "https://" }\n`);
    const u = loadNetwork(urls).problems;
    expect(u.map((p) => p.path)).toEqual(["validators.a.peer", "validators.b.peer", "validators.b.api"]);
    expect(u[0].message).not.toContain("pw");
  });
});
