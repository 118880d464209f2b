/**
 * `statecell transfer --key FILE --to KEY --amount N [--node URL] [--channel NAME]
 *  [--nonce N] [--fee N] [--wait]`: signs a transfer of the channel's token with
 * the key file `statecell keys new` made (ed25519, node:crypto) and submits it
 * to a node of the token's group (POST .../cells/token/inputs).
 *
 * - `--amount`: base units as a decimal integer (`1250`), or whole tokens with
 *   the token's decimals, written with a point (`12.50` with 2 decimals);
 * - `--nonce`: the node's `nextNonce` for the account when not given;
 * - `--fee N`: the most fee (same units as --amount) the sender accepts; the
 *   node's fee for this transfer in its next block is checked against it;
 * - `--node`: a node's API; when not given, the first node of up.json in
 *   $STATECELL_DIR (else .statecell/);
 * - `--channel`: the only channel with a token the node hosts, when not given;
 * - `--wait`: polls the input's status until it is committed or rejected.
 *
 * Prints the input's id and its status. Exit 0 pending or committed, 1
 * refused or rejected (with the code), 2 wrong usage (bad key file, amount,
 * account, unknown channel...), each error with its code and a remedy.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { isStatecellError } from "../core/errors.js";
import type { KeyPair } from "../core/keys.js";
import { loadKeyFile } from "../node/config/index.js";
import { formatUnits, parseBaseUnits, parseUnits, signTokenOp, TOKEN_CELL } from "../token/index.js";
import { COMMAND_HELP } from "./help.js";

const HEX64 = /^[0-9a-f]{64}$/;
/** How long --wait waits for a final status (ms), and how often it asks. */
const WAIT_MS = 60_000;
const POLL_MS = 250;

class TransferError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly remedy: string,
    readonly exit = 2,
  ) {
    super(message);
  }
}

type TokenDefinition = { channel: string; symbol: string; decimals: number };

async function call(base: string, path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown> }> {
  let res: Response;
  try {
    res = await fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new TransferError("CLI_TRANSFER_UNREACHABLE", `the node ${base} does not answer ${init?.method ?? "GET"} ${path}: ${(e as Error).message}`, "check --node (up.json lists the nodes' APIs) and that the node runs", 1);
  }
  const text = await res.text();
  try {
    const body = JSON.parse(text) as unknown;
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new Error("not an object");
    return { status: res.status, body: body as Record<string, unknown> };
  } catch {
    throw new TransferError("CLI_TRANSFER_BAD_ANSWER", `the node ${base} answered ${path} with something that is not a JSON object (HTTP ${res.status})`, "check that --node is a statecell node's API", 1);
  }
}

/** The node to send to: --node, else the first node of up.json. */
function nodeUrl(given: string | undefined): string {
  if (given !== undefined) {
    if (!/^https?:\/\/[^\s]+$/.test(given)) throw new TransferError("CLI_TRANSFER_BAD_NODE", `--node ${JSON.stringify(given.slice(0, 80))} is not an http:// or https:// URL`, "give a node's API address, e.g. --node http://127.0.0.1:8080");
    return given.replace(/\/+$/, "");
  }
  const upFile = join(process.env.STATECELL_DIR ?? ".statecell", "up.json");
  if (existsSync(upFile)) {
    try {
      const up = JSON.parse(readFileSync(upFile, "utf8")) as { nodes?: Array<{ api?: unknown }> };
      const api = up.nodes?.[0]?.api;
      if (typeof api === "string") return api.replace(/\/+$/, "");
    } catch {
      // fall through to the usage error
    }
  }
  throw new TransferError("CLI_TRANSFER_NO_NODE", `no --node given, and ${upFile} names no node`, "give --node URL of a node of the token's group (statecell up lists them in up.json)");
}

/** The channel's token definition, or the channel found when none was named. */
async function definitionOf(node: string, channel: string | undefined): Promise<TokenDefinition> {
  let name = channel;
  if (name === undefined) {
    const list = await call(node, "/v1/channels");
    const channels = Array.isArray(list.body.channels) ? (list.body.channels as Array<{ channel?: unknown }>) : [];
    const withToken: string[] = [];
    for (const c of channels) {
      if (typeof c.channel !== "string") continue;
      const d = await call(node, `/v1/channels/${encodeURIComponent(c.channel)}/token`);
      if (d.status === 200) withToken.push(c.channel);
    }
    if (withToken.length !== 1) {
      throw new TransferError("CLI_TRANSFER_CHANNEL", withToken.length === 0 ? `the node ${node} hosts the token of no channel` : `the node ${node} hosts the tokens of ${withToken.join(", ")}`, withToken.length === 0 ? "give --node of a validator of the token's group" : "name one with --channel NAME");
    }
    name = withToken[0];
  }
  const d = await call(node, `/v1/channels/${encodeURIComponent(name)}/token`);
  if (d.status !== 200) {
    const code = typeof d.body.code === "string" ? d.body.code : "CLI_TRANSFER_CHANNEL";
    throw new TransferError(code === "API_BAD_PARAM" || code === "NODE_NOT_HOSTED" ? "CLI_TRANSFER_UNKNOWN_CHANNEL" : code, `the channel ${JSON.stringify(name)}: ${String(d.body.message ?? `HTTP ${d.status}`)}`, typeof d.body.remedy === "string" ? d.body.remedy : "check --channel (GET /v1/channels lists what a node hosts)");
  }
  return { channel: name, symbol: String(d.body.symbol), decimals: Number(d.body.decimals) };
}

/** An amount in base units: digits are base units; a point means whole tokens with the token's decimals. */
export function amountOf(text: string, decimals: number, what: string): bigint {
  if (text.includes(".")) {
    const r = parseUnits(text, decimals);
    if ("problem" in r) throw new TransferError("CLI_TRANSFER_AMOUNT", `${what} ${JSON.stringify(text.slice(0, 60))}: ${r.problem}`, `write base units as digits (1250), or whole tokens with at most ${decimals} digit(s) after the point`);
    return r.value;
  }
  const v = parseBaseUnits(text);
  if (v === undefined) throw new TransferError("CLI_TRANSFER_AMOUNT", `${what} ${JSON.stringify(text.slice(0, 60))} is not a whole number of base units (digits, no sign or leading zero, at most 2^128 − 1)`, `write base units as digits (1250), or whole tokens with a point (12.50)`);
  return v;
}

export async function transferCommand(argv: readonly string[], out: (s: string) => void): Promise<number> {
  let values: { key?: string; to?: string; amount?: string; node?: string; channel?: string; nonce?: string; fee?: string; wait?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: { key: { type: "string" }, to: { type: "string" }, amount: { type: "string" }, node: { type: "string" }, channel: { type: "string" }, nonce: { type: "string" }, fee: { type: "string" }, wait: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    }));
  } catch (e) {
    out(`statecell transfer: ${(e as Error).message}\nRun \`statecell help transfer\` for usage.\n`);
    return 2;
  }
  if (values.help) {
    out(`${COMMAND_HELP.transfer}\n`);
    return 0;
  }
  try {
    if (values.key === undefined || values.to === undefined || values.amount === undefined) {
      throw new TransferError("CLI_USAGE", "statecell transfer needs --key FILE, --to KEY and --amount N", "run `statecell help transfer` for usage");
    }
    let key: KeyPair;
    try {
      key = loadKeyFile(values.key);
    } catch (e) {
      if (isStatecellError(e)) throw new TransferError(e.code, e.message, e.remedy ?? "give a key file made by `statecell keys new --out FILE`");
      throw e;
    }
    if (!HEX64.test(values.to)) throw new TransferError("CLI_TRANSFER_BAD_ACCOUNT", `--to ${JSON.stringify(values.to.slice(0, 80))} is not a public key of 64 lowercase hex characters`, "give the destination account's public key, as `statecell keys new` prints it");
    if (values.to === key.publicKey) throw new TransferError("TOKEN_SAME_ACCOUNT", "--to is the key file's own account", "send to another account");
    let nonce: number | undefined;
    if (values.nonce !== undefined) {
      nonce = /^[1-9][0-9]{0,15}$/.test(values.nonce) ? Number(values.nonce) : NaN;
      if (!Number.isSafeInteger(nonce)) throw new TransferError("CLI_TRANSFER_NONCE", `--nonce ${JSON.stringify(values.nonce.slice(0, 40))} is not a whole number from 1`, "give the account's next nonce, or leave --nonce out to ask the node");
    }
    const node = nodeUrl(values.node);
    const def = await definitionOf(node, values.channel);
    const amount = amountOf(values.amount, def.decimals, "--amount");
    if (amount === 0n) throw new TransferError("CLI_TRANSFER_AMOUNT", "--amount is 0; a transfer moves more than 0 base units", "give an amount above 0");
    const ch = encodeURIComponent(def.channel);
    const feeAnswer = await call(node, `/v1/channels/${ch}/token/fee?from=${key.publicKey}&to=${values.to}&amount=${amount}`);
    const fee = typeof feeAnswer.body.fee === "string" ? BigInt(feeAnswer.body.fee) : undefined;
    if (values.fee !== undefined) {
      const most = amountOf(values.fee, def.decimals, "--fee");
      if (fee === undefined) throw new TransferError("TOKEN_FEE", `the node gives no fee for this transfer: ${String(feeAnswer.body.message ?? "")}`, "check the amount", 1);
      if (fee > most) throw new TransferError("CLI_TRANSFER_FEE", `the fee of this transfer is ${fee} base units (${formatUnits(fee, def.decimals)} ${def.symbol}), above --fee ${most}`, "raise --fee, or send a smaller amount", 1);
    }
    if (nonce === undefined) {
      const acct = await call(node, `/v1/channels/${ch}/token/accounts/${key.publicKey}`);
      if (acct.status !== 200 || typeof acct.body.nextNonce !== "number") throw new TransferError("CLI_TRANSFER_BAD_ANSWER", `the node ${node} gave no next nonce for ${key.publicKey.slice(0, 16)}…`, "give --nonce N", 1);
      nonce = acct.body.nextNonce;
    }
    const sub = signTokenOp(def.channel, key, { type: "transfer", from: key.publicKey, to: values.to, amount, nonce });
    const posted = await call(node, `/v1/channels/${ch}/cells/${TOKEN_CELL}/inputs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(sub) });
    const result = (Array.isArray(posted.body.results) ? posted.body.results[0] : undefined) as { id?: string; status?: string; code?: string; message?: string } | undefined;
    if (posted.status !== 200 || result?.id === undefined) {
      throw new TransferError(typeof posted.body.code === "string" ? posted.body.code : "CLI_TRANSFER_BAD_ANSWER", `the node refused the transfer: ${String(posted.body.message ?? `HTTP ${posted.status}`)}`, typeof posted.body.remedy === "string" ? posted.body.remedy : "check the node's answer", 1);
    }
    out(`${result.id}\n`);
    out(`transfer of ${amount} base units (${formatUnits(amount, def.decimals)} ${def.symbol}) from ${key.publicKey} to ${values.to}, nonce ${nonce}${fee !== undefined ? `, fee ${fee}` : ""}\n`);
    let status = result;
    if (values.wait === true && status.status === "pending") {
      const end = Date.now() + WAIT_MS;
      while (status.status === "pending" && Date.now() < end) {
        await new Promise((r) => setTimeout(r, POLL_MS));
        const s = await call(node, `/v1/inputs/${result.id}`);
        if (s.status === 200) status = s.body as typeof status;
      }
    }
    const where = (status as { height?: number }).height !== undefined ? ` at height ${(status as { height?: number }).height}` : "";
    out(`${status.status}${where}${status.code !== undefined ? ` ${status.code}: ${status.message ?? ""}` : ""}\n`);
    return status.status === "rejected" ? 1 : 0;
  } catch (e) {
    if (e instanceof TransferError) {
      out(`statecell transfer: ${e.code}: ${e.message}\n  remedy: ${e.remedy}\n`);
      return e.exit;
    }
    throw e;
  }
}
