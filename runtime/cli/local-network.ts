/**
 * The files of a local network in a folder: `keys/NAME.key` per validator
 * (and per token account that is not a validator: bound under `keys:`),
 * `network.yaml` binding names to keys and 127.0.0.1 addresses, and
 * `nodes/NAME/node.yaml` per validator naming the channel files it hosts,
 * its data folder, and optionally an L0 and an operator token. Keys already
 * in the folder are kept, so writing again resumes the same identities.
 * `statecell up` writes its network with it, and so do the tests that start
 * nodes themselves, so they run on the files the product writes.
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { stringify } from "yaml";
import { createKeyFile, loadKeyFile } from "../node/config/index.js";

export interface LocalNetworkOptions {
  /** The network's name in network.yaml (default statecell-local). */
  network?: string;
  /** Validator names, and for each the API and peer ports on 127.0.0.1. */
  ports: Readonly<Record<string, { api: number; peer: number }>>;
  /** The channel files each validator hosts (absolute paths, or as the caller wants them in the node file). */
  hostedOf(name: string): string[];
  /** Token accounts that are not validators: a key file each, bound under `keys:`. */
  accounts?: readonly string[];
  /** The L0 every node sends its snapshots to. */
  l0?: { url: string; key: string };
  /** The operator token of every node's admin API (the node files are then mode 0600). */
  token?: string;
  /** The first line of each file written (a comment), if any. */
  header?: string;
}

export interface LocalNetwork {
  validators: Record<string, { key: string; peer: string; api: string }>;
  /** Token accounts bound to public keys. */
  accounts: Record<string, string>;
  networkFile: string;
  /** The node file of each validator. */
  configs: Record<string, string>;
}

const keyIn = (file: string): string => (existsSync(file) ? loadKeyFile(file).publicKey : createKeyFile(file).publicKey);

/** Writes (or rewrites) the network's files in `dir`. */
export function writeLocalNetwork(dir: string, o: LocalNetworkOptions): LocalNetwork {
  const names = Object.keys(o.ports);
  for (const sub of ["keys", "nodes"]) mkdirSync(join(dir, sub), { recursive: true });
  const validators: LocalNetwork["validators"] = {};
  for (const name of names) {
    const p = o.ports[name];
    validators[name] = { key: keyIn(join(dir, "keys", `${name}.key`)), peer: `ws://127.0.0.1:${p.peer}`, api: `http://127.0.0.1:${p.api}` };
  }
  const accounts: Record<string, string> = {};
  for (const a of o.accounts ?? []) if (!names.includes(a)) accounts[a] = keyIn(join(dir, "keys", `${a}.key`));
  const header = o.header !== undefined ? `# ${o.header}\n` : "";
  const networkFile = join(dir, "network.yaml");
  const network = { network: o.network ?? "statecell-local", validators, ...(Object.keys(accounts).length > 0 ? { keys: accounts } : {}) };
  writeFileSync(networkFile, `${header}${stringify(network)}`);
  const configs: Record<string, string> = {};
  for (const name of names) {
    const nodeDir = join(dir, "nodes", name);
    mkdirSync(nodeDir, { recursive: true });
    const file = join(nodeDir, "node.yaml");
    const p = o.ports[name];
    const node = {
      identity: relative(nodeDir, join(dir, "keys", `${name}.key`)),
      listen: { api: `127.0.0.1:${p.api}`, peer: `127.0.0.1:${p.peer}` },
      network: relative(nodeDir, networkFile),
      channels: o.hostedOf(name),
      data: "data",
      ...(o.l0 !== undefined ? { l0: { url: o.l0.url, key: o.l0.key } } : {}),
      ...(o.token !== undefined ? { token: o.token } : {}),
    };
    writeFileSync(file, `${header}${stringify(node)}`);
    // A node file with an operator token must not be readable by others (the node refuses it otherwise).
    if (o.token !== undefined) chmodSync(file, 0o600);
    configs[name] = file;
  }
  return { validators, accounts, networkFile, configs };
}
