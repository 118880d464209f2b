/**
 * `statecell keys new --out FILE`: a node identity. Generates an ed25519
 * key, writes it as a key file readable by its owner only (created
 * atomically, never over an existing file: runtime/node/config/key-file.ts)
 * and prints the public key alone, the line a network file needs. The
 * private seed is never printed.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { isStatecellError } from "../core/errors.js";
import { createKeyFile } from "../node/config/key-file.js";
import { COMMAND_HELP } from "./help.js";

/** Runs `keys new` with the arguments after `new`; resolves to the exit code (0 written, 1 refused, 2 wrong usage). */
export function keysNewCommand(args: readonly string[], out: (s: string) => void, cwd = process.cwd()): number {
  let file: string | undefined;
  try {
    const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, options: { out: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      out(`${COMMAND_HELP.keys}\n`);
      return 0;
    }
    if (positionals.length > 0) throw new Error(`unexpected ${JSON.stringify(positionals[0])}`);
    file = values.out;
  } catch (e) {
    out(`statecell keys new: ${(e as Error).message}\nUsage: statecell keys new --out FILE\n`);
    return 2;
  }
  if (file === undefined || file === "") {
    out("statecell keys new: name the key file with --out FILE, e.g. `statecell keys new --out edge-1.key.json`\n");
    return 2;
  }
  try {
    const { publicKey } = createKeyFile(resolve(cwd, file));
    out(`${publicKey}\n`);
    return 0;
  } catch (e) {
    if (!isStatecellError(e)) throw e;
    out(`statecell keys new: ${e.code}: ${e.message}\n  fix: ${e.remedy ?? ""}\n`);
    return 1;
  }
}
