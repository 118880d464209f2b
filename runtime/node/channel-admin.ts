/**
 * Adding, upgrading and removing a running node's channels (the admin API,
 * `statecell channel`, and `--watch` all come here). A channel file is
 * loaded and linted before anything changes; a file that does not load is
 * refused with its problems, logged, counted
 * (statecell_reload_failures_total) and recorded as the channel's last
 * error, and the running version goes on. An upgrade must name the same
 * channel with a higher version; the node builds it (validators checked,
 * code compiled) before it stops the old one (HostedChannels.replace).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { formatProblem, isStatecellError, StatecellError } from "../core/errors.js";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import { checkCode } from "../sandbox/index.js";
import type { Logger } from "./log.js";
import type { HostedChannels } from "./node.js";
import type { Operations } from "./operations.js";
import type { ChannelStore } from "./channel-store.js";
import { definitionText, upgradeShapeProblem, type DefinitionText } from "./versions.js";
import type { ScheduleAnswer } from "./l0/upgrade-schedule.js";

/** The largest channel file the admin API reads (the loader's own bound is the same order). */
const MAX_PROBLEMS_SHOWN = 50;

/** An admin operation's outcome: what the API answers. */
export type AdminOutcome =
  | { ok: true; status: 200 | 201; channel: string; version: number; hash: string; unchanged?: boolean; activation?: number; atSnapshot?: number }
  | { ok: false; status: number; code: string; message: string; remedy: string; problems?: string[] };

export interface ChannelAdmin {
  add(file: string): AdminOutcome;
  /** Resolves, never rejects; a version with `activation:` waits for L0's answer first when the node has an L0. */
  upgrade(channel: string | undefined, file: string): Promise<AdminOutcome>;
  remove(channel: string): AdminOutcome;
}

type Refusal = AdminOutcome & { ok: false };

function refuse(status: number, code: string, message: string, remedy: string, problems?: string[]): Refusal {
  return { ok: false, status, code, message, remedy, ...(problems !== undefined ? { problems } : {}) };
}

/**
 * The plan of the channel file at `file`, or its problems (never throws for
 * what the file holds). `sources` gets every file the loader read, by the
 * path it asked for (the node remembers them, channel-store.ts).
 */
export function loadChannelFile(file: string, sources?: Map<string, string>): { plan: ChannelPlan; path: string; text: DefinitionText } | { problems: string[] } {
  const path = resolve(file);
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch {
    return { problems: [`${path}: the channel file cannot be read (no such file, or not readable by the node)`] };
  }
  sources?.set(path, source);
  const readFile = (p: string): string | undefined => {
    try {
      const text = readFileSync(p, "utf8");
      sources?.set(p, text);
      return text;
    } catch {
      return undefined;
    }
  };
  const r = loadChannel(source, { file: path }, { readFile, checkCode });
  const errors = r.problems.filter((p) => p.severity === "error");
  if (r.plan === undefined || errors.length > 0) return { problems: (errors.length > 0 ? errors : r.problems).slice(0, MAX_PROBLEMS_SHOWN).map((p) => formatProblem(p)) };
  return { plan: r.plan, path, text: definitionText(r.plan, source) };
}

export function channelAdmin(deps: {
  node: string;
  channels: HostedChannels;
  ops: Operations;
  log: Logger;
  store?: ChannelStore;
  /** With an L0: whether it scheduled the upgrade from definition `from` to `plan` (upgrade-schedule.ts). Without, staging is the operator's say-so. */
  schedule?: (plan: ChannelPlan, from: string) => Promise<ScheduleAnswer>;
}): ChannelAdmin {
  const { channels, ops, log } = deps;
  const find = (name: string): ChannelPlan | undefined => channels.plans().find((p) => p.channel === name);

  /** A refused reload: logged, counted, kept as the channel's last error. */
  const failed = (channel: string, o: Refusal): AdminOutcome => {
    ops.metrics.reload(channel, false);
    if (find(channel) !== undefined) ops.error(channel, o.code, o.message);
    log.warn("channel reload refused", { channel, code: o.code, error: o.message, problems: o.problems?.length });
    return o;
  };

  const load = (file: string, channel: string): { plan: ChannelPlan; path: string; text: DefinitionText; sources: Map<string, string> } | AdminOutcome => {
    const sources = new Map<string, string>();
    const r = loadChannelFile(file, sources);
    if ("problems" in r) {
      return failed(channel, refuse(422, "NODE_CHANNEL_INVALID", `the channel file ${file} does not load: ${r.problems.length} problem(s)`, "fix the file at the places named (statecell lint FILE shows them), then send it again; the running version goes on", r.problems));
    }
    const here = Object.values(r.plan.groups).some((g) => g.validators.includes(deps.node));
    if (!here) return failed(r.plan.channel, refuse(422, "NODE_CHANNEL_NOT_HERE", `no group of ${r.plan.channel} names this node's validator ${deps.node}`, "add the validator to a group of the channel, or send the file to a node whose validator it names"));
    return { ...r, sources };
  };

  /**
   * Remembers a change for the next start (channel-store.ts) before it is
   * answered; when it cannot be written, `undo` puts the node back as it
   * was and the change is refused, so an answered change is never lost.
   */
  const remember = (what: () => void, undo: () => void, channel: string): Refusal | undefined => {
    if (deps.store === undefined) return undefined;
    try {
      what();
      return undefined;
    } catch (e) {
      undo();
      const err = e instanceof StatecellError ? e : new StatecellError("NODE_CHANNEL_NOT_STORED", String(e), { remedy: "check the data folder, then send it again" });
      log.error("channel change not stored", { channel, code: err.code, error: err.message });
      return refuse(500, err.code, err.message, err.remedy ?? "check the data folder, then send it again");
    }
  };

  const apply = (what: string, plan: ChannelPlan, f: () => void, status: 200 | 201): AdminOutcome => {
    try {
      f();
    } catch (e) {
      const code = isStatecellError(e) ? e.code : "NODE_CHANNEL_INVALID";
      const message = e instanceof Error ? e.message : String(e);
      return failed(plan.channel, refuse(code === "NODE_UPGRADE_TOO_LATE" ? 409 : 422, code, `${plan.channel} v${plan.version} cannot run here: ${message}`, isStatecellError(e) && e.remedy ? e.remedy : "fix the channel or the network file, then send it again"));
    }
    ops.metrics.reload(plan.channel, true);
    log.info(`channel ${what}`, { channel: plan.channel, version: plan.version, hash: plan.hash });
    return { ok: true, status, channel: plan.channel, version: plan.version, hash: plan.hash };
  };

  return {
    add(file) {
      const r = load(file, "(new)");
      if ("ok" in r) return r;
      const { plan } = r;
      if (find(plan.channel) !== undefined) {
        return refuse(409, "NODE_CHANNEL_EXISTS", `this node already hosts ${plan.channel}`, "upgrade it (statecell channel upgrade FILE, PUT /v1/admin/channels/NAME), or remove it first");
      }
      const o = apply("added", plan, () => channels.add(plan), 201);
      if (!o.ok) return o;
      return remember(() => deps.store!.saved(plan, r.path, r.sources), () => channels.remove(plan.channel), plan.channel) ?? o;
    },
    async upgrade(channel, file) {
      const r = load(file, channel ?? "(unknown)");
      if ("ok" in r) return r;
      const { plan } = r;
      const name = channel ?? plan.channel;
      if (plan.channel !== name) {
        return failed(name, refuse(409, "NODE_CHANNEL_MISMATCH", `the file declares channel ${plan.channel}, not ${name}`, "send the file of the channel named in the URL"));
      }
      const running = find(name);
      if (running === undefined) return refuse(404, "NODE_CHANNEL_UNKNOWN", `this node does not host ${name}`, "add it (statecell channel add FILE, POST /v1/admin/channels)");
      // The newest version here, running or staged: an upgrade must be above it.
      const versions = channels.versions(name);
      const same = versions.find((v) => v.plan.hash === plan.hash);
      if (same !== undefined) return { ok: true, status: 200, channel: name, version: same.plan.version, hash: same.plan.hash, unchanged: true, ...(same.from > 1 ? { activation: same.from } : {}) };
      const old = versions[versions.length - 1].plan;
      if (plan.version <= old.version) {
        return failed(name, refuse(409, "NODE_CHANNEL_NOT_NEWER", `${name} has version ${old.version}${versions.length > 1 ? " (staged)" : ""}; the file is version ${plan.version} with other content`, `raise \`version:\` above ${old.version} for a changed definition`));
      }
      // With `activation:` the new version is staged (in the ledger, with its text) and every cell switches at
      // that block; without, this node swaps at once.
      if (plan.activation !== undefined) {
        // What the node can tell by itself first, so an operator does not get an upgrade approved that cannot run.
        const shape = upgradeShapeProblem(versions[0].plan, plan);
        if (shape !== undefined) return apply("staged", plan, () => channels.stage(plan, r.text), 200);
        let atSnapshot: number | undefined;
        if (deps.schedule !== undefined) {
          const answer = await deps.schedule(plan, old.hash);
          if (!answer.ok) return failed(name, refuse(answer.code === "NODE_L0_UNREACHABLE" ? 503 : 409, answer.code, `${name} v${plan.version} is not staged: ${answer.message}`, answer.remedy));
          atSnapshot = answer.schedule.atSnapshot;
        }
        const o = apply("staged", plan, () => channels.stage(plan, r.text, atSnapshot), 200);
        return o.ok ? { ...o, activation: plan.activation, ...(atSnapshot !== undefined ? { atSnapshot } : {}) } : o;
      }
      // A channel that sends snapshots to L0 changes definition only where L0 scheduled it: at a height every node shares.
      if (deps.schedule !== undefined && running.snapshots !== undefined) {
        return failed(name, refuse(409, "NODE_UPGRADE_NEEDS_ACTIVATION", `${name} sends its snapshots to L0, which holds ${old.hash.slice(0, 12)}… in force: a new definition swapped in at once would have every later snapshot refused (L0_DEFINITION), and nodes swapping at different moments would judge blocks differently`, `add \`activation: H\` (a block height ahead of the cells) to version ${plan.version}, have L0 schedule the upgrade (statecell channel approve FILE --key KEYFILE --at SNAPSHOT_HEIGHT), then send the file to every node`));
      }
      const o = apply("upgraded", plan, () => channels.replace(plan), 200);
      if (!o.ok) return o;
      return remember(() => deps.store!.saved(plan, r.path, r.sources), () => channels.replace(running), name) ?? o;
    },
    remove(channel) {
      if (find(channel) === undefined) return refuse(404, "NODE_CHANNEL_UNKNOWN", `this node does not host ${channel.slice(0, 128)}`, "GET /v1/channels lists the hosted channels");
      const old = find(channel)!;
      channels.remove(channel);
      const notStored = remember(() => deps.store!.removed(channel), () => channels.add(old), channel);
      if (notStored !== undefined) return notStored;
      log.info("channel removed", { channel, version: old.version });
      return { ok: true, status: 200, channel, version: old.version, hash: old.hash };
    },
  };
}

/** A StatecellError for a refused outcome (the CLI and --watch report it). */
export function outcomeError(o: AdminOutcome & { ok: false }): StatecellError {
  return new StatecellError(o.code, o.problems ? `${o.message}\n${o.problems.join("\n")}` : o.message, { remedy: o.remedy });
}
