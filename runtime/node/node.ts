/**
 * A validator node: the composition of everything below it. It loads its
 * identity, the network file and the channels it hosts, opens its ledger,
 * joins (for each hosted channel) the groups its validator belongs to, peers
 * with the other validators over authenticated WebSockets, carries outputs
 * between cells, and serves clients (docs/api.md).
 *
 *   const node = await startNode(config, { log });
 *   node.api.url;       // http://127.0.0.1:PORT
 *   await node.stop();  // drivers stopped, sockets closed, ledger closed
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { StatecellError, formatProblem } from "../core/errors.js";
import type { Json } from "../core/canonical.js";
import type { KeyPair } from "../core/keys.js";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import { checkCode, createCodeRunner, type CodeRunner } from "../sandbox/index.js";
import { cachingVerifier, validatorSet, type CertifiedBlock, type SentOutput, type ValidatorSet } from "../consensus/index.js";
import { openLedger, type Ledger } from "../ledger/index.js";
import { createPeerNetwork, STATECELL_CHANNELS, type PeerNetwork } from "../net/index.js";
import { createApiServer, type ApiServer } from "./api/index.js";
import { loadKeyFile, loadNetwork, type NetworkConfig, type NodeConfig } from "./config/index.js";
import type { NodeCore, NodeEvent, Readiness, SubmitResult } from "./core-types.js";
import { statusOf } from "./group-host.js";
import { CellHost } from "./cell-host.js";
import { TokenHost, tokenCodec, TOKEN_CELL } from "./token-host.js";
import { TokenFollower } from "./token-follower.js";
import { cellReadsToken } from "../cells/index.js";
import { formatBaseUnits, genesisTokenState, tokenConfig, tokenStateRoot, type TokenConfig } from "../token/index.js";
import { DeliveryStore, servedDeliveries } from "./deliveries.js";
import { encodeWire, MAX_OUTPUT_BLOCKS, parseWire } from "./wire.js";
import { createLogger, type Logger } from "./log.js";
import { createOperations, type Operations } from "./operations.js";
import { checkMemoryQuota, Quotas } from "./quotas.js";
import { openChannelStore } from "./channel-store.js";
import { channelAdmin, type ChannelAdmin } from "./channel-admin.js";
import { adminRoutes } from "./api/admin-routes.js";
import { tokenRoutes, type TokenLookup } from "./api/token-routes.js";
import { attachSnapshots, scheduledUpgrade, type NodeSnapshots } from "./l0/index.js";
import { l0Client, type L0Client } from "../l0/client.js";
import { exportSource } from "./l0/export-source.js";
import { definitionText, planOfStored, upgradeShapeProblem, versionsInForce, type DefinitionText, type VersionAt } from "./versions.js";

/** How often a downstream cell asks its upstream cells' validators for outputs it lacks (ms). */
const PULL_INTERVAL_MS = 500;
/** Least time between two token pulls a value naming a missing token height triggers (ms). */
const TOKEN_PULL_MIN_MS = 100;
/** Bytes of token blocks one answer carries at most (the outputs channel's frames are 1 MiB). */
const TOKEN_ANSWER_BYTES = 768 * 1024;

export interface NodeOptions {
  log?: Logger;
  /** Called when a group stops because this node is broken (the process should exit loudly). */
  onFatal?: (error: unknown) => void;
}

/** Adds, replaces and removes hosted channels on a running node. */
export interface HostedChannels {
  plans(): ChannelPlan[];
  /** Hosts a new channel. @throws StatecellError NODE_CONFIG_INVALID when a validator it names is not in the network file. */
  add(plan: ChannelPlan): void;
  /**
   * Swaps in a new version: prepared (runners compiled, validators checked)
   * before the old one stops; in one turn of the event loop, so no request
   * sees the channel missing; the mempool and chain are the ledger's, kept.
   * @throws and leaves the old version running when the new one cannot be prepared.
   */
  replace(plan: ChannelPlan): void;
  /** Stops hosting a channel (its ledger rows are kept). */
  remove(channel: string): void;
  /**
   * Stages `plan` to come into force at block `plan.activation` in every cell:
   * built now (runners compiled, validators checked), stored in the ledger
   * with its text, and run by each cell host from that height on.
   * @throws StatecellError NODE_UPGRADE_SHAPE, NODE_UPGRADE_TOO_LATE, and the old version runs on
   */
  stage(plan: ChannelPlan, text: DefinitionText, atSnapshot?: number): void;
  /** Every version of `channel` here with the height it is in force from (the first from 1), and the snapshot height from which L0 holds it in force when L0 scheduled it. */
  versions(channel: string): Array<{ from: number; plan: ChannelPlan; atSnapshot?: number }>;
}

export interface RunningNode {
  name: string;
  publicKey: string;
  core: NodeCore;
  api: { url: string };
  peer: { url: string };
  hosts: ReadonlyArray<CellHost | TokenHost>;
  /** Metrics, the dashboard's view and the operator's routes. */
  ops: Operations;
  /** The hosted channels, changed while the node runs (the admin API and --watch drive it). */
  channels: HostedChannels;
  /** Checked add, upgrade and remove (what the admin API and --watch call). */
  admin: ChannelAdmin;
  /** Stops admission: submissions are refused with NODE_SHUTTING_DOWN and /readyz says so; the groups go on. */
  drain(): void;
  /** Snapshot groups and delivery to L0 (docs/node.md, "Snapshots and L0"). */
  snapshots: NodeSnapshots;
  stop(): Promise<void>;
}

/** A node config that cannot start, with every problem found. */
function configProblem(what: string, problems: readonly { code: string; message: string }[] | string): StatecellError {
  const text = typeof problems === "string" ? problems : problems.map((p) => formatProblem(p as Parameters<typeof formatProblem>[0])).join("\n");
  return new StatecellError("NODE_CONFIG_INVALID", `${what}:\n${text}`, { remedy: "fix the file at the places named, then start the node again" });
}

/**
 * The snapshot height from which L0 holds each later version in force, for
 * the versions the ledger does not know it of (kept once learnt). A version
 * new in the node file that L0 has not scheduled stops the start (an
 * upgrade takes effect only once L0 registered it); for one staged before,
 * the node starts and says so, and its snapshots go on naming the version
 * before it.
 * @throws StatecellError NODE_UPGRADE_NOT_SCHEDULED, NODE_L0_UNREACHABLE (the ledger is closed first)
 */
/** How long a starting node waits for an L0 that does not answer yet, before it gives up on a version L0 must have scheduled (ms). */
const L0_START_WAIT_MS = 30_000;

async function learnSchedules(initial: VersionAt[][], client: L0Client, ledger: Ledger, storedBefore: ReadonlySet<string>, log: Logger): Promise<void> {
  for (const vs of initial) {
    for (let i = 1; i < vs.length; i++) {
      const v = vs[i];
      if (v.atSnapshot !== undefined) continue;
      // L0 may be starting beside the nodes (statecell up starts both at once): an L0 that does not answer is asked again for a while.
      let a = await scheduledUpgrade(client, v.plan.channel, vs[i - 1].plan.hash, v.plan.hash);
      for (const until = Date.now() + L0_START_WAIT_MS; !a.ok && a.code === "NODE_L0_UNREACHABLE" && !storedBefore.has(v.plan.hash) && Date.now() < until; ) {
        await new Promise((r) => setTimeout(r, 500));
        a = await scheduledUpgrade(client, v.plan.channel, vs[i - 1].plan.hash, v.plan.hash);
      }
      if (a.ok) {
        ledger.versions.schedule(v.plan.channel, v.plan.hash, a.schedule.atSnapshot);
        v.atSnapshot = a.schedule.atSnapshot;
        continue;
      }
      if (storedBefore.has(v.plan.hash)) {
        log.warn("staged version not scheduled by L0", { channel: v.plan.channel, version: v.plan.version, code: a.code, error: a.message });
        continue;
      }
      ledger.close();
      throw new StatecellError(a.code, `version ${v.plan.version} of ${v.plan.channel} (activation: ${v.from}) is in the node file, but ${a.message}`, { remedy: `${a.remedy}; or leave it out of the node file` });
    }
  }
}

function loadPlan(file: string): { plan: ChannelPlan; text: DefinitionText } {
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch {
    throw configProblem(`the channel file ${file} cannot be read`, "no such file");
  }
  const readFile = (p: string): string | undefined => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return undefined;
    }
  };
  const { plan, problems } = loadChannel(source, { file }, { readFile, checkCode });
  if (plan === undefined) throw configProblem(`the channel file ${file} does not load`, problems.filter((p) => p.severity === "error"));
  return { plan, text: definitionText(plan, source) };
}

/** The group that runs `cell` of `plan`: the token's for the built-in token cell. */
function groupOf(plan: ChannelPlan, cell: string): string {
  if (cell === TOKEN_CELL && plan.token !== undefined) return plan.token.group;
  return plan.cells[cell].group;
}

/** What a channel needs built before it is hosted: its cells' code runners and its token's configuration. */
interface Prepared {
  runners: Map<string, CodeRunner>;
  token: TokenConfig | undefined;
}

/** Validator keys of a group, by name, from the network file. */
function groupKeys(plan: ChannelPlan, groupName: string, network: NetworkConfig): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const name of plan.groups[groupName].validators) {
    const v = network.byName.get(name);
    if (v === undefined) {
      throw configProblem(`channel ${plan.channel}, group ${groupName}`, `the validator "${name}" is not in the network file ${network.file}`);
    }
    keys[name] = v.key;
  }
  return keys;
}

export async function startNode(config: NodeConfig, opts: NodeOptions = {}): Promise<RunningNode> {
  const identity: KeyPair = loadKeyFile(config.identity);
  const net = loadNetwork(config.network);
  if (!net.config) throw configProblem(`the network file ${config.network} does not load`, net.problems);
  const network = net.config;
  const me = network.byKey.get(identity.publicKey);
  if (me === undefined) {
    throw new StatecellError("NODE_NOT_IN_NETWORK", `this node's key ${identity.publicKey.slice(0, 16)}… is not a validator of the network file ${network.file}`, {
      remedy: "add the validator with this key to the network file, or start the node with the key file of a validator it names",
    });
  }
  const myName = me.name;
  const log = (opts.log ?? createLogger()).child({ node: me.name });
  // The node file's channels, with what the admin API added, upgraded and removed before (channel-store.ts).
  const store = openChannelStore(config.data, log);
  const fromFile = config.channels.map(loadPlan);
  // A node file may list several versions of one channel (its history, for a node that starts without it): the newest is hosted.
  const newest = fromFile.filter((l) => !fromFile.some((o) => o.plan.channel === l.plan.channel && o.plan.version > l.plan.version));
  const startPlans = store.plansAtStart(newest.map((l) => l.plan));
  mkdirSync(config.data, { recursive: true });
  const ledger: Ledger = openLedger(join(config.data, "ledger.sqlite"));
  /** Definition texts by plan hash (the export and the ledger's versions carry them). */
  const texts = new Map<string, DefinitionText>();
  /** Stores a version's text and activation, once per hash. */
  const storeVersion = (plan: ChannelPlan, text: DefinitionText, from: number, atSnapshot?: number): void => {
    texts.set(plan.hash, text);
    ledger.versions.put({ channel: plan.channel, hash: plan.hash, version: plan.version, activation: from, ...text, ...(atSnapshot !== undefined ? { atSnapshot } : {}) });
  };
  /**
   * The versions a channel runs here, by height: the one it starts with
   * (stored on first start when its text is known) and those the ledger holds
   * from staged upgrades, so a restarted node at any height runs the version
   * in force at that height.
   */
  const versionsOfPlan = (plan: ChannelPlan, text: DefinitionText | undefined): VersionAt[] => {
    if (text !== undefined) storeVersion(plan, text, plan.activation ?? 1);
    const all: VersionAt[] = [];
    const stored = ledger.versions.list(plan.channel);
    for (const v of stored) {
      if (v.hash === plan.hash) continue;
      const p = planOfStored(v);
      if (typeof p === "string") throw configProblem(`version ${v.version} of ${v.channel} in the ledger (in force from block ${v.activation})`, `it does not load: ${p}`);
      texts.set(p.hash, { file: v.file, source: v.source, code: v.code });
      all.push({ from: v.activation, plan: p, ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) });
    }
    const own = stored.find((v) => v.hash === plan.hash);
    all.push({ from: own?.activation ?? plan.activation ?? 1, plan, ...(own?.atSnapshot !== undefined ? { atSnapshot: own.atSnapshot } : {}) });
    // A version that takes over at a block needs the one before it: without it, this node would run the new rules from block 1.
    const first = [...all].sort((a, b) => a.from - b.from)[0];
    if (first.from > 1) {
      throw new StatecellError("NODE_VERSION_HISTORY", `version ${first.plan.version} of ${plan.channel} takes over at block ${first.from} (activation: ${first.from}), and this node has no version of ${plan.channel} before it`, {
        remedy: `list the channel's earlier file(s) in the node file too (channels: [${plan.channel}-v${first.plan.version - 1}.yaml, ...]), so the blocks below ${first.from} are judged by the rules they were decided with`,
      });
    }
    return versionsInForce(all);
  };
  /** The versions each channel's ledger held before this start (a version new in the node file must be scheduled by L0). */
  const storedBefore = new Set(fromFile.flatMap((l) => ledger.versions.list(l.plan.channel).map((v) => v.hash)));
  // Earlier versions of a channel the node file lists beside a later one are stored first (a new node learns its history from them).
  for (const l of fromFile) if (!newest.includes(l)) storeVersion(l.plan, l.text, l.plan.activation ?? 1);
  const initial = startPlans.map((plan) => versionsOfPlan(plan, fromFile.find((l) => l.plan.hash === plan.hash)?.text));
  if (config.l0 !== undefined) await learnSchedules(initial, l0Client(config.l0.url, { timeoutMs: 5_000 }), ledger, storedBefore, log);
  const plans = initial.map((vs) => vs[0].plan);
  const ops = createOperations({ node: me.name, plans: initial.map((vs) => vs[vs.length - 1].plan), log });
  const quotas = new Quotas(config.quotas, undefined, (channel, cell, code, n) => ops.metrics.refused(channel, cell, code, undefined, n), (channel) => ledger.channelBytes(channel), {
    ledgerFull: (channel, bytes, quota) => log.warn("channel ledger quota reached", { channel, code: "NODE_QUOTA_LEDGER", bytes, quota, why: "its submissions are refused until the quota is raised; the other channels go on" }),
    ledgerRoom: (channel, bytes, quota) => log.info("channel under its ledger quota again", { channel, bytes, quota }),
  });

  const verifier = cachingVerifier();
  const hosts = new Map<string, CellHost | TokenHost>();
  /** Each hosted channel's token configuration (names bound to keys), for its host and its snapshots. */
  const tokenConfigs = new Map<string, TokenConfig>();
  const stores = new Map<string, DeliveryStore>();
  /** Per channel whose token a cell here reads: the token as this node follows it (token-follower.ts). */
  const followers = new Map<string, TokenFollower>();
  const runners = new Map<string, CodeRunner>();
  const sets = new Map<string, ValidatorSet>();
  const listeners = new Set<(e: NodeEvent) => void>();
  const allowed = new Set<string>();
  /** The first version of each hosted channel (its cells, groups and pipeline hold for every version). */
  const planOf = new Map<string, ChannelPlan>();
  /** The version the view shows per channel (the newest any cell here runs). */
  const shown = new Map<string, number>();
  /** The later versions of each hosted channel, with their activation heights and prepared runners. */
  const later = new Map<string, Array<{ from: number; plan: ChannelPlan; built: Map<string, CodeRunner>; atSnapshot?: number }>>();
  let peerNet: PeerNetwork | undefined;
  const connected = new Set<string>();
  const fatal = (e: unknown): void => {
    log.error("group stopped: this node is broken", { error: e instanceof Error ? e.message : String(e), code: e instanceof StatecellError ? e.code : undefined });
    opts.onFatal?.(e);
  };
  const send = (peer: string, channel: string, bytes: Uint8Array): void => {
    peerNet?.send(peer, channel, bytes);
  };

  /** The key a token genesis name stands for: a validator's, or an account the network file binds (`keys:`). */
  const accountKey = (name: string): string | undefined => network.byName.get(name)?.key ?? network.accounts.get(name);
  const setOf = (plan: ChannelPlan, cell: string): ValidatorSet => {
    const key = `${plan.channel}/${cell}`;
    let s = sets.get(key);
    const group = groupOf(plan, cell);
    if (s === undefined) sets.set(key, (s = validatorSet(plan.groups[group], groupKeys(plan, group, network))));
    return s;
  };

  /**
   * What a channel needs before it is hosted, built while any older version
   * keeps running: its validator sets (every validator named must be in the
   * network file) and the code runners of the cells here (their isolates
   * compile the code). Throws, having hosted nothing, when it cannot.
   */
  function prepare(plan: ChannelPlan): Prepared {
    const built = new Map<string, CodeRunner>();
    let token: TokenConfig | undefined;
    const quota = quotas.quotaOf(plan.channel);
    checkMemoryQuota(plan, plan.order.filter((c) => plan.groups[plan.cells[c].group].validators.includes(myName)), quota);
    try {
      if (plan.token !== undefined) {
        groupKeys(plan, plan.token.group, network);
        try {
          token = tokenConfig(plan, accountKey);
        } catch (e) {
          throw configProblem(`channel ${plan.channel}, token`, e instanceof StatecellError ? `${e.code}: ${e.message}; ${e.remedy ?? ""}` : String(e));
        }
      }
      for (const cellName of plan.order) {
        const cell = plan.cells[cellName];
        groupKeys(plan, cell.group, network);
        if (!plan.groups[cell.group].validators.includes(myName)) continue;
        if (cell.code !== undefined && cell.code.hooks.length > 0) {
          built.set(cellName, ops.timed(plan.channel, cellName, createCodeRunner({ name: `${plan.channel}/${cellName}`, source: cell.code.source, file: cell.code.path, limits: cell.limits, maxOutputChars: plan.outputLimits.perInputBytes, ...(quota.sandboxBlockTimeMs !== undefined ? { proposerBlockTimeMs: quota.sandboxBlockTimeMs } : {}) })));
        }
      }
    } catch (e) {
      for (const r of built.values()) r.dispose();
      throw e;
    }
    return { runners: built, token };
  }

  /** The validators this node peers with: every other validator of its channels' groups. */
  function peersOfPlans(): Set<string> {
    const keys = new Set<string>();
    for (const plan of planOf.values()) {
      for (const g of Object.values(plan.groups)) for (const name of g.validators) {
        const v = network.byName.get(name);
        if (v !== undefined && v.key !== identity.publicKey) keys.add(v.key);
      }
    }
    return keys;
  }

  /** Peers with the validators of the hosted channels, and only them. */
  function repeer(): void {
    const want = peersOfPlans();
    for (const k of want) {
      if (allowed.has(k)) continue;
      allowed.add(k);
      const v = network.byKey.get(k);
      if (peerNet !== undefined && v !== undefined) peerNet.addPeer(k, v.peer);
    }
    for (const k of [...allowed]) {
      if (want.has(k)) continue;
      allowed.delete(k);
      peerNet?.removePeer(k);
    }
    peerNet?.recheckAllowed();
  }

  /** Hosts `plan` with its prepared runners and token (and its later versions): one host per cell whose group names this node, the token cell's included. */
  function hostPlan(plan: ChannelPlan, prepared: Prepared, versions: Array<{ from: number; plan: ChannelPlan; built: Map<string, CodeRunner>; atSnapshot?: number }> = []): Array<CellHost | TokenHost> {
    const built = prepared.runners;
    planOf.set(plan.channel, plan);
    later.set(plan.channel, versions);
    if (prepared.token !== undefined) tokenConfigs.set(plan.channel, prepared.token);
    else tokenConfigs.delete(plan.channel);
    repeer();
    const made: Array<CellHost | TokenHost> = [];
    const inTokenGroup = plan.token !== undefined && plan.groups[plan.token.group].validators.includes(myName);
    // The token follower comes first: the cells that read the token replay their blocks with it at start.
    const mine = (p: ChannelPlan) => p.order.filter((c) => p.groups[p.cells[c].group].validators.includes(myName));
    const reads = [plan, ...versions.map((v) => v.plan)].some((p) => mine(p).some((c) => cellReadsToken(p, c)));
    let follower: TokenFollower | undefined;
    if (plan.token !== undefined && prepared.token !== undefined && reads) {
      follower = new TokenFollower({
        plan,
        config: prepared.token,
        validators: setOf(plan, TOKEN_CELL),
        verifier,
        ledger: ledger.chain(plan.channel, TOKEN_CELL, tokenCodec(prepared.token)),
        hostWrites: inTokenGroup,
        log,
      });
      followers.set(plan.channel, follower);
    } else followers.delete(plan.channel);
    const f = follower;
    const tokenPorts =
      f === undefined
        ? undefined
        : {
            at: (h: number) => f.viewAt(h),
            head: () => f.proposable(),
            latest: () => f.height,
            missing: (h: number) => {
              f.missing(h);
              // Asked from inside a consensus step: the request leaves after it.
              setImmediate(() => pullToken(plan.channel, true));
            },
          };
    const emit = (e: NodeEvent) => {
      for (const l of listeners) {
        try {
          l(e);
        } catch {
          // a subscriber's failure is its own
        }
      }
    };
    for (const cellName of plan.order) {
      const cell = plan.cells[cellName];
      if (!plan.groups[cell.group].validators.includes(myName)) continue;
      const set = setOf(plan, cellName);
      const runner = built.get(cellName);
      if (runner !== undefined) runners.set(`${plan.channel}/${cellName}`, runner);
      let store: DeliveryStore | undefined;
      if (cell.upstream.length > 0) {
        store = new DeliveryStore(plan.channel, cellName, new Map(cell.upstream.map((u) => [u, setOf(plan, u)])), verifier);
        stores.set(`${plan.channel}/${cellName}`, store);
      }
      const host: CellHost = new CellHost({
        plan,
        versions: versions.map((v) => ({ from: v.from, plan: v.plan, runner: v.built.get(cellName), ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) })),
        switched: (p) => {
          // The view and the metrics' labels follow the newest version a cell here runs.
          if ((shown.get(p.channel) ?? 0) >= p.version) return;
          shown.set(p.channel, p.version);
          ops.host(p);
        },
        cellName,
        identity,
        validators: set,
        peers: Object.values(set.keys).filter((k) => k !== identity.publicKey),
        ledger: ledger.cell(plan.channel, cellName),
        runner,
        deliveries: store,
        ...(tokenPorts !== undefined ? { token: tokenPorts } : {}),
        send,
        log,
        emit,
        hasSubscribers: () => listeners.size > 0,
        committed: (block, outputs) => {
          deliver(plan, cellName, block, outputs);
          snapshots.committed(plan.channel, cellName, block);
        },
        fault: fatal,
        now: () => Date.now(),
        observer: ops.observer,
      });
      hosts.set(`${plan.channel}/${cellName}`, host);
      made.push(host);
    }
    // The built-in token cell, run by the token's group like any cell (docs/token.md, "On a node").
    if (plan.token !== undefined && prepared.token !== undefined && inTokenGroup) {
      const set = setOf(plan, TOKEN_CELL);
      const host = new TokenHost({
        plan,
        cellName: TOKEN_CELL,
        identity,
        validators: set,
        peers: Object.values(set.keys).filter((k) => k !== identity.publicKey),
        ledger: ledger.chain(plan.channel, TOKEN_CELL, tokenCodec(prepared.token)),
        config: prepared.token,
        ...(f !== undefined ? { stored: (chain: Parameters<TokenFollower["learned"]>[0]) => f.learned(chain) } : {}),
        send,
        log,
        emit,
        hasSubscribers: () => listeners.size > 0,
        committed: (block) => {
          snapshots.committed(plan.channel, TOKEN_CELL, block);
          pushToken(plan, block);
        },
        fault: fatal,
        now: () => Date.now(),
        observer: ops.observer,
      });
      hosts.set(`${plan.channel}/${TOKEN_CELL}`, host);
      made.push(host);
    }
    return made;
  }

  /** Stops and forgets every cell of `channel` here (its ledger rows stay). */
  function unhostPlan(channel: string): void {
    for (const [key, h] of [...hosts]) {
      if (h.channel !== channel) continue;
      h.stop();
      hosts.delete(key);
      stores.delete(key);
      followers.delete(channel);
      runners.get(key)?.dispose();
      runners.delete(key);
    }
    for (const v of later.get(channel) ?? []) for (const r of v.built.values()) r.dispose();
    later.delete(channel);
    for (const key of [...sets.keys()]) if (key.startsWith(`${channel}/`)) sets.delete(key);
    planOf.delete(channel);
    repeer();
  }

  /** Every isolate this node built: the running versions' and the staged ones'. */
  const disposeRunners = (): void => {
    for (const r of runners.values()) r.dispose();
    for (const vs of later.values()) for (const v of vs) for (const r of v.built.values()) r.dispose();
  };
  try {
    for (const vs of initial) hostPlan(vs[0].plan, prepare(vs[0].plan), vs.slice(1).map((v) => ({ from: v.from, plan: v.plan, built: prepare(v.plan).runners, ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) })));
  } catch (e) {
    // A ledger that does not restore (LEDGER_RESTORE_MISMATCH, CONSENSUS_APP_DIVERGED) stops the start: release it.
    disposeRunners();
    ledger.close();
    throw e;
  }
  const snapshots: NodeSnapshots = attachSnapshots({
    plans,
    identity,
    me: me.name,
    ledger,
    hosts: (channel, cell) => hosts.has(`${channel}/${cell}`),
    setOf,
    groupKeys: (plan, group) => groupKeys(plan, group, network),
    groupSet: (plan, group) => validatorSet(plan.groups[group], groupKeys(plan, group, network)),
    send,
    log,
    fault: fatal,
    ...(config.l0 !== undefined ? { l0: config.l0 } : {}),
    versions: (channel) => hostedChannels.versions(channel).map((v) => ({ hash: v.plan.hash, activation: v.from, ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) })),
    token: (plan) => {
      const c = tokenConfigs.get(plan.channel);
      const t = plan.token;
      if (c === undefined || t === undefined) return undefined;
      // The registration carries the genesis by key, and the names the network file bound (so an auditor can re-bind them).
      const balances: Record<string, string> = {};
      for (const [k, v] of [...c.genesis].sort(([a], [b]) => (a < b ? -1 : 1))) balances[k] = formatBaseUnits(v);
      const accounts: Record<string, string> = {};
      for (const name of Object.keys(t.genesis)) if (!/^[0-9a-f]{64}$/.test(name)) accounts[name] = accountKey(name) ?? "";
      return {
        genesisRoot: tokenStateRoot(genesisTokenState(c)),
        genesis: { name: t.name, symbol: t.symbol, decimals: t.decimals, supply: t.supply, maxSupply: formatBaseUnits(c.maxSupply), balances, accounts },
      };
    },
  });

  /** After `from` committed `block`: its outputs go to each downstream cell, here or at its validators. */
  function deliver(plan: ChannelPlan, from: string, block: CertifiedBlock, outputs: readonly SentOutput[]): void {
    for (const to of plan.cells[from].downstream) {
      if (!outputs.some((o) => o.to === to)) continue;
      const local = stores.get(`${plan.channel}/${to}`);
      if (local !== undefined) {
        local.addLocal(from, outputs);
        hosts.get(`${plan.channel}/${to}`)?.offer();
      }
      // The downstream group's other validators get the certified block with its outputs.
      const bytes = encodeWire({ ch: plan.channel, from, to, blocks: [{ block, outputs }] as unknown as Json });
      for (const k of Object.values(setOf(plan, to).keys)) if (k !== identity.publicKey) send(k, "outputs", bytes);
    }
  }

  /**
   * After the token cell committed `block` here: the certified block goes to
   * every validator of a cell that reads the token and is not in the token's
   * group (its token follower checks and applies it).
   */
  function pushToken(plan: ChannelPlan, block: CertifiedBlock): void {
    const tokenKeys = new Set(Object.values(setOf(plan, TOKEN_CELL).keys));
    const to = new Set<string>();
    for (const c of plan.order) {
      if (!cellReadsToken(plan, c)) continue;
      for (const k of Object.values(setOf(plan, c).keys)) if (!tokenKeys.has(k) && k !== identity.publicKey) to.add(k);
    }
    if (to.size === 0) return;
    const bytes = encodeWire({ ch: plan.channel, from: TOKEN_CELL, to: TOKEN_CELL, blocks: [{ block }] as unknown as Json });
    for (const k of to) send(k, "outputs", bytes);
  }

  const lastTokenPull = new Map<string, number>();
  /** Asks one connected validator of the token's group for the token blocks after this node's follower's head (outside the group only). */
  function pullToken(channel: string, soon = false): void {
    const f = followers.get(channel);
    const plan = planOf.get(channel);
    const from = f?.pullFrom();
    if (f === undefined || plan === undefined || from === undefined) return;
    const now = Date.now();
    if (soon && now - (lastTokenPull.get(channel) ?? 0) < TOKEN_PULL_MIN_MS) return;
    lastTokenPull.set(channel, now);
    const candidates = Object.values(setOf(plan, TOKEN_CELL).keys).filter((k) => connected.has(k));
    if (candidates.length === 0) return;
    const k = candidates[Math.floor(now / PULL_INTERVAL_MS) % candidates.length];
    send(k, "outputs", encodeWire({ ch: channel, from: TOKEN_CELL, to: TOKEN_CELL, fromSeq: from }));
  }

  /** The token blocks a follower asked for, from `fromHeight` on, bounded in count and bytes. */
  function tokenAnswer(channel: string, fromHeight: number): Json[] {
    const f = followers.get(channel);
    if (f === undefined) return [];
    const out: Json[] = [];
    let bytes = 0;
    for (const block of f.served(fromHeight, MAX_OUTPUT_BLOCKS)) {
      const n = JSON.stringify(block).length;
      if (out.length > 0 && bytes + n > TOKEN_ANSWER_BYTES) break;
      bytes += n;
      out.push({ block } as unknown as Json);
    }
    return out;
  }

  /** Outputs a downstream cell lacks: asked of one upstream validator at a time (or read from this node's own ledger). */
  function pull(): void {
    for (const channel of followers.keys()) pullToken(channel);
    for (const [key, store] of stores) {
      const host = hosts.get(key) as CellHost;
      const plan = planOf.get(host.channel)!;
      for (const from of plan.cells[host.cell].upstream) {
        const next = host.chain.received[from] ?? 0;
        if (store.get(from, next) !== undefined) continue;
        const own = hosts.get(`${plan.channel}/${from}`);
        if (own !== undefined) {
          for (const d of servedDeliveries(ledger, ledger.cell(plan.channel, from), plan.channel, from, host.cell, next, MAX_OUTPUT_BLOCKS)) store.addLocal(from, d.outputs);
          host.offer();
          continue;
        }
        const candidates = Object.values(setOf(plan, from).keys).filter((k) => connected.has(k));
        if (candidates.length === 0) continue;
        const k = candidates[Math.floor(Date.now() / PULL_INTERVAL_MS) % candidates.length];
        send(k, "outputs", encodeWire({ ch: plan.channel, from, to: host.cell, fromSeq: next }));
      }
    }
  }

  function onMessage(peerKey: string, channel: string, bytes: Uint8Array): void {
    const m = parseWire(channel, bytes);
    if ("error" in m) {
      log.warn("malformed peer message", { peer: peerKey.slice(0, 16), channel, error: m.error });
      return;
    }
    switch (m.kind) {
      case "consensus":
      case "catchup":
        if (m.c === "snapshots" && snapshots.receive(m.ch, peerKey, m.m)) return;
        hosts.get(`${m.ch}/${m.c}`)?.receive(peerKey, m.m);
        return;
      case "mempool": {
        const host = hosts.get(`${m.ch}/${m.c}`);
        if (host !== undefined && Object.values(setOf(planOf.get(m.ch)!, m.c).keys).includes(peerKey)) host.gossiped(m.inputs);
        return;
      }
      case "outputs-request": {
        if (m.from === TOKEN_CELL && m.to === TOKEN_CELL) {
          // A token follower asks for the token's certified blocks from height fromSeq on (token-follower.ts).
          const blocks = tokenAnswer(m.ch, m.fromSeq);
          if (blocks.length > 0) send(peerKey, "outputs", encodeWire({ ch: m.ch, from: TOKEN_CELL, to: TOKEN_CELL, blocks }));
          return;
        }
        const plan = planOf.get(m.ch);
        if (plan === undefined || !hosts.has(`${m.ch}/${m.from}`) || !plan.cells[m.from]?.downstream.includes(m.to)) return;
        const blocks = servedDeliveries(ledger, ledger.cell(m.ch, m.from), m.ch, m.from, m.to, m.fromSeq, MAX_OUTPUT_BLOCKS);
        if (blocks.length > 0) send(peerKey, "outputs", encodeWire({ ch: m.ch, from: m.from, to: m.to, blocks: blocks as unknown as Json }));
        return;
      }
      case "outputs": {
        if (m.from === TOKEN_CELL && m.to === TOKEN_CELL) {
          const f = followers.get(m.ch);
          if (f === undefined) return;
          const r = f.addCertified(m.blocks);
          if (typeof r === "string") {
            log.warn("token blocks refused", { channel: m.ch, peer: peerKey.slice(0, 16), reason: r });
            if (r === "bad-certificate") peerNet?.disconnect(peerKey);
          } else if (f.behind()) pullToken(m.ch, true);
          return;
        }
        const store = stores.get(`${m.ch}/${m.to}`);
        if (store === undefined) return;
        let added = 0;
        for (const b of m.blocks) {
          const r = store.addDelivered(m.from, b);
          if (typeof r === "string") {
            log.warn("delivery refused", { channel: m.ch, from: m.from, to: m.to, peer: peerKey.slice(0, 16), reason: r });
            if (r === "bad-certificate" || r === "bad-outputs" || r === "bad-numbering") peerNet?.disconnect(peerKey);
            break;
          }
          added += r;
        }
        if (added > 0) hosts.get(`${m.ch}/${m.to}`)?.offer();
        return;
      }
    }
  }

  peerNet = createPeerNetwork(
    {
      identity,
      networkId: network.network,
      channels: STATECELL_CHANNELS,
      allow: allowed,
      peers: network.validators.filter((v) => allowed.has(v.key)).map((v) => ({ key: v.key, url: v.peer })),
    },
    {
      onMessage,
      onPeerUp: (k) => {
        connected.add(k);
        log.info("peer up", { peer: network.byKey.get(k)?.name ?? k.slice(0, 16) });
      },
      onPeerDown: (k, reason) => {
        connected.delete(k);
        log.info("peer down", { peer: network.byKey.get(k)?.name ?? k.slice(0, 16), reason });
      },
    },
  );

  ops.bind({
    hosts: () => hosts.values(),
    online: (name) => name === me.name || connected.has(network.byName.get(name)?.key ?? ""),
    peers: () => ({ connected: connected.size, known: allowed.size }),
  });

  let draining = false;
  const shuttingDown = (): StatecellError =>
    new StatecellError("NODE_SHUTTING_DOWN", "this node is shutting down and takes no new submissions", { remedy: "send it to another validator of the cell's group, or again once this node has restarted" });

  const hostOf = (channel: string, cell: string): CellHost | TokenHost => {
    const h = hosts.get(`${channel}/${cell}`);
    if (h === undefined) {
      throw new StatecellError("NODE_NOT_HOSTED", `this node does not host ${channel}/${cell} (its validator is not in that cell's group, or the channel is not in its node file)`, {
        remedy: "send it to a node of the cell's group (GET /v1/channels lists what a node hosts), or check the channel and cell names",
      });
    }
    return h;
  };

  const core: NodeCore = {
    hosted: () => [...hosts.values()].map((h) => ({ channel: h.channel, cell: h.cell })),
    submit: async (channel, cell, subs, client) => {
      if (draining) throw shuttingDown();
      const host = hostOf(channel, cell);
      return quotas.apply(channel, cell, client, subs, () => host.poolSize(), (s) => host.submit(s) as SubmitResult[]);
    },
    inputStatus: (id) => {
      const rows = ledger.inputStatus(id);
      if (rows.length > 0) {
        const r = rows[0];
        return statusOf(r.channel, r.cell, r);
      }
      for (const h of hosts.values()) {
        const s = h.status(id);
        if (s !== undefined) return s;
      }
      return undefined;
    },
    head: (channel, cell) => {
      const h = hosts.get(`${channel}/${cell}`);
      if (h === undefined) return undefined;
      const head = ledger.cell(channel, cell).head();
      return { height: head.height, hash: head.hash, stateRoot: head.stateRoot };
    },
    block: (channel, cell, height) => {
      if (!hosts.has(`${channel}/${cell}`)) return undefined;
      const b = ledger.cell(channel, cell).block(height);
      if (b === null) return undefined;
      return { height: b.block.height, hash: b.block.certificate.valueId, value: b.block.value, certificate: b.block.certificate as unknown as Json, ...(b.verdicts ? { verdicts: b.verdicts as unknown as Json } : {}) };
    },
    state: (channel, cell) => hosts.get(`${channel}/${cell}`)?.state(),
    record: (channel, cell, key) => hosts.get(`${channel}/${cell}`)?.record(key),
    readiness: (): Readiness => {
      const missing: string[] = draining ? ["this node is shutting down"] : [];
      for (const h of hosts.values()) {
        const set = sets.get(`${h.channel}/${h.cell}`)!;
        const up = 1 + Object.values(set.keys).filter((k) => k !== identity.publicKey && connected.has(k)).length;
        const where = `${h.channel}/${h.cell}`;
        if (!h.driver.running) missing.push(`${where}: its group is stopped at this node`);
        else if (up < set.quorum) missing.push(`${where}: ${up} of ${set.size} validators connected, a quorum is ${set.quorum}`);
        else if (1 + h.heard.size < set.quorum) missing.push(`${where}: heard from ${h.heard.size} of ${set.size - 1} peers since start, a quorum is ${set.quorum}: learning whether it is behind`);
        else if (h.peerHeight > h.chain.height + 2) missing.push(`${where}: at height ${h.chain.height}, peers at ${h.peerHeight - 1}: catching up`);
      }
      return { ready: missing.length === 0, missing };
    },
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    exports: exportSource(
      plans,
      ledger,
      (channel, cell) => hosts.has(`${channel}/${cell}`),
      config.l0?.key,
      (plan, group) => groupKeys(plan, group, network),
      (channel) => hostedChannels.versions(channel).map((v) => ({ ...v, text: texts.get(v.plan.hash) })),
      (name) => network.accounts.get(name),
    ),
  };

  let stopped = false;
  const hostedChannels: HostedChannels = {
    plans: () => [...planOf.values()],
    add(plan) {
      if (stopped) throw shuttingDown();
      const built = prepare(plan);
      const made = hostPlan(plan, built);
      ops.host(plan);
      for (const h of made) h.start();
      // Its snapshot group too, so a channel added at run time registers with L0 and sends its snapshots.
      snapshots.host(plan);
    },
    replace(plan) {
      if (stopped) throw shuttingDown();
      const old = planOf.get(plan.channel);
      // Built first: a version that cannot run leaves the old one running.
      const built = prepare(plan);
      if (old !== undefined) unhostPlan(plan.channel);
      let made: Array<CellHost | TokenHost>;
      try {
        made = hostPlan(plan, built);
      } catch (e) {
        unhostPlan(plan.channel);
        if (old !== undefined) for (const h of hostPlan(old, prepare(old))) h.start();
        throw e;
      }
      ops.host(plan);
      for (const h of made) h.start();
    },
    remove(channel) {
      unhostPlan(channel);
      snapshots.unhost(channel);
      ops.unhost(channel);
    },
    stage(plan, text, atSnapshot) {
      if (stopped) throw shuttingDown();
      const base = planOf.get(plan.channel);
      const from = plan.activation;
      if (base === undefined || from === undefined) throw new StatecellError("NODE_CHANNEL_UNKNOWN", `this node does not host ${plan.channel}, or the file names no activation height`, { remedy: "add the channel first; an upgrade at a height names `activation:`" });
      const shape = upgradeShapeProblem(base, plan);
      if (shape !== undefined) {
        throw new StatecellError("NODE_UPGRADE_SHAPE", `version ${plan.version} of ${plan.channel} cannot take over at a height: ${shape}`, { remedy: "an upgrade at a height keeps the cells, their links, the groups, the snapshot group and the token; change those with a new channel, or without `activation:` (each node then swaps at once)" });
      }
      const vs = later.get(plan.channel) ?? [];
      const mine = [...hosts.values()].filter((h): h is CellHost => h.channel === plan.channel && h instanceof CellHost);
      const floor = Math.max(vs[vs.length - 1]?.from ?? 1, ...mine.map((h) => h.chain.height + 1));
      if (from <= floor) {
        throw new StatecellError("NODE_UPGRADE_TOO_LATE", `version ${plan.version} of ${plan.channel} is to be in force from block ${from}, but this node's cells are deciding block ${Math.max(...mine.map((h) => h.chain.height + 1), 1)}${vs.length > 0 ? ` and version ${vs[vs.length - 1].plan.version} is staged from block ${vs[vs.length - 1].from}` : ""}`, {
          remedy: `give it an \`activation:\` above ${floor} (the same on every node: far enough ahead for every validator to stage it first)`,
        });
      }
      // Built first, then durable, then in force: a version that cannot run changes nothing.
      const built = prepare(plan).runners;
      try {
        storeVersion(plan, text, from, atSnapshot);
        for (const h of mine) h.stage({ from, plan, runner: built.get(h.cell), ...(atSnapshot !== undefined ? { atSnapshot } : {}) });
      } catch (e) {
        for (const r of built.values()) r.dispose();
        throw e;
      }
      vs.push({ from, plan, built, ...(atSnapshot !== undefined ? { atSnapshot } : {}) });
      later.set(plan.channel, vs);
      log.info("channel version staged", { channel: plan.channel, version: plan.version, hash: plan.hash, activation: from, atSnapshot });
    },
    versions(channel) {
      const base = planOf.get(channel);
      if (base === undefined) return [];
      return [{ from: 1, plan: base }, ...(later.get(channel) ?? []).map((v) => ({ from: v.from, plan: v.plan, ...(v.atSnapshot !== undefined ? { atSnapshot: v.atSnapshot } : {}) }))];
    },
  };
  const l0 = config.l0 !== undefined ? l0Client(config.l0.url, { timeoutMs: 10_000 }) : undefined;
  const admin = channelAdmin({ node: me.name, channels: hostedChannels, ops, log, store, ...(l0 !== undefined ? { schedule: (plan: ChannelPlan, from: string) => scheduledUpgrade(l0, plan.channel, from, plan.hash) } : {}) });
  const peerAt = await peerNet.listen({ host: config.listen.peer.host, port: config.listen.peer.port });
  const tokenLookup: TokenLookup = (channel) => {
    const plan = planOf.get(channel);
    if (plan === undefined) return "no-channel";
    if (plan.token === undefined) return "no-token";
    const h = hosts.get(`${channel}/${TOKEN_CELL}`);
    return h instanceof TokenHost ? h : "not-in-group";
  };
  const api: ApiServer = createApiServer(core, { routes: [...ops.routes, ...adminRoutes({ token: config.token, admin, view: ops.view, log, metrics: ops.metrics }), ...tokenRoutes(tokenLookup)], onInternalError: (e) => log.error("api internal error", { error: e instanceof Error ? e.message : String(e) }) });
  const apiAt = await api.listen({ host: config.listen.api.host, port: config.listen.api.port });
  for (const h of hosts.values()) h.start();
  snapshots.start();
  const pullTimer = setInterval(pull, PULL_INTERVAL_MS);
  pullTimer.unref();
  log.info("node started", { api: apiAt.url, peer: peerAt.url, cells: [...hosts.keys()] });

  return {
    name: me.name,
    publicKey: identity.publicKey,
    core,
    api: { url: apiAt.url },
    peer: { url: peerAt.url },
    get hosts() {
      return [...hosts.values()];
    },
    ops,
    channels: hostedChannels,
    admin,
    drain() {
      if (!draining) log.info("admission stopped");
      draining = true;
    },
    snapshots,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(pullTimer);
      ops.close();
      for (const h of hosts.values()) h.stop();
      snapshots.stop();
      await api.close();
      await peerNet!.close();
      disposeRunners();
      ledger.close();
      log.info("node stopped");
    },
  };
}
