/**
 * `statecell l0 --config l0.yaml`: runs the global L0 ledger until SIGINT or
 * SIGTERM (docs/l0.md, "Running L0"). Prints where it listens, its public key
 * and its data folder, then one line per global snapshot cut.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { isStatecellError } from "../core/errors.js";
import { loadL0Config, startL0 } from "../l0/index.js";
import { COMMAND_HELP } from "./help.js";

/** Runs L0; resolves to the exit code once it has stopped (0), or could not start (1), or was used wrongly (2). */
export async function l0Command(argv: readonly string[], out: (s: string) => void, signals: { once(event: "SIGINT" | "SIGTERM", fn: () => void): unknown } = process): Promise<number> {
  let values: { config?: string; help?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], allowPositionals: false, options: { config: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    out(`statecell l0: ${(e as Error).message}\nRun \`statecell help l0\` for usage.\n`);
    return 2;
  }
  if (values.help) {
    out(`${COMMAND_HELP.l0}\n`);
    return 0;
  }
  if (values.config === undefined) {
    out("statecell l0: give the configuration file: `statecell l0 --config l0.yaml`\n");
    return 2;
  }
  try {
    let text: string;
    try {
      text = readFileSync(values.config, "utf8");
    } catch (e) {
      out(`statecell l0: CLI_FILE_NOT_FOUND: ${values.config} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})\n  fix: check the path\n`);
      return 1;
    }
    const config = loadL0Config(text, values.config);
    const l0 = await startL0(config, (line) => out(`${line}\n`));
    out(`l0 listening on ${l0.url}\nkey ${l0.key}\ndata ${config.dataDir}\nready\n`);
    await new Promise<void>((resolve) => {
      signals.once("SIGINT", resolve);
      signals.once("SIGTERM", resolve);
    });
    await l0.close();
    out("l0 stopped\n");
    return 0;
  } catch (e) {
    if (isStatecellError(e)) {
      out(`statecell l0: ${e.code}: ${e.message}\n${e.remedy ? `  fix: ${e.remedy}\n` : ""}`);
      return 1;
    }
    throw e;
  }
}
