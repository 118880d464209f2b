/**
 * `statecell l0`: usage, a configuration that does not load, and a run that
 * starts, answers over HTTP and stops on SIGTERM (the command in this
 * process, with its signals given by the test).
 */
import { EventEmitter } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { l0Command } from "../../../runtime/cli/l0.js";
import { main } from "../../../runtime/cli/main.js";
import { l0Client } from "../../../runtime/l0/index.js";
import { tempDir } from "../../unit/l0/helpers.js";

function capture() {
  let text = "";
  return { out: (s: string) => void (text += s), text: () => text };
}

describe("statecell l0", () => {
  it("without --config exits 2, with --help prints its usage, and is listed in the help", async () => {
    const c = capture();
    expect(await main(["l0"], c.out)).toBe(2);
    expect(c.text()).toContain("--config l0.yaml");
    const h = capture();
    expect(await main(["l0", "--help"], h.out)).toBe(0);
    expect(h.text()).toContain("Usage: statecell l0 --config l0.yaml");
    const all = capture();
    await main(["--help"], all.out);
    expect(all.text()).toContain("  l0 --config FILE");
  });

  it("a configuration with an unknown key or a missing file exits 1 with the code and a fix", async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, "l0.yaml");
      writeFileSync(file, "identity: k\nlisten: 127.0.0.1:0\ndataDir: d\nallowList: [x]\n");
      const c = capture();
      expect(await l0Command(["--config", file], c.out)).toBe(1);
      expect(c.text()).toMatch(/L0_CONFIG: .*allowList/);
      expect(c.text()).toContain("fix:");
      const m = capture();
      expect(await l0Command(["--config", join(t.dir, "missing.yaml")], m.out)).toBe(1);
      expect(m.text()).toContain("CLI_FILE_NOT_FOUND");
    } finally {
      t.cleanup();
    }
  });

  it("starts, prints its address, key and data folder, serves the API and stops on SIGTERM with exit 0", async () => {
    const t = tempDir();
    try {
      const file = join(t.dir, "l0.yaml");
      writeFileSync(file, "identity: l0.key\nlisten: 127.0.0.1:0\ndataDir: data\ncutEveryMs: 20\n");
      const signals = new EventEmitter();
      const c = capture();
      const done = l0Command(["--config", file], c.out, signals as never);
      for (let i = 0; i < 200 && !c.text().includes("ready\n"); i++) await new Promise((r) => setTimeout(r, 25));
      const url = /l0 listening on (\S+)/.exec(c.text())![1];
      const key = /\nkey ([0-9a-f]{64})/.exec(c.text())![1];
      expect(c.text()).toContain(`data ${join(t.dir, "data")}`);
      expect(c.text()).toContain("created the identity key file");
      expect(await l0Client(url).info()).toMatchObject({ ok: true, info: { key } });
      signals.emit("SIGTERM");
      expect(await done).toBe(0);
      expect(c.text()).toContain("l0 stopped");
    } finally {
      t.cleanup();
    }
  });
});
