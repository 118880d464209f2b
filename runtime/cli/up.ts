/**
 * `statecell up CHANNEL.yaml... [--dir DIR] [--demo]`: a local network on
 * 127.0.0.1, one node process per validator named in the channels' groups.
 *
 * In DIR (default `.statecell/`, kept across runs: a second `up` resumes the
 * same keys, ports and ledgers) it writes `keys/NAME.key` (mode 0600),
 * `network.yaml`, `nodes/NAME/node.yaml` and each node's data folder (and
 * `keys/NAME.key` for each account a token genesis names that is not a
 * validator, bound under `keys:` in network.yaml, so `statecell transfer
 * --key DIR/keys/treasury.key` spends the treasury's points); it
 * starts the nodes, waits until every one is ready, prints each node's API,
 * and writes `up.json`: `{ "nodes": [ { "name", "pid", "api", "peer",
 * "config" } ], "l0": { "pid", "api", "config" } }` (`config` is the node file, so a stopped node can be started
 * again with `statecell node --config`). It starts an L0 too (DIR/l0/, up-l0.ts)
 * and configures every node to send its snapshots to it. Ctrl-C or SIGTERM stops every node
 * cleanly; a node that dies is reported, not restarted. With `--demo` it
 * feeds realistic traffic to the example channels and prints a line per
 * commit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { formatProblem } from "../core/errors.js";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import { checkCode } from "../sandbox/index.js";
import { createKeyFile, loadKeyFile } from "../node/config/index.js";
import { startDemo, type DemoHandle } from "./up-demo.js";
import { l0Ready, prepareL0, startL0Child } from "./up-l0.js";
import { freePort } from "./free-port.js";

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, "main.ts");
const READY_TIMEOUT_MS = 180_000;

export interface UpNode {
  name: string;
  pid: number;
  api: string;
  peer: string;
  config: string;
}


function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

/** The network's layout in DIR: reused when it exists, made (with free ports) when it does not. */
async function layout(dir: string, names: readonly string[]): Promise<Record<string, { api: number; peer: number }>> {
  const file = join(dir, "ports.json");
  const known = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, { api: number; peer: number }>) : {};
  for (const n of names) known[n] ??= { api: await freePort(), peer: await freePort() };
  writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`);
  return known;
}

export async function upCommand(files: readonly string[], opts: { dir: string; demo: boolean }, out: (s: string) => void): Promise<number> {
  if (files.length === 0) {
    out("statecell up: name the channel files, e.g. statecell up channels/air-quality.yaml\n");
    return 2;
  }
  const plans: ChannelPlan[] = [];
  for (const f of files) {
    const path = resolve(f);
    const source = readText(path);
    if (source === undefined) {
      out(`statecell up: cannot read ${f}\n`);
      return 1;
    }
    const r = loadChannel(source, { file: path }, { readFile: readText, checkCode });
    if (r.plan === undefined) {
      for (const p of r.problems.filter((x) => x.severity === "error")) out(`${formatProblem(p)}\n`);
      return 1;
    }
    plans.push(r.plan);
  }
  const names = [...new Set(plans.flatMap((p) => Object.values(p.groups).flatMap((g) => g.validators)))].sort();
  const dir = resolve(opts.dir);
  for (const sub of ["keys", "nodes"]) mkdirSync(join(dir, sub), { recursive: true });
  const ports = await layout(dir, names);

  // Keys (made once), the network file and one node file per validator.
  const validators: Record<string, { key: string; peer: string; api: string }> = {};
  for (const name of names) {
    const keyFile = join(dir, "keys", `${name}.key`);
    const publicKey = existsSync(keyFile) ? loadKeyFile(keyFile).publicKey : createKeyFile(keyFile).publicKey;
    validators[name] = { key: publicKey, peer: `ws://127.0.0.1:${ports[name].peer}`, api: `http://127.0.0.1:${ports[name].api}` };
  }
  // Accounts a token genesis names (not validators, not keys): a key file each, bound in the network file.
  const accounts: Record<string, string> = {};
  for (const plan of plans) {
    for (const account of Object.keys(plan.token?.genesis ?? {})) {
      if (/^[0-9a-f]{64}$/.test(account) || names.includes(account) || accounts[account] !== undefined) continue;
      const keyFile = join(dir, "keys", `${account}.key`);
      accounts[account] = existsSync(keyFile) ? loadKeyFile(keyFile).publicKey : createKeyFile(keyFile).publicKey;
    }
  }
  const networkFile = join(dir, "network.yaml");
  const network = Object.keys(accounts).length > 0 ? { network: "statecell-local", validators, keys: accounts } : { network: "statecell-local", validators };
  writeFileSync(networkFile, `# Generated by statecell up: binds the validator names of the channels' groups (and the token accounts) to keys and addresses.\n${stringify(network)}`);
  const l0 = await prepareL0(dir, freePort);
  const configs: Record<string, string> = {};
  for (const name of names) {
    const nodeDir = join(dir, "nodes", name);
    mkdirSync(nodeDir, { recursive: true });
    const hosted = plans.filter((p) => Object.values(p.groups).some((g) => g.validators.includes(name))).map((p) => p.file);
    const file = join(nodeDir, "node.yaml");
    writeFileSync(
      file,
      `# Generated by statecell up.\n${stringify({
        identity: relative(nodeDir, join(dir, "keys", `${name}.key`)),
        listen: { api: `127.0.0.1:${ports[name].api}`, peer: `127.0.0.1:${ports[name].peer}` },
        network: relative(nodeDir, networkFile),
        channels: hosted,
        data: "data",
        l0: { url: l0.url, key: l0.key },
      })}`,
    );
    configs[name] = file;
  }

  // Start every node, its output in nodes/NAME/node.log.
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const l0Child = startL0Child(MAIN, l0, dir);
  l0Child.on("exit", (code, signal) => {
    if (!stopping) out(`l0 exited (${signal ?? `code ${code}`}); see ${join(dir, "l0", "l0.log")}. Nodes keep their snapshots in the outbox until it is back: statecell l0 --config ${l0.config}\n`);
  });
  for (const name of names) {
    const log = openSync(join(dir, "nodes", name, "node.log"), "a");
    const child = spawn(process.execPath, ["--no-node-snapshot", "--import", "tsx", MAIN, "node", "--config", configs[name]], { stdio: ["ignore", log, log] });
    children.set(name, child);
    child.on("exit", (code, signal) => {
      children.delete(name);
      if (!stopping) out(`node ${name} exited (${signal ?? `code ${code}`}); see ${join(dir, "nodes", name, "node.log")}. It is not restarted: start it again with statecell node --config ${configs[name]}\n`);
    });
  }
  const upNodes: UpNode[] = names.map((name) => ({ name, pid: children.get(name)?.pid ?? 0, api: validators[name].api, peer: validators[name].peer, config: configs[name] }));
  writeFileSync(join(dir, "up.json"), `${JSON.stringify({ nodes: upNodes, l0: { pid: l0Child.pid ?? 0, api: l0.url, config: l0.config } }, null, 2)}\n`);

  let demo: DemoHandle | undefined;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    demo?.stop();
    const exits = [...children.values()].map((c) => new Promise<void>((res) => (c.exitCode !== null ? res() : c.once("exit", () => res()))));
    for (const c of children.values()) c.kill("SIGTERM");
    const timer = setTimeout(() => {
      for (const c of children.values()) c.kill("SIGKILL");
    }, 10_000);
    await Promise.all(exits);
    clearTimeout(timer);
    // L0 last: the nodes' final snapshots may still be on their way to it.
    if (l0Child.exitCode === null && l0Child.signalCode === null) {
      const l0Exit = new Promise<void>((res) => l0Child.once("exit", () => res()));
      l0Child.kill("SIGTERM");
      await l0Exit;
    }
  };

  return await new Promise<number>((finish) => {
    let done = false;
    const end = (code: number) => {
      if (done) return;
      done = true;
      void stopAll().then(() => finish(code));
    };
    process.once("SIGINT", () => end(0));
    process.once("SIGTERM", () => end(0));

    out(`starting ${names.length} nodes for ${plans.map((p) => p.channel).join(", ")} in ${dir}\n`);
    const started = Date.now();
    const waitReady = async (): Promise<void> => {
      const pending = new Set(names);
      let l0Up = false;
      while ((pending.size > 0 || !l0Up) && !done) {
        l0Up ||= await l0Ready(l0);
        if (!l0Up && (l0Child.exitCode !== null || l0Child.signalCode !== null)) {
          out(`statecell up: l0 stopped before it was ready (see ${join(dir, "l0", "l0.log")})\n`);
          end(1);
          return;
        }
        if (Date.now() - started > READY_TIMEOUT_MS) {
          out(`statecell up: not ready after ${READY_TIMEOUT_MS / 1000} s: ${[...pending].join(", ")} (see their node.log)\n`);
          end(1);
          return;
        }
        for (const name of [...pending]) {
          if (!children.has(name)) {
            out(`statecell up: node ${name} stopped before it was ready\n`);
            end(1);
            return;
          }
          try {
            const r = await fetch(`${validators[name].api}/readyz`, { signal: AbortSignal.timeout(1000) });
            if (r.status === 200) pending.delete(name);
          } catch {
            // not listening yet
          }
        }
        if (pending.size > 0 || !l0Up) await new Promise((r) => setTimeout(r, 250));
      }
      if (done) return;
      out(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s:\n`);
      for (const n of upNodes) out(`  ${n.name.padEnd(14)} api ${n.api}   peer ${n.peer}\n`);
      out(`  ${"l0".padEnd(14)} api ${l0.url}   key ${l0.key}\n`);
      out(`dashboard: ${upNodes[0].api}/ (every node serves one at /; metrics at /metrics)\n`);
      out(`wrote ${join(dir, "up.json")}; Ctrl-C stops every node\n`);
      if (opts.demo) demo = startDemo(plans, validators, out);
    };
    void waitReady();
  });
}
