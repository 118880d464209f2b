/**
 * `statecell channel SUBCOMMAND`: a running node's channels, through its
 * admin API.
 *
 *   statecell channel list    --config node.yaml
 *   statecell channel add     FILE --config node.yaml
 *   statecell channel upgrade FILE --config node.yaml
 *   statecell channel remove  NAME --config node.yaml
 *   statecell channel readiness CHANNEL.yaml   (governed upgrades: channel-upgrade.ts)
 *   statecell channel approve   CHANNEL.yaml --key FILE --at HEIGHT
 *
 * `--config` names the node file: the node's API address and its operator
 * token are read from it (so the command runs where the node runs). Or give
 * `--node URL` and the token in STATECELL_ADMIN_TOKEN. Subcommands are a
 * table: one entry per subcommand, each a function of its arguments.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatProblem } from "../core/errors.js";
import { loadNodeConfig } from "../node/config/index.js";
import { upgradeCommand } from "./channel-upgrade.js";

type Out = (s: string) => void;

export interface ChannelArgs {
  positionals: string[];
  values: { config?: string; node?: string };
}

/** The subcommands of `statecell channel`, by name. */
export const CHANNEL_SUBCOMMANDS: Record<string, { usage: string; run: (a: ChannelArgs, out: Out) => Promise<number> }> = {
  list: { usage: "statecell channel list --config node.yaml", run: (a, out) => call(a, out, "GET", "/v1/admin/channels", undefined, listText) },
  add: { usage: "statecell channel add FILE --config node.yaml", run: (a, out) => withFile(a, out, "add", (file) => call(a, out, "POST", "/v1/admin/channels", { file }, doneText("added"))) },
  upgrade: {
    usage: "statecell channel upgrade FILE [NAME] --config node.yaml",
    run: (a, out) =>
      withFile(a, out, "upgrade", async (file) => {
        // The channel's name is the file's unless given; the node checks they agree.
        const name = a.positionals[1] ?? (await nameOf(file));
        if (name === undefined) {
          out(`statecell channel upgrade: cannot read the channel name from ${file}; give it: statecell channel upgrade FILE NAME\n`);
          return 1;
        }
        return call(a, out, "PUT", `/v1/admin/channels/${encodeURIComponent(name)}`, { file }, doneText("upgraded"));
      }),
  },
  remove: {
    usage: "statecell channel remove NAME --config node.yaml",
    run: async (a, out) => {
      const name = a.positionals[0];
      if (name === undefined) {
        out("statecell channel remove: name the channel: statecell channel remove NAME --config node.yaml\n");
        return 2;
      }
      return call(a, out, "DELETE", `/v1/admin/channels/${encodeURIComponent(name)}`, undefined, doneText("removed"));
    },
  },
};

export function channelUsage(): string {
  return `usage:\n${Object.values(CHANNEL_SUBCOMMANDS)
    .map((s) => `  ${s.usage}`)
    .join("\n")}\n  statecell channel readiness CHANNEL.yaml [--l0 URL]\n  statecell channel approve CHANNEL.yaml --key FILE --at HEIGHT [--l0 URL]\n(or --node URL with the token in STATECELL_ADMIN_TOKEN instead of --config)\n`;
}

export async function channelCommand(argv: readonly string[], out: Out): Promise<number> {
  const [sub, ...rest] = argv;
  // Governed upgrades talk to L0, not to a node's admin API.
  if (sub === "readiness" || sub === "approve") return upgradeCommand(sub, rest, out);
  const entry = sub === undefined ? undefined : CHANNEL_SUBCOMMANDS[sub];
  if (entry === undefined) {
    out(`statecell channel: ${sub === undefined ? "name a subcommand" : `unknown subcommand "${sub}"`}\n${channelUsage()}`);
    return 2;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], allowPositionals: true, options: { config: { type: "string" }, node: { type: "string" } } });
  } catch (e) {
    out(`statecell channel ${sub}: ${(e as Error).message}\n${channelUsage()}`);
    return 2;
  }
  return entry.run({ positionals: parsed.positionals, values: parsed.values }, out);
}

async function withFile(a: ChannelArgs, out: Out, sub: string, f: (file: string) => Promise<number>): Promise<number> {
  const file = a.positionals[0];
  if (file === undefined) {
    out(`statecell channel ${sub}: name the channel file: ${CHANNEL_SUBCOMMANDS[sub].usage}\n`);
    return 2;
  }
  return f(resolve(file));
}

async function nameOf(file: string): Promise<string | undefined> {
  const { loadChannelFile } = await import("../node/channel-admin.js");
  const r = loadChannelFile(file);
  if ("plan" in r) return r.plan.channel;
  // A file that does not load: its problems come back from the node, as the reload refused.
  const m = /^channel:\s*([A-Za-z0-9_.-]+)\s*$/m.exec((await import("node:fs")).readFileSync(file, "utf8"));
  return m?.[1];
}

/** The node's API address and token, from --config or --node with STATECELL_ADMIN_TOKEN. */
function target(a: ChannelArgs, out: Out): { url: string; token: string } | undefined {
  if (a.values.config !== undefined) {
    const loaded = loadNodeConfig(a.values.config);
    if (!loaded.config) {
      for (const p of loaded.problems) out(`${formatProblem(p)}\n`);
      return undefined;
    }
    const { host, port } = loaded.config.listen.api;
    const h = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "[::1]" : host.includes(":") ? `[${host}]` : host;
    if (loaded.config.token === undefined) {
      out(`statecell channel: the node file ${a.values.config} has no \`token\`: the node's admin API is off (NODE_ADMIN_DISABLED)\n  fix: add token: (32 to 512 characters) to the node file, chmod 600 it, restart the node\n`);
      return undefined;
    }
    return { url: `http://${h}:${port}`, token: loaded.config.token };
  }
  if (a.values.node !== undefined) {
    const token = process.env.STATECELL_ADMIN_TOKEN;
    if (token === undefined || token === "") {
      out("statecell channel: with --node, put the operator token in STATECELL_ADMIN_TOKEN (or use --config node.yaml)\n");
      return undefined;
    }
    return { url: a.values.node.replace(/\/+$/, ""), token };
  }
  out(`statecell channel: say which node: --config node.yaml (or --node URL)\n${channelUsage()}`);
  return undefined;
}

async function call(a: ChannelArgs, out: Out, method: string, path: string, body: unknown, text: (json: any) => string): Promise<number> {
  const t = target(a, out);
  if (t === undefined) return 2;
  let r: Response;
  try {
    r = await fetch(`${t.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${t.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    out(`statecell channel: the node at ${t.url} does not answer (${e instanceof Error ? e.message : String(e)})\n  fix: start it (statecell node --config ...), or check its address\n`);
    return 1;
  }
  let json: any;
  try {
    json = await r.json();
  } catch {
    out(`statecell channel: the node answered ${r.status} without JSON\n`);
    return 1;
  }
  if (!r.ok) {
    out(`${json.code ?? `HTTP ${r.status}`}: ${json.message ?? ""}\n`);
    for (const p of (json.problems as string[] | undefined) ?? []) out(`${p}\n`);
    if (json.remedy) out(`  fix: ${json.remedy}\n`);
    return 1;
  }
  out(text(json));
  return 0;
}

const doneText = (what: string) => (j: { channel: string; version: number; hash: string; unchanged?: boolean; activation?: number; atSnapshot?: number }) =>
  j.unchanged
    ? `${j.channel} v${j.version} is already ${j.activation !== undefined ? `staged (in force from block ${j.activation})` : "running"} (same definition)\n`
    : j.activation !== undefined
      ? `staged ${j.channel} v${j.version} (${j.hash.slice(0, 12)}…): in force from block ${j.activation} in every cell${j.atSnapshot !== undefined ? `, named by snapshots from ${j.atSnapshot} on (L0 scheduled it)` : ""}; the running version commits until then\n`
      : `${what} ${j.channel} v${j.version} (${j.hash.slice(0, 12)}…)\n`;

function listText(j: { channels: Array<{ channel: string; version: number; status: string; cells: Array<{ cell: string; height: number }>; lastError: { code: string; message: string } | null }> }): string {
  if (j.channels.length === 0) return "this node hosts no channel\n";
  return j.channels
    .map((c) => {
      const heights = c.cells.map((x) => `${x.cell}@${x.height}`).join(" ");
      return `${c.channel.padEnd(20)} v${String(c.version).padEnd(4)} ${c.status.padEnd(9)} ${heights}${c.lastError ? `\n  last error: ${c.lastError.code}: ${c.lastError.message}` : ""}\n`;
    })
    .join("");
}
