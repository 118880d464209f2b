/** The dashboard tests' channel (test/integration/dashboard/meters.yaml), loaded as a node loads it. */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadChannel, type ChannelPlan } from "../../../runtime/definition/index.js";
import { checkCode } from "../../../runtime/sandbox/index.js";

const here = dirname(fileURLToPath(import.meta.url));
export const METERS = join(here, "..", "..", "integration", "dashboard", "meters.yaml");

export function loadPlan(file = METERS, source = readFileSync(file, "utf8")): ChannelPlan {
  const r = loadChannel(source, { file }, { readFile: (p) => readFileSync(p, "utf8"), checkCode });
  if (r.plan === undefined) throw new Error(r.problems.map((p) => p.message).join("\n"));
  return r.plan;
}
