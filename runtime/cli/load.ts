/** Load a channel file from disk with the real file reader and the sandbox's code checker. */
import { loadChannel, loadTests } from "../definition/index.js";
import type { ChannelPlan } from "../definition/plan.js";
import { checkCode } from "../sandbox/index.js";
import type { Problem } from "../core/errors.js";
import { readTextFile, channelsNaming } from "./files.js";

export interface LoadedFile {
  file: string;
  source?: string;
  plan?: ChannelPlan;
  problems: Problem[];
}

/** Loads a channel file read through `readFile` (the disk by default), and the code files it names the same way. */
export function loadChannelFile(file: string, readFile: (path: string) => string | undefined = readTextFile): LoadedFile {
  const source = readFile(file);
  if (source === undefined) {
    return {
      file,
      problems: [
        {
          code: "CLI_FILE_NOT_FOUND",
          severity: "error",
          message: `cannot read ${file}`,
          remedy: "check the path; channel files end in .yaml",
          location: { file, line: 1, col: 1 },
        },
      ],
    };
  }
  const { plan, problems } = loadChannel(source, { file }, { readFile, checkCode });
  return { file, source, ...(plan ? { plan } : {}), problems };
}

/** `NAME.test.yaml` holds tests of the channel `NAME.yaml` beside it. */
export function isTestsFile(file: string): boolean {
  return /\.test\.ya?ml$/.test(file);
}

/**
 * Lint a tests file: load the channel it belongs to, then check the tests
 * against that channel (unknown cells, rules, malformed steps). Problems of
 * the channel itself are reported once, under the channel file.
 */
export function loadTestsFile(file: string): LoadedFile & { tests?: number } {
  const source = readTextFile(file);
  if (source === undefined) return loadChannelFile(file);
  const channelFile = file.replace(/\.test\.ya?ml$/, ".yaml");
  const channel = loadChannelFile(channelFile);
  if (!channel.plan) {
    return {
      file,
      source,
      problems: [
        {
          code: "CLI_CHANNEL_DOES_NOT_LOAD",
          severity: "error",
          message: `these tests belong to ${channelFile}, which does not load`,
          remedy: `run \`statecell lint ${channelFile}\` and fix it first`,
          location: { file, line: 1, col: 1 },
        },
      ],
    };
  }
  const { tests, problems } = loadTests(source, { file }, channel.plan);
  return { file, source, plan: channel.plan, problems, tests: tests.length };
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}

/** A JavaScript or TypeScript file: what a cell's `code:` names, never a channel. */
export function isCodeFile(file: string): boolean {
  return /\.[cm]?[jt]sx?$/i.test(file);
}

/**
 * The problem of naming a code file where a channel file is expected: what
 * the file is, and the command to run on the channel that names it (found
 * beside the file or one folder up, where channels keep their code), instead
 * of the YAML errors its JavaScript would make.
 * @example codeFileProblem("channels/air-quality/districts.js", "lint")
 */
export function codeFileProblem(file: string, command: "lint" | "explain" | "test"): Problem {
  const owners = channelsNaming(file);
  const remedy =
    owners.length > 0
      ? `${command} the channel that names it: \`statecell ${command} ${owners.join(" ")}\``
      : `${command} the channel file (.yaml) whose cell names it under \`code:\`; a code file is checked with its channel`;
  return {
    code: "CLI_CODE_FILE",
    severity: "error",
    message:
      owners.length > 0
        ? `${file} is a code file (the hooks of a code cell), named by ${owners.join(", ")}; it is not a channel file`
        : `${file} is a code file (JavaScript hooks for a cell's \`code:\`), not a channel file`,
    remedy,
    location: { file, line: 1, col: 1 },
  };
}
