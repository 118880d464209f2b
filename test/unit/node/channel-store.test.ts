/**
 * The admin API's channels remembered in the data folder: what a restart
 * hosts (the node file's less the removed, with the added at the higher
 * version), the definition restored from the text read when it was added,
 * and a damaged or foreign file read as empty without stopping the node.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CHANNEL_STORE_FILE, openChannelStore } from "../../../runtime/node/channel-store.js";
import { loadChannelFile } from "../../../runtime/node/channel-admin.js";
import type { Logger } from "../../../runtime/node/log.js";
import type { ChannelPlan } from "../../../runtime/definition/index.js";

const root = mkdtempSync(join(tmpdir(), "statecell-store-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => mkdtempSync(join(root, `d${n++}-`));

function recorder(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const l: Logger & { lines: string[] } = {
    lines,
    info: (m) => void lines.push(`info ${m}`),
    warn: (m) => void lines.push(`warn ${m}`),
    error: (m, f) => void lines.push(`error ${m} ${JSON.stringify(f ?? {})}`),
    child: () => l,
  };
  return l;
}

const yaml = (name: string, version: number, code = false) => `channel: ${name}
version: ${version}
groups:
  g:
    validators: [v]
    threshold: 1
cells:
  c:
    group: g
    accepts: { type: object }
${code ? "    code: ./hooks.js\n" : ""}`;

/** Writes and loads a channel file; its plan, path and the files the loader read. */
function channel(dir: string, name: string, version: number, code = false): { plan: ChannelPlan; path: string; sources: Map<string, string> } {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml(name, version, code));
  if (code) writeFileSync(join(dir, "hooks.js"), `export function validate(d) { return ${version} > 0; }\n`);
  const sources = new Map<string, string>();
  const r = loadChannelFile(file, sources);
  if (!("plan" in r)) throw new Error(r.problems.join("\n"));
  return { ...r, sources };
}

describe("the channel store", () => {
  it("starts with the node file's channels when nothing was remembered", () => {
    const dir = fresh();
    const a = channel(dir, "a", 1);
    const s = openChannelStore(join(dir, "data"), recorder());
    expect(s.plansAtStart([a.plan]).map((p) => p.channel)).toEqual(["a"]);
    expect(existsSync(join(dir, "data", CHANNEL_STORE_FILE))).toBe(false);
  });

  it("restores an added channel from the text it was added with, even after its files changed or went", () => {
    const dir = fresh();
    const data = join(dir, "data");
    const x = channel(dir, "x", 2, true);
    openChannelStore(data, recorder()).saved(x.plan, x.path, x.sources);
    rmSync(x.path);
    writeFileSync(join(dir, "hooks.js"), "not javascript (");
    const log = recorder();
    const plans = openChannelStore(data, log).plansAtStart([]);
    expect(plans.map((p) => [p.channel, p.version, p.hash])).toEqual([["x", 2, x.plan.hash]]);
    expect(plans[0].cells.c.code?.source).toContain("return 2 > 0");
    expect(log.lines).toContain("info channel restored");
    // Written whole: no temporary file is left beside it.
    expect(readdirSync(data)).toEqual([CHANNEL_STORE_FILE]);
  });

  it("keeps a removed channel removed, the node file's too, until it is added again", () => {
    const dir = fresh();
    const data = join(dir, "data");
    const a = channel(dir, "a", 1);
    const b = channel(dir, "b", 1);
    const s = openChannelStore(data, recorder());
    s.saved(b.plan, b.path, b.sources);
    s.removed("a");
    s.removed("b");
    const log = recorder();
    expect(openChannelStore(data, log).plansAtStart([a.plan])).toEqual([]);
    expect(log.lines).toContain("info channel stays removed");
    openChannelStore(data, recorder()).saved(a.plan, a.path, a.sources);
    expect(openChannelStore(data, recorder()).plansAtStart([a.plan]).map((p) => p.channel)).toEqual(["a"]);
    const text = JSON.parse(readFileSync(join(data, CHANNEL_STORE_FILE), "utf8")) as { removed: string[]; channels: Record<string, unknown> };
    expect(text.removed).toEqual(["b"]);
    expect(Object.keys(text.channels)).toEqual(["a"]);
  });

  it("hosts the higher version of a channel both the node file and the store have (the node file's on a tie)", () => {
    const dir = fresh();
    const data = join(dir, "data");
    const up = channel(dir, "m", 3);
    openChannelStore(data, recorder()).saved(up.plan, up.path, up.sources);
    const listed = channel(dir, "m", 2);
    expect(openChannelStore(data, recorder()).plansAtStart([listed.plan]).map((p) => p.version)).toEqual([3]);
    const newer = channel(dir, "m", 4);
    expect(openChannelStore(data, recorder()).plansAtStart([newer.plan]).map((p) => p.version)).toEqual([4]);
    const tie = channel(fresh(), "m", 3);
    expect(openChannelStore(data, recorder()).plansAtStart([tie.plan])[0]).toBe(tie.plan);
  });

  it("reads a damaged, foreign or hostile file as empty, logs it, and still starts the node file's channels", () => {
    const cases: Array<[string, string[]]> = [
      ["{not json", ["a"]],
      [JSON.stringify({ format: "other" }), ["a"]],
      // An entry filed under another name than its own.
      [JSON.stringify({ format: "statecell-admin-channels/1", channels: { x: { channel: "y", file: "/f", sources: {} } }, removed: [] }), ["a"]],
      // A __proto__ key is an ordinary entry (here one whose text is missing), never a prototype; only names are kept from `removed`.
      ['{"format":"statecell-admin-channels/1","channels":{"__proto__":{"channel":"__proto__","file":"/f","sources":{}}},"removed":[1,{"a":1},"a"]}', []],
    ];
    for (const [text, hosted] of cases) {
      const dir = fresh();
      const data = join(dir, "data");
      const a = channel(dir, "a", 1);
      mkdirSync(data);
      writeFileSync(join(data, CHANNEL_STORE_FILE), text);
      const log = recorder();
      expect(openChannelStore(data, log).plansAtStart([a.plan]).map((p) => p.channel), text).toEqual(hosted);
      if (hosted.length > 0) expect(log.lines.some((l) => l.startsWith("error admin channels not read")), text).toBe(true);
      expect(Object.prototype).not.toHaveProperty("channel");
    }
  });

  it("leaves out a remembered channel whose text no longer loads, and starts the others", () => {
    const dir = fresh();
    const data = join(dir, "data");
    const x = channel(dir, "x", 1);
    const s = openChannelStore(data, recorder());
    s.saved(x.plan, x.path, x.sources);
    const path = join(data, CHANNEL_STORE_FILE);
    const stored = JSON.parse(readFileSync(path, "utf8")) as { channels: Record<string, { sources: Record<string, string> }> };
    stored.channels.x.sources[x.path] = "channel: [unclosed";
    writeFileSync(path, JSON.stringify(stored));
    const a = channel(dir, "a", 1);
    const log = recorder();
    expect(openChannelStore(data, log).plansAtStart([a.plan]).map((p) => p.channel)).toEqual(["a"]);
    expect(log.lines.some((l) => l.startsWith("error channel not restored") && l.includes("NODE_CHANNEL_INVALID"))).toBe(true);
  });

  it("refuses to remember a change it cannot write, with NODE_CHANNEL_NOT_STORED", () => {
    const dir = fresh();
    const x = channel(dir, "x", 1);
    writeFileSync(join(dir, "file"), "");
    // The data folder is a file: nothing can be written under it.
    const s = openChannelStore(join(dir, "file"), recorder());
    expect(() => s.saved(x.plan, x.path, x.sources)).toThrow(expect.objectContaining({ code: "NODE_CHANNEL_NOT_STORED" }));
  });
});
