/**
 * Test helper: the files of a local network (keys, network.yaml, one
 * node.yaml per validator, optionally naming an L0) in a temporary folder,
 * with free ports on 127.0.0.1, and an L0 process started with
 * `statecell l0 --config`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { freePort } from "../../../runtime/cli/free-port.js";
import { writeLocalNetwork } from "../../../runtime/cli/local-network.js";
export { freePort };

export const FIXTURES = resolve(import.meta.dirname, "fixtures");
const MAIN = resolve(import.meta.dirname, "../../../runtime/cli/main.ts");


export interface TestNetwork {
  dir: string;
  configs: Record<string, string>;
  api: Record<string, string>;
}

/** Writes the network's files (with the writer `statecell up` uses); `hosts[name]` lists the channel files a validator hosts. */
export async function writeNetwork(dir: string, hosts: Record<string, string[]>, l0?: { url: string; key: string }): Promise<TestNetwork> {
  const ports: Record<string, { api: number; peer: number }> = {};
  for (const name of Object.keys(hosts)) ports[name] = { api: await freePort(), peer: await freePort() };
  const net = writeLocalNetwork(dir, { network: "l0-test", ports, hostedOf: (name) => hosts[name], ...(l0 ? { l0 } : {}) });
  return { dir, configs: net.configs, api: Object.fromEntries(Object.entries(net.validators).map(([n, v]) => [n, v.api])) };
}

export interface L0Process {
  url: string;
  key: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `statecell l0 --config` on `port` with its data in `dir`; resolves when it prints `ready`. */
export async function startL0Process(dir: string, port: number): Promise<L0Process> {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, "l0.yaml");
  writeFileSync(config, stringify({ identity: "l0.key", listen: `127.0.0.1:${port}`, dataDir: "data", cutEveryMs: 500 }));
  const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", MAIN, "l0", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  child.stderr!.on("data", (b) => (text += String(b)));
  return await new Promise<L0Process>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`l0 not ready in 60 s: ${text}`)), 60_000);
    child.stdout!.on("data", (b) => {
      text += String(b);
      if (/^ready$/m.test(text)) {
        clearTimeout(timer);
        const url = /l0 listening on (\S+)/.exec(text)![1];
        const key = /key ([0-9a-f]{64})/.exec(text)![1];
        res({
          url,
          key,
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once("exit", () => done());
              child.kill("SIGTERM");
            }),
        });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      rej(new Error(`l0 exited with ${code}: ${text}`));
    });
  });
}

export async function until<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
