/**
 * network.yaml: the network's id and its validators, each a name (as channel
 * groups write it), a public key and addresses (schemas/network.schema.json
 * describes every key). This file binds the validator names of channel
 * files to keys: two names with one key would let one key sign twice in a
 * group, so a shared key is refused.
 */
import { resolve } from "node:path";
import nodeNetworkSchema from "../../../schemas/network.schema.json" with { type: "json" };
import { urlProblem } from "./address.js";
import { compileConfigSchema, problemsOf, readConfigFile, type ConfigResult } from "./read-config.js";

/** One validator of the network. */
export interface ValidatorEntry {
  name: string;
  /** ed25519 public key, 64 lowercase hex. */
  key: string;
  /** The address peers dial (ws:// or wss://). */
  peer: string;
  /** The client API's address (http:// or https://), when given. */
  api?: string;
  description?: string;
}

/** A loaded network.yaml. */
export interface NetworkConfig {
  /** The network.yaml file itself (absolute). */
  file: string;
  /** The network's id (the peer handshake's prologue). */
  network: string;
  /** The validators in file order. */
  validators: readonly ValidatorEntry[];
  /** Validator by name. */
  byName: ReadonlyMap<string, ValidatorEntry>;
  /** Validator by public key. */
  byKey: ReadonlyMap<string, ValidatorEntry>;
  /**
   * Names of accounts that are not validators (`keys:`), bound to public keys:
   * what a channel's token genesis may name instead of a key ("treasury").
   */
  accounts: ReadonlyMap<string, string>;
}

let validate: ReturnType<typeof compileConfigSchema> | undefined;

/**
 * Loads network.yaml at `path`: the config, or the problems that prevent it
 * (located like loadNodeConfig's). Never throws for what the file holds.
 */
export function loadNetwork(path: string): ConfigResult<NetworkConfig> {
  validate ??= compileConfigSchema(nodeNetworkSchema);
  const read = readConfigFile(path, "network", validate);
  if (!("reporter" in read) || read.value === undefined || read.reporter.hasErrors()) return { problems: problemsOf(read) };
  const { reporter, value } = read;
  const v = value as unknown as { network: string; validators: Record<string, { key: string; peer: string; api?: string; description?: string }>; keys?: Record<string, string> };
  const validators: ValidatorEntry[] = [];
  const byName = new Map<string, ValidatorEntry>();
  const byKey = new Map<string, ValidatorEntry>();
  for (const [name, entry] of Object.entries(v.validators)) {
    const peerWhy = urlProblem(entry.peer, "peer");
    if (peerWhy) reporter.error("NODE_CONFIG_BAD_VALUE", ["validators", name, "peer"], `the peer address of validator "${name}": ${peerWhy}`, "write the address other validators dial, e.g. ws://10.0.0.7:26656");
    if (entry.api !== undefined) {
      const apiWhy = urlProblem(entry.api, "api");
      if (apiWhy) reporter.error("NODE_CONFIG_BAD_VALUE", ["validators", name, "api"], `the api address of validator "${name}": ${apiWhy}`, "write the client API's address, e.g. http://10.0.0.7:8080");
    }
    const other = byKey.get(entry.key);
    if (other) {
      reporter.error("NODE_CONFIG_DUPLICATE", ["validators", name, "key"], `validators "${other.name}" and "${name}" have the same key`, "give each validator its own key (`statecell keys new` on each node)");
      continue;
    }
    const e: ValidatorEntry = {
      name,
      key: entry.key,
      peer: entry.peer,
      ...(entry.api !== undefined ? { api: entry.api } : {}),
      ...(entry.description !== undefined ? { description: entry.description } : {}),
    };
    validators.push(e);
    byName.set(name, e);
    byKey.set(e.key, e);
  }
  const accounts = new Map<string, string>();
  for (const [name, key] of Object.entries(v.keys ?? {})) {
    if (byName.has(name)) reporter.error("NODE_CONFIG_DUPLICATE", ["keys", name], `"${name}" is a validator and an account of keys:; a name binds one key`, "rename the account, or drop it from keys: (a validator's own key is its account)");
    else accounts.set(name, key);
  }
  const problems = problemsOf(read);
  if (reporter.hasErrors()) return { problems };
  return { config: { file: resolve(path), network: v.network, validators, byName, byKey, accounts }, problems };
}
