/**
 * A running L0 process: the identity key, the service on its store in the
 * data folder, the HTTP API, and the timer that cuts a global snapshot every
 * `cutEveryMs` when something is pending. What `statecell l0 --config` runs.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadKeyFile, type L0Config } from "./config.js";
import { l0Error } from "./errors.js";
import { startL0Http } from "./http.js";
import { openL0, type L0Service } from "./service.js";

/** A started L0. */
export interface RunningL0 {
  url: string;
  key: string;
  service: L0Service;
  /** Stops the timer and the API, then closes the store (what was answered stays on disk). */
  close(): Promise<void>;
}

/**
 * Starts L0 as `config` says; `log` receives one line per global snapshot cut and per failure.
 * @throws StatecellError L0_KEY_FILE, L0_STORE_*, L0_IDENTITY_MISMATCH, L0_LISTEN_FAILED, L0_CONFIG
 */
export async function startL0(config: L0Config, log: (line: string) => void = () => {}): Promise<RunningL0> {
  try {
    mkdirSync(config.dataDir, { recursive: true });
  } catch (e) {
    throw l0Error("L0_STORE_OPEN_FAILED", `L0's data folder ${config.dataDir} cannot be created: ${(e as Error).message}`, "give a dataDir L0 may write", { path: config.dataDir }, e);
  }
  const { key, created } = loadKeyFile(config.identity);
  if (created) log(`created the identity key file ${config.identity} (public key ${key.publicKey})`);
  const service = openL0({ store: join(config.dataDir, "l0.db"), key, ...definedLimits(config.limits) });
  let http;
  try {
    http = await startL0Http(service, { host: config.listen.host, port: config.listen.port, ...(config.limits.maxBodyBytes !== undefined ? { maxBodyBytes: config.limits.maxBodyBytes } : {}) });
  } catch (e) {
    service.close();
    throw e;
  }
  const timer = setInterval(() => {
    try {
      const g = service.cut();
      if (g !== null) log(`global ${g.global.ordinal} ${g.hash} snapshots=${g.global.snapshots.length} events=${g.global.events.length}`);
    } catch (e) {
      log(`cutting a global snapshot failed: ${(e as Error).message}`);
    }
  }, config.cutEveryMs);
  return {
    url: http.url,
    key: key.publicKey,
    service,
    close: async () => {
      clearInterval(timer);
      await http.close();
      service.close();
    },
  };
}

function definedLimits(l: L0Config["limits"]): { maxSnapshotBytes?: number; maxRecordBytes?: number; maxPerGlobal?: number } {
  return {
    ...(l.maxSnapshotBytes !== undefined ? { maxSnapshotBytes: l.maxSnapshotBytes } : {}),
    ...(l.maxRecordBytes !== undefined ? { maxRecordBytes: l.maxRecordBytes } : {}),
    ...(l.maxPerGlobal !== undefined ? { maxPerGlobal: l.maxPerGlobal } : {}),
  };
}
