/** Load a channel file from disk with the real file reader and the sandbox's code checker. */
import { loadChannel, loadTests } from "../definition/index.js";
import type { ChannelPlan } from "../definition/plan.js";
import { checkCode } from "../sandbox/index.js";
import type { Problem } from "../core/errors.js";
import { readTextFile } from "./files.js";

export interface LoadedFile {
  file: string;
  source?: string;
  plan?: ChannelPlan;
  problems: Problem[];
}

export function loadChannelFile(file: string): LoadedFile {
  const source = readTextFile(file);
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
  const { plan, problems } = loadChannel(source, { file }, { readFile: readTextFile, checkCode });
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
