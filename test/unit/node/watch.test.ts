/** --watch: a folder of channel files followed by polls (a file is acted on once it held still for one poll). */
import { mkdtempSync, rmSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AdminOutcome, ChannelAdmin } from "../../../runtime/node/channel-admin.js";
import { silentLogger } from "../../../runtime/node/log.js";
import { WAIT_RETRY_MS, watchFolder, type FolderWatch } from "../../../runtime/node/watch.js";

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
    async upgrade(channel, file) {
      calls.push(`upgrade ${channel ?? "?"} ${nameOf(file)}`);
      if (nameOf(file) === "waiting") return { ok: false, status: 409, code: "NODE_UPGRADE_NOT_SCHEDULED", message: "L0 holds no upgrade", remedy: "approve it" };
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
  it("adds new files, upgrades changed ones, removes deleted ones, and leaves tests and half-written files alone", async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-watch-"));
    const hosted = new Set<string>(["meters"]);
    const { admin, calls } = recorder(hosted);
    writeFileSync(join(dir, "poll.yaml"), "channel: poll\n");
    writeFileSync(join(dir, "poll.test.yaml"), "tests: []\n");
    writeFileSync(join(dir, "meters.yaml"), "channel: meters\n");
    writeFileSync(join(dir, "notes.txt"), "not a channel\n");
    w = watchFolder(dir, admin, () => [...hosted], silentLogger, 60_000);
    await w.poll();
    expect(calls).toEqual([]); // seen once: not yet still
    await w.poll();
    // meters is hosted already (from the node file): followed as an upgrade.
    expect(calls.sort()).toEqual(["add meters", "add poll", "upgrade ? meters"]);
    calls.length = 0;
    await w.poll();
    expect(calls).toEqual([]);
    writeFileSync(join(dir, "poll.yaml"), "channel: poll\nversion: 2\n");
    utimesSync(join(dir, "poll.yaml"), new Date(), new Date(Date.now() + 5000));
    await w.poll();
    expect(calls).toEqual([]);
    await w.poll();
    expect(calls).toEqual(["upgrade poll poll"]);
    calls.length = 0;
    unlinkSync(join(dir, "poll.yaml"));
    await w.poll();
    expect(calls).toEqual(["remove poll"]);
    calls.length = 0;
    writeFileSync(join(dir, "broken.yaml"), "channel: [\n");
    await w.poll();
    await w.poll();
    expect(calls).toEqual(["add broken"]);
    await w.poll();
    expect(calls).toEqual(["add broken"]); // refused once; tried again only when the file changes
  });

  it("an upgrade L0 has not scheduled yet is sent again every WAIT_RETRY_MS, without the file changing", async () => {
    dir = mkdtempSync(join(tmpdir(), "statecell-watch-"));
    const hosted = new Set<string>(["waiting"]);
    const { admin, calls } = recorder(hosted);
    writeFileSync(join(dir, "waiting.yaml"), "channel: waiting\n");
    let t = 0;
    w = watchFolder(dir, admin, () => [...hosted], silentLogger, 60_000, () => t);
    await w.poll();
    await w.poll();
    expect(calls).toEqual(["add waiting", "upgrade ? waiting"]);
    calls.length = 0;
    t += WAIT_RETRY_MS - 1;
    await w.poll();
    expect(calls).toEqual([]);
    t += 1;
    await w.poll();
    expect(calls).toEqual(["add waiting", "upgrade ? waiting"]);
  });
});
