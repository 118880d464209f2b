/**
 * The `statecell` command. Each subcommand is a thin shell around a pure
 * module: it reads files, calls the module, prints, and sets the exit code
 * (0 ok, 1 problems found or tests failed, 2 wrong usage).
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { keyPairFromName } from "../core/keys.js";
import { HELP, COMMAND_HELP } from "./help.js";
import { lintCommand } from "./lint.js";
import { explainCommand } from "./explain.js";
import { testCommand } from "./test.js";
import { demoCommand } from "./demo.js";
import { nodeCommand } from "./node.js";
import { upCommand } from "./up.js";
import { keysNewCommand } from "./keys.js";
import { l0Command } from "./l0.js";
import { exportCommand } from "./export.js";
import { verifyCommand } from "./verify.js";
import { channelCommand } from "./channel.js";
import { transferCommand } from "./transfer.js";
import { watchLauncher } from "./orphan-watch.js";

const here = dirname(fileURLToPath(import.meta.url));

function version(): string {
  const pkg = JSON.parse(readFileSync(join(here, "..", "..", "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(s)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "--help" || command === "-h" || command === "help") {
    const topic = command === "help" ? rest[0] : undefined;
    out(`${topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : HELP}\n`);
    return 0;
  }
  if (command === "--version" || command === "-v") {
    out(`${version()}\n`);
    return 0;
  }
  if (command === "keys" && rest[0] === "new") return keysNewCommand(rest.slice(1), out);
  if (command === "l0") return l0Command(rest, out);
  if (command === "export") return exportCommand(rest, out);
  if (command === "verify") return verifyCommand(rest, out);
  if (command === "channel") return channelCommand(rest, out);
  if (command === "transfer") return transferCommand(rest, out);
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        format: { type: "string" },
        coverage: { type: "boolean" },
        config: { type: "string" },
        dir: { type: "string" },
        demo: { type: "boolean" },
        watch: { type: "string" },
        grep: { type: "string" },
        state: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    out(`statecell ${command}: ${(e as Error).message}\nRun \`statecell help ${command}\` for usage.\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    out(`${COMMAND_HELP[command] ?? HELP}\n`);
    return 0;
  }
  // Options of `test` only: elsewhere they would be ignored without a word.
  for (const name of ["grep", "state"] as const) {
    if (values[name] !== undefined && command !== "test" && command in COMMAND_HELP) {
      out(`statecell ${command}: --${name} is an option of \`statecell test\`\nRun \`statecell help ${command}\` for usage.\n`);
      return 2;
    }
  }
  switch (command) {
    case "lint":
      return lintCommand(positionals, { format: values.format ?? "text" }, out);
    case "explain":
      return explainCommand(positionals, { format: values.format ?? "text" }, out);
    case "test":
      return testCommand(
        positionals,
        { format: values.format ?? "text", coverage: values.coverage ?? false, ...(values.grep !== undefined ? { grep: values.grep } : {}), state: values.state ?? false },
        out,
      );
    case "keys":
      if (positionals.length === 0) {
        out("statecell keys: name at least one signer, e.g. `statecell keys alice`\n");
        return 2;
      }
      for (const name of positionals) out(`${name}\t${keyPairFromName(name).publicKey}\n`);
      return 0;
    case "node":
      return nodeCommand(values.config, out, values.watch !== undefined ? { watch: values.watch } : {});
    case "up":
      return upCommand(positionals, { dir: values.dir ?? process.env.STATECELL_DIR ?? ".statecell", demo: values.demo ?? false }, out);
    case "demo":
      return demoCommand(out);
    default:
      out(`statecell: unknown command "${command}"\n\n${HELP}\n`);
      return 2;
  }
}

// Run when executed directly (the bin launcher), not when imported by tests.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // A reader that stops early (`statecell explain channels/ | head`) closes the pipe: stop
  // writing, finish the command and keep its exit code, instead of dying on EPIPE with a stack.
  let closed = false;
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    closed = true;
  });
  const write = (s: string): void => {
    if (!closed) process.stdout.write(s);
  };
  watchLauncher();
  main(process.argv.slice(2), write).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`statecell: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
