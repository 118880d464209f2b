/**
 * node.yaml: a validator node's identity, listen addresses, network file,
 * channel files and data folder (schemas/node.schema.json describes every
 * key). Paths are resolved from the file's folder; the files it names are
 * checked to exist, so a typo is reported at its line, not when the node
 * fails to start.
 */
import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import nodeSchema from "../../../schemas/node.schema.json" with { type: "json" };
import type { Reporter } from "../../definition/reporter.js";
import { parseListenAddress, type ListenAddress } from "./address.js";
import { keyFileModeProblem } from "./key-file.js";
import type { QuotaConfig } from "../quotas.js";
import { compileConfigSchema, errno, problemsOf, readConfigFile, type ConfigResult } from "./read-config.js";

/** A loaded node.yaml; every path is absolute. */
export interface NodeConfig {
  /** The node.yaml file itself. */
  file: string;
  /** The key file (load it with loadKeyFile). */
  identity: string;
  listen: { api: ListenAddress; peer: ListenAddress };
  /** The network file (load it with loadNetwork). */
  network: string;
  /** The channel files, in the order listed. */
  channels: string[];
  /** The data folder (it may not exist yet). */
  data: string;
  /** The operator token, when the file has one (never print it). */
  token?: string;
  /** Quotas per hosted channel (runtime/node/quotas.ts). */
  quotas?: QuotaConfig;
  /** The L0 the node sends its channels' registrations and snapshots to, with the key its acknowledgements are signed by. */
  l0?: { url: string; key: string };
}

/** Keys whose values are secrets: masked in every excerpt. */
const SECRET_KEYS = ["token"];

let validate: ReturnType<typeof compileConfigSchema> | undefined;

/**
 * Loads node.yaml at `path`: the config, or the problems that prevent it
 * (each at `file:line:col` with an excerpt and a remedy; YAML problems carry
 * DEFINITION_* codes, the rest NODE_CONFIG_*). Never throws for what the
 * file holds.
 *
 * @example
 * const { config, problems } = loadNodeConfig("deploy/edge-1/node.yaml");
 * if (!config) { for (const p of problems) console.error(formatProblem(p)); process.exit(1); }
 */
export function loadNodeConfig(path: string): ConfigResult<NodeConfig> {
  validate ??= compileConfigSchema(nodeSchema);
  const read = readConfigFile(path, "node", validate);
  if (!("reporter" in read) || read.value === undefined || read.reporter.hasErrors()) return { problems: problemsOf(read, SECRET_KEYS) };
  const { reporter, value } = read;
  const v = value as unknown as { identity: string; listen: { api: string; peer: string }; network: string; channels: string[]; data: string; token?: string; quotas?: QuotaConfig; l0?: { url: string; key: string } };
  const base = dirname(resolve(path));
  const at = (p: string) => resolve(base, p);

  const api = listenAddress(reporter, "api", v.listen.api);
  const peer = listenAddress(reporter, "peer", v.listen.peer);
  if (api && peer && api.port !== 0 && api.port === peer.port && sameHost(api.host, peer.host)) {
    reporter.error("NODE_CONFIG_DUPLICATE", ["listen", "peer"], `\`listen.api\` and \`listen.peer\` are the same address (${v.listen.api})`, "give the client API and peering different ports");
  }

  const identity = at(v.identity);
  const idStat = fileStat(reporter, ["identity"], identity, v.identity, "key file", "make one with `statecell keys new --out FILE`, or fix the path (it is read from this file's folder)");
  if (idStat) {
    const wide = keyFileModeProblem(idStat.mode);
    if (wide !== undefined) reporter.error("NODE_KEY_PERMISSIONS", ["identity"], `the key file ${v.identity} has mode ${wide}: its group or others may read it`, `chmod 600 ${identity}`);
  }
  const network = at(v.network);
  fileStat(reporter, ["network"], network, v.network, "network file", "fix the path (it is read from this file's folder)");
  const channels: string[] = [];
  const firstIndex = new Map<string, number>();
  v.channels.forEach((c, i) => {
    const abs = at(c);
    const before = firstIndex.get(abs);
    if (before !== undefined) {
      reporter.error("NODE_CONFIG_DUPLICATE", ["channels", i], `channel file ${JSON.stringify(c)} is the same file as item ${before + 1}`, "list each channel file once");
      return;
    }
    firstIndex.set(abs, i);
    fileStat(reporter, ["channels", i], abs, c, "channel file", "fix the path (it is read from this file's folder)");
    channels.push(abs);
  });
  const data = at(v.data);
  try {
    if (!statSync(data).isDirectory()) reporter.error("NODE_CONFIG_BAD_VALUE", ["data"], `the data folder ${JSON.stringify(v.data)} exists and is not a folder`, "name a folder (it is created when missing)");
  } catch {
    // Missing: the node creates it.
  }
  if (v.token !== undefined) {
    const wide = keyFileModeProblem(read.mode);
    if (wide !== undefined) {
      reporter.error("NODE_CONFIG_PERMISSIONS", ["token"], `this file holds the operator token and has mode ${wide}: its group or others may read it`, `make it readable by its owner only: chmod 600 ${resolve(path)}`, { anchor: "key" });
    }
  }
  const problems = problemsOf(read, SECRET_KEYS);
  if (reporter.hasErrors() || !api || !peer) return { problems };
  const config: NodeConfig = { file: resolve(path), identity, listen: { api, peer }, network, channels, data, ...(v.token !== undefined ? { token: v.token } : {}), ...(v.quotas !== undefined ? { quotas: v.quotas } : {}), ...(v.l0 !== undefined ? { l0: { url: v.l0.url, key: v.l0.key } } : {}) };
  return { config, problems };
}

function listenAddress(reporter: Reporter, which: "api" | "peer", text: string): ListenAddress | undefined {
  const a = parseListenAddress(text);
  if ("error" in a) {
    reporter.error("NODE_CONFIG_BAD_VALUE", ["listen", which], `\`listen.${which}\`: ${a.error}`, which === "api" ? "write HOST:PORT, e.g. 127.0.0.1:8080" : "write HOST:PORT, e.g. 0.0.0.0:26656");
    return undefined;
  }
  return a;
}

function sameHost(a: string, b: string): boolean {
  const wild = (h: string) => h === "0.0.0.0" || h === "::";
  return a === b || wild(a) || wild(b);
}

/** The file's stat, or a located NODE_CONFIG_NOT_FOUND problem. */
function fileStat(reporter: Reporter, path: Array<string | number>, abs: string, written: string, what: string, remedy: string): { mode: number } | undefined {
  try {
    const st = statSync(abs);
    if (st.isFile()) return { mode: st.mode };
    reporter.error("NODE_CONFIG_NOT_FOUND", path, `the ${what} ${JSON.stringify(written)} is not a file (${abs})`, remedy);
  } catch (e) {
    reporter.error("NODE_CONFIG_NOT_FOUND", path, `the ${what} ${JSON.stringify(written)} cannot be read (${errno(e)}: ${abs})`, remedy);
  }
  return undefined;
}
