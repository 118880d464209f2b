/**
 * `statecell channel readiness CHANNEL.yaml` and `statecell channel approve
 * CHANNEL.yaml --key FILE --at HEIGHT`: governed upgrades from the operator's
 * side (docs/l0.md, "Upgrades"). CHANNEL.yaml is the new version; it must
 * load (an invalid one is refused with its lint errors, and the old version
 * keeps running). `readiness`, like Fabric's `checkcommitreadiness`, shows
 * for every upgrade proposal to this definition who of the snapshot group
 * approved it, who is missing, the threshold and whether it is met, as L0
 * holds them. `approve` signs the upgrade record (from the definition L0 has
 * in force to this one, at snapshot height HEIGHT) with a validator's key
 * file and sends the approval to L0. L0 is `--l0 URL`, else the one in
 * DIR/up.json (`--dir`, default .statecell).
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { formatProblem } from "../core/errors.js";
import { loadChannel, type ChannelPlan } from "../definition/index.js";
import { checkCode } from "../sandbox/index.js";
import { ENCODING_V1, l0Client, signRecord, type Upgrade, type UpgradeReadiness } from "../l0/index.js";
import { loadKeyFile } from "../node/config/index.js";
import { COMMAND_HELP } from "./help.js";

function readText(p: string): string | undefined {
  try {
    return readFileSync(p, "utf8");
  } catch {
    return undefined;
  }
}

function l0Url(values: { l0?: string; dir?: string }): string | undefined {
  if (values.l0 !== undefined) return values.l0;
  const up = join(resolve(values.dir ?? ".statecell"), "up.json");
  if (!existsSync(up)) return undefined;
  try {
    return (JSON.parse(readFileSync(up, "utf8")) as { l0?: { api?: string } }).l0?.api;
  } catch {
    return undefined;
  }
}

/** One proposal as a line of text. */
function describe(u: UpgradeReadiness): string {
  const who = u.approvals.map((a) => a.name).join(", ") || "nobody";
  return `  proposal ${u.hash.slice(0, 12)}… at snapshot height ${u.record.atHeight}: ${u.status}, ${u.approvals.length} of ${u.threshold} approvals (${who})${u.missing.length > 0 ? `; missing ${u.missing.join(", ")}` : ""}: ${u.ready ? "threshold met" : "not ready"}${u.refusal ? `; refused: ${u.refusal.code}: ${u.refusal.message}` : ""}`;
}

/** `statecell channel readiness|approve ...` (the dispatcher in channel.ts hands these two here). */
export async function upgradeCommand(sub: "readiness" | "approve", rest: readonly string[], out: (s: string) => void): Promise<number> {
  let values: { l0?: string; dir?: string; key?: string; at?: string; format?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...rest], allowPositionals: true, options: { l0: { type: "string" }, dir: { type: "string" }, key: { type: "string" }, at: { type: "string" }, format: { type: "string" }, help: { type: "boolean", short: "h" } } }));
  } catch (e) {
    out(`statecell channel ${sub}: ${(e as Error).message}\nRun \`statecell help channel\` for usage.\n`);
    return 2;
  }
  if (values.help) {
    out(`${COMMAND_HELP.channel}\n`);
    return 0;
  }
  const format = values.format ?? "text";
  if ((format !== "text" && format !== "json") || positionals.length !== 1) {
    out(`statecell channel ${sub}: name one channel file (the new version)${format !== "text" && format !== "json" ? "; --format is text or json" : ""}\n`);
    return 2;
  }
  if (sub === "approve" && (values.key === undefined || values.at === undefined || !/^[1-9][0-9]{0,15}$/.test(values.at))) {
    out("statecell channel approve: give --key FILE (a validator's key file) and --at HEIGHT (the snapshot height from which the new version is in force, a whole number of 1 or more)\n");
    return 2;
  }
  const url = l0Url(values);
  if (url === undefined) {
    out("statecell channel: give --l0 URL (L0's API), or run it where `statecell up` wrote .statecell/up.json (or --dir DIR)\n");
    return 2;
  }
  const file = resolve(positionals[0]);
  const source = readText(file);
  if (source === undefined) {
    out(`statecell channel ${sub}: CLI_FILE_NOT_FOUND: ${positionals[0]} cannot be read\n  fix: check the path\n`);
    return 1;
  }
  const loaded = loadChannel(source, { file }, { readFile: readText, checkCode });
  if (loaded.plan === undefined) {
    out(`statecell channel ${sub}: CLI_UPGRADE_INVALID: the new version ${positionals[0]} does not load, so it cannot be approved; the version in force keeps running\n`);
    for (const p of loaded.problems.filter((x) => x.severity === "error")) out(`${formatProblem(p)}\n`);
    return 1;
  }
  const plan: ChannelPlan = loaded.plan;
  const client = l0Client(url);
  const view = await client.channel(plan.channel);
  if (!view.ok) {
    out(`statecell channel ${sub}: ${view.code}: ${view.message}\n  fix: ${view.remedy}\n`);
    return 1;
  }
  const inForce = view.channel.definitionHash;
  if (sub === "approve") {
    let key;
    try {
      key = loadKeyFile(values.key!);
    } catch (e) {
      out(`statecell channel approve: ${(e as { code?: string }).code ?? "NODE_KEY_MALFORMED"}: ${(e as Error).message}\n`);
      return 1;
    }
    const record: Upgrade = { type: "upgrade", encoding: ENCODING_V1, channel: plan.channel, registration: view.channel.registration.version, fromDefinitionHash: inForce, toDefinitionHash: plan.hash, atHeight: Number(values.at) };
    const r = await client.upgrade({ record, signatures: [signRecord("upgrade", record, key)] });
    if (!r.ok) {
      if (format === "json") out(`${JSON.stringify({ ok: false, code: r.code, message: r.message, remedy: r.remedy, actual: r.actual, required: r.required })}\n`);
      else out(`statecell channel approve: ${r.code}: ${r.message}\n  fix: ${r.remedy}\n`);
      return 1;
    }
    const u = (r as unknown as { upgrade: UpgradeReadiness }).upgrade;
    // L0 answers a proposal it has already decided with its status; say so when this key is not one that counts.
    if (!u.approvals.some((a) => a.key === key.publicKey)) {
      const msg = `L0 answered (${u.status}), but the key ${key.publicKey.slice(0, 12)}… is not among the approvals of this upgrade`;
      if (format === "json") out(`${JSON.stringify({ ok: false, code: "CLI_APPROVAL_NOT_COUNTED", message: msg, upgrade: u })}\n`);
      else out(`statecell channel approve: CLI_APPROVAL_NOT_COUNTED: ${msg}\n  fix: approve with the key file of a validator of the snapshot group (${u.missing.join(", ") || "none missing"})\n${describe(u)}\n`);
      return 1;
    }
    if (format === "json") out(`${JSON.stringify({ ok: true, status: (r as unknown as { status: string }).status, upgrade: u })}\n`);
    else out(`approved ${plan.channel} ${inForce.slice(0, 12)}… -> ${plan.hash.slice(0, 12)}… at snapshot height ${record.atHeight} with key ${key.publicKey.slice(0, 12)}…\n${describe(u)}\n`);
    return 0;
  }
  const ups = await client.upgrades(plan.channel);
  if (!ups.ok) {
    out(`statecell channel readiness: ${ups.code}: ${ups.message}\n  fix: ${ups.remedy}\n`);
    return 1;
  }
  const mine = ups.upgrades.upgrades.filter((u) => u.record.toDefinitionHash === plan.hash);
  if (format === "json") {
    out(`${JSON.stringify({ channel: plan.channel, definitionHash: plan.hash, inForce, current: inForce === plan.hash, snapshotGroup: ups.upgrades.snapshotGroup, threshold: ups.upgrades.threshold, scheduled: ups.upgrades.scheduled, proposals: mine })}\n`);
    return 0;
  }
  out(`channel ${plan.channel}: version ${plan.version} of ${positionals[0]} is definition ${plan.hash.slice(0, 12)}…\n`);
  out(`  in force at L0: ${inForce.slice(0, 12)}… (registration ${ups.upgrades.registration}; snapshot group ${ups.upgrades.snapshotGroup} approves, threshold ${ups.upgrades.threshold})\n`);
  if (inForce === plan.hash) out("  this definition is the one in force\n");
  if (mine.length === 0) out(`  no upgrade to this definition is proposed: validators of ${ups.upgrades.snapshotGroup} approve one with statecell channel approve ${positionals[0]} --key KEYFILE --at HEIGHT\n`);
  for (const u of mine) out(`${describe(u)}\n`);
  return 0;
}
