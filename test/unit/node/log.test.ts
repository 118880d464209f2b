/** The node's log: one JSON line per event, written before the call returns, with the operator's fields. */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger } from "../../../runtime/node/log.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function logFile(): { fd: number; lines: () => any[] } {
  dir = mkdtempSync(join(tmpdir(), "statecell-log-"));
  const path = join(dir, "node.log");
  const fd = openSync(path, "a");
  return { fd, lines: () => readFileSync(path, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) };
}

describe("node log", () => {
  it("writes one JSON object per line, synchronously, with level, time, msg and the child's fields", () => {
    const { fd, lines } = logFile();
    const log = createLogger(fd).child({ node: "v-1" });
    log.info("block committed", { channel: "meters", cell: "readings", height: 12, round: 0 });
    // Read before anything else runs: the line is on disk already.
    const [line] = lines();
    expect(line).toMatchObject({ level: "info", node: "v-1", channel: "meters", cell: "readings", height: 12, round: 0, msg: "block committed" });
    expect(typeof line.time).toBe("number");
    log.child({ peer: "v-2" }).warn("peer down", { reason: "closed" });
    expect(lines()[1]).toMatchObject({ level: "warn", node: "v-1", peer: "v-2", reason: "closed", msg: "peer down" });
    closeSync(fd);
  });

  it("drops what is below its level, and survives fields JSON cannot write and a closed descriptor", () => {
    const { fd, lines } = logFile();
    const log = createLogger(fd, {}, "warn");
    log.info("not written");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.error("odd fields", { cyclic, big: 10n as unknown });
    expect(lines()).toHaveLength(1);
    expect(lines()[0]).toMatchObject({ level: "error", msg: "odd fields" });
    closeSync(fd);
    expect(() => log.error("after close")).not.toThrow();
  });
});
