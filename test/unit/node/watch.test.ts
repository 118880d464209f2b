/** --watch: a folder of channel files followed by polls (a file is acted on once it held still for one poll). */
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AdminOutcome, ChannelAdmin } from "../../../runtime/node/channel-admin.js";
import { silentLogger } from "../../../runtime/node/log.js";
import { watchFolder, type FolderWatch } from "../../../runtime/node/watch.js";

let dir: string;
let w: FolderWatch | undefined;
afterEach(() => {
  w?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function recorder(hosted: Set<string>): { admin: ChannelAdmin; calls: string[] } {
  const calls: string[] = [];
  const nameOf = (file: string) => file.split("/").pop()!.replace(/\.ya?ml$/, "");
  const ok = (channel: string): AdminOutcome => ({ ok: true, status: 200, channel, version: 1, hash: "h" });
  const admin: ChannelAdmin = {
    add(file) {
      calls.push(`add ${nameOf(file)}`);
      if (nameOf(file) === "broken") return { ok: false, status: 422, code: "NODE_CHANNEL_INVALID", message: "no", remedy: "fix" };
      if (hosted.has(nameOf(file))) return { ok: false, status: 409, code: "NODE_CHANNEL_EXISTS", message: "exists", remedy: "upgrade" };
      hosted.add(nameOf(file));
      return ok(nameOf(file));
    },
    upgrade(channel, file) {
      calls.push(`upgrade ${channel ?? "?"} ${nameOf(file)}`);
      return ok(nameOf(file));
    },
    remove(channel) {
      calls.push(`remove ${channel}`);
      hosted.delete(channel);
      return ok(channel);
    },
  };
  return { admin, calls };
}

describe("watchFolder", () => {
  it("adds new files, upgrades changed ones, removes deleted ones, and leaves tests and half-written files alone", () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-watch-"));
    const hosted = new Set<string>(["meters"]);
    const { admin, calls } = recorder(hosted);
    writeFileSync(join(dir, "poll.yaml"), "channel: poll\n");
    writeFileSync(join(dir, "poll.test.yaml"), "tests: []\n");
    writeFileSync(join(dir, "meters.yaml"), "channel: meters\n");
    writeFileSync(join(dir, "notes.txt"), "not a channel\n");
    w = watchFolder(dir, admin, () => [...hosted], silentLogger, 60_000);
    w.poll();
    expect(calls).toEqual([]); // seen once: not yet still
    w.poll();
    // meters is hosted already (from the node file): followed as an upgrade.
    expect(calls.sort()).toEqual(["add meters", "add poll", "upgrade ? meters"]);
    calls.length = 0;
    w.poll();
    expect(calls).toEqual([]);
    writeFileSync(join(dir, "poll.yaml"), "channel: poll\nversion: 2\n");
    utimesSync(join(dir, "poll.yaml"), new Date(), new Date(Date.now() + 5000));
    w.poll();
    expect(calls).toEqual([]);
    w.poll();
    expect(calls).toEqual(["upgrade poll poll"]);
    calls.length = 0;
    unlinkSync(join(dir, "poll.yaml"));
    w.poll();
    expect(calls).toEqual(["remove poll"]);
    calls.length = 0;
    writeFileSync(join(dir, "broken.yaml"), "channel: [\n");
    w.poll();
    w.poll();
    expect(calls).toEqual(["add broken"]);
    w.poll();
    expect(calls).toEqual(["add broken"]); // refused once; tried again only when the file changes
  });
});
