/**
 * `statecell channel approve` and `statecell channel readiness` against a
 * real L0 (SQLite store, HTTP API): approvals from the snapshot group's key
 * files arrive one at a time; readiness names who approved, who is missing
 * and when the threshold is met; an invalid new version is refused with its
 * lint errors and nothing is approved.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../runtime/cli/main.js";
import { generateKeyPair } from "../../../runtime/core/keys.js";
import { loadChannel } from "../../../runtime/definition/index.js";
import { l0Client, openL0, startL0Http } from "../../../runtime/l0/index.js";
import { createKeyFile, loadKeyFile } from "../../../runtime/node/config/index.js";
import { genesisRegistration, signRegistration } from "../../../runtime/node/l0/index.js";
import { FIXTURES } from "./network.js";

describe("statecell channel readiness and approve", () => {
  const dir = mkdtempSync(join(tmpdir(), "statecell-readiness-"));
  const l0 = openL0({ store: join(dir, "l0.db"), key: generateKeyPair() });
  let http: Awaited<ReturnType<typeof startL0Http>> | undefined;
  afterAll(async () => {
    await http?.close();
    l0.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows approvals as they arrive, and when the threshold is met; an invalid version is refused", async () => {
    http = await startL0Http(l0, { host: "127.0.0.1", port: 0 });
    const yaml = readFileSync(join(FIXTURES, "alpha.yaml"), "utf8");
    const v1 = loadChannel(yaml, { file: join(dir, "alpha.yaml") }, {}).plan!;
    const names = ["v1", "v2", "v3", "v4"];
    for (const n of names) createKeyFile(join(dir, `${n}.key`));
    const keys = Object.fromEntries(names.map((n) => [n, loadKeyFile(join(dir, `${n}.key`))]));
    const reg = genesisRegistration(v1, () => Object.fromEntries(names.map((n) => [n, keys[n].publicKey])));
    const registered = await l0Client(http.url).register({ record: reg, signatures: ["v1", "v2", "v3"].map((n) => signRegistration(reg, keys[n])) });
    expect(registered.ok).toBe(true);

    // Version 2 of the channel: another rule set, so another definition hash.
    const v2File = join(dir, "alpha-v2.yaml");
    writeFileSync(v2File, yaml.replace("version: 1", "version: 2").replace("minimum: 0", "minimum: 1"));
    let t = "";
    const out = (s: string) => void (t += s);
    expect(await main(["channel", "readiness", v2File, "--l0", http.url], out)).toBe(0);
    expect(t).toMatch(/no upgrade to this definition is proposed/);
    for (const [i, n] of ["v1", "v2"].entries()) {
      t = "";
      expect(await main(["channel", "approve", v2File, "--key", join(dir, `${n}.key`), "--at", "5", "--l0", http.url], out)).toBe(0);
      expect(t).toMatch(new RegExp(`${i + 1} of 3 approvals`));
    }
    t = "";
    expect(await main(["channel", "readiness", v2File, "--l0", http.url], out)).toBe(0);
    expect(t).toMatch(/at snapshot height 5: open, 2 of 3 approvals \(v1, v2\); missing v3, v4: not ready/);
    // A key outside the snapshot group is refused by L0 with its code.
    createKeyFile(join(dir, "stranger.key"));
    t = "";
    expect(await main(["channel", "approve", v2File, "--key", join(dir, "stranger.key"), "--at", "5", "--l0", http.url], out)).toBe(1);
    expect(t).toMatch(/L0_SIGNER_OUTSIDE_GROUP/);
    t = "";
    expect(await main(["channel", "approve", v2File, "--key", join(dir, "v4.key"), "--at", "5", "--l0", http.url], out)).toBe(0);
    t = "";
    expect(await main(["channel", "readiness", v2File, "--l0", http.url, "--format", "json"], out)).toBe(0);
    const j = JSON.parse(t) as { proposals: Array<{ status: string; ready: boolean; approvals: Array<{ name: string }>; missing: string[] }>; current: boolean };
    expect(j.current).toBe(false);
    expect(j.proposals).toHaveLength(1);
    expect(j.proposals[0]).toMatchObject({ status: "scheduled", ready: true, missing: ["v3"] });
    expect(j.proposals[0].approvals.map((a) => a.name)).toEqual(["v1", "v2", "v4"]);

    // Once the upgrade is scheduled, a stranger's approval is not counted, and the command says so.
    t = "";
    expect(await main(["channel", "approve", v2File, "--key", join(dir, "stranger.key"), "--at", "5", "--l0", http.url], out)).toBe(1);
    expect(t).toMatch(/CLI_APPROVAL_NOT_COUNTED/);

    // An invalid new version: its lint errors, nothing approved.
    const bad = join(dir, "alpha-bad.yaml");
    writeFileSync(bad, yaml.replace("threshold: 3", "threshold: 9"));
    t = "";
    expect(await main(["channel", "approve", bad, "--key", join(dir, "v1.key"), "--at", "6", "--l0", http.url], out)).toBe(1);
    expect(t).toMatch(/CLI_UPGRADE_INVALID/);
    expect(t).toMatch(/alpha-bad\.yaml:\d+:\d+/);
    const after = await l0Client(http.url).upgrades("alpha");
    expect(after.ok && after.upgrades.upgrades.length).toBe(1);

    // Usage.
    t = "";
    expect(await main(["channel"], out)).toBe(2);
    expect(await main(["channel", "approve", v2File, "--l0", http.url], out)).toBe(2);
  }, 60_000);
});
