/**
 * `statecell transfer` refuses what it can judge without a node, with a code
 * and a remedy and exit 2: missing options, a key file that is not one, an
 * account that is not a key, a nonce or amount of the wrong form, no node.
 * Amounts: digits are base units, a point means whole tokens.
 */
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../runtime/cli/main.js";
import { amountOf } from "../../../runtime/cli/transfer.js";
import { createKeyFile } from "../../../runtime/node/config/index.js";

const dir = mkdtempSync(join(tmpdir(), "statecell-transfer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; out: string }> {
  let out = "";
  const code = await main(["transfer", ...args], (s) => (out += s));
  return { code, out };
}

describe("statecell transfer", () => {
  const key = join(dir, "me.key");
  createKeyFile(key);
  const to = "ab".repeat(32);

  it("refuses bad usage before it asks any node", async () => {
    expect(await run(["--to", to])).toMatchObject({ code: 2, out: expect.stringContaining("CLI_USAGE") });
    const notKey = join(dir, "not.key");
    writeFileSync(notKey, "hello");
    chmodSync(notKey, 0o600);
    const k = await run(["--key", notKey, "--to", to, "--amount", "1", "--node", "http://127.0.0.1:1"]);
    expect(k.code).toBe(2);
    expect(k.out).toMatch(/statecell transfer: NODE_[A-Z_]+: .*\n  remedy: /);
    expect(await run(["--key", key, "--to", "ABC", "--amount", "1", "--node", "http://127.0.0.1:1"])).toMatchObject({ code: 2, out: expect.stringContaining("CLI_TRANSFER_BAD_ACCOUNT") });
    expect(await run(["--key", key, "--to", to, "--amount", "1", "--nonce", "0", "--node", "http://127.0.0.1:1"])).toMatchObject({ code: 2, out: expect.stringContaining("CLI_TRANSFER_NONCE") });
    expect(await run(["--key", key, "--to", to, "--amount", "1", "--node", "ftp://x"])).toMatchObject({ code: 2, out: expect.stringContaining("CLI_TRANSFER_BAD_NODE") });
    const unreachable = await run(["--key", key, "--to", to, "--amount", "1", "--node", "http://127.0.0.1:1"]);
    expect(unreachable).toMatchObject({ code: 1, out: expect.stringContaining("CLI_TRANSFER_UNREACHABLE") });
    expect(await run(["--bogus"])).toMatchObject({ code: 2 });
  });

  it("reads amounts as base units, or whole tokens with a point", () => {
    expect(amountOf("1250", 2, "--amount")).toBe(1250n);
    expect(amountOf("12.50", 2, "--amount")).toBe(1250n);
    expect(amountOf("12.5", 2, "--amount")).toBe(1250n);
    for (const bad of ["1.234", "-1", "1e3", "01", "", "12.", "x"]) expect(() => amountOf(bad, 2, "--amount")).toThrow(/--amount/);
    expect(() => amountOf("1".repeat(40), 0, "--amount")).toThrow();
  });
});
