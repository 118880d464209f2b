/** Load a channel file from disk with the real file reader and the sandbox's code checker. */
import { loadChannel } from "../definition/index.js";
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

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === "error");
}
