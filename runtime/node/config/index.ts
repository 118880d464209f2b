/**
 * A node's configuration files: node.yaml (loadNodeConfig), network.yaml
 * (loadNetwork) and its key file (createKeyFile, loadKeyFile). Loaders
 * return located problems like the channel loader; key files are made
 * owner-only and atomically.
 */
export { loadNodeConfig, type NodeConfig } from "./node-config.js";
export { loadNetwork, type NetworkConfig, type ValidatorEntry } from "./network.js";
export { createKeyFile, loadKeyFile, keyFileModeProblem } from "./key-file.js";
export { parseListenAddress, type ListenAddress } from "./address.js";
export type { ConfigResult } from "./read-config.js";
