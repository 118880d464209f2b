/**
 * The token's read routes on a node of the token's group (docs/token.md,
 * "On a node"; docs/api.md). Amounts are decimal strings of base units.
 *
 *   GET /v1/channels/{channel}/token                                   the definition, supply, head
 *   GET /v1/channels/{channel}/token/accounts/{key}                    balance, nonce, nextNonce
 *   GET /v1/channels/{channel}/token/accounts/{key}/allowances/{spender}
 *   GET /v1/channels/{channel}/token/fee?from=KEY&to=KEY&amount=N     the fee a transfer pays in the next block
 *   GET /v1/channels/{channel}/token/accounts/{key}/transfers?limit=N&before=H.S
 *                                                                      the account's Transfer and Approval
 *                                                                      events, newest first, a page at a time
 *
 * Submissions go through the API's own POST .../cells/token/inputs.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Json } from "../../core/canonical.js";
import { parseBaseUnits } from "../../token/index.js";
import type { ExtraRoute } from "./http.js";
import { answerFailure, answerJson } from "./ops-routes.js";

/** The token cell of one hosted channel, as these routes read it. */
export interface TokenReader {
  definition(): Json;
  account(key: string): Json;
  allowance(owner: string, spender: string): Json;
  history(key: string, limit: number, before?: { height: number; seq: number }): { events: Json[]; next: string | null };
  fee(from: string, to: string, amount: bigint): Json;
}

/** Where the routes find a channel's token: its reader, or why there is none here. */
export type TokenLookup = (channel: string) => TokenReader | "no-channel" | "no-token" | "not-in-group";

/** Events per page of an account's history: the default and the most. */
export const HISTORY_PAGE = 50;
export const HISTORY_MAX_PAGE = 500;

const KEY = /^[0-9a-f]{64}$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,127}$/;
const POSITION = /^(0|[1-9][0-9]{0,15})\.(0|[1-9][0-9]{0,8})$/;
const LIMIT = /^[1-9][0-9]{0,5}$/;

const ROUTES_TEXT = "the token routes are GET /v1/channels/{channel}/token, .../token/accounts/{key}, .../token/accounts/{key}/allowances/{spender} and .../token/accounts/{key}/transfers?limit=N&before=H.S";

function badParam(res: ServerResponse, name: string, message: string, remedy: string): void {
  answerJson(res, 400, { code: "API_BAD_PARAM", message, remedy, path: `/${name}`, in: ["channel", "key", "spender"].includes(name) ? "url" : "query" });
}

/** The routes over `lookup`. */
export function tokenRoutes(lookup: TokenLookup): ExtraRoute[] {
  return [
    {
      matches: (path) => {
        const seg = path.split("/");
        return seg.length >= 5 && seg[1] === "v1" && seg[2] === "channels" && seg[4] === "token";
      },
      handle(req: IncomingMessage, res: ServerResponse, path: string) {
        if (req.method !== "GET" && req.method !== "HEAD") {
          answerFailure(res, 405, "API_METHOD_NOT_ALLOWED", `the token routes answer GET and HEAD, not ${String(req.method).slice(0, 16)}`, "send GET; a transfer is a POST to /v1/channels/{channel}/cells/token/inputs", { allow: "GET, HEAD" });
          return;
        }
        const seg = path.split("/");
        const channel = seg[3];
        if (!NAME.test(channel)) return badParam(res, "channel", `the channel ${JSON.stringify(channel.slice(0, 80))} is not a channel name`, "write the channel's name: lowercase letters, digits and dashes");
        const found = lookup(channel);
        if (found === "no-channel") return answerFailure(res, 404, "NODE_NOT_HOSTED", `this node does not host the channel ${channel}`, "ask a node of the channel (GET /v1/channels lists what a node hosts)");
        if (found === "no-token") return answerFailure(res, 404, "TOKEN_NO_TOKEN", `the channel ${channel} declares no token`, "ask for the token of a channel with a `token:` section");
        if (found === "not-in-group") return answerFailure(res, 404, "NODE_NOT_HOSTED", `this node is not in the token's group of ${channel}, so it does not keep the token's state`, "ask a node of the token's group (the channel's `token.group`)");
        if (seg.length === 5) return answerJson(res, 200, found.definition());
        if (seg.length === 6 && seg[5] === "fee") {
          const q = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
          const from = q.get("from") ?? "";
          const to = q.get("to") ?? "";
          if (!KEY.test(from)) return badParam(res, "from", "from is the source account's public key (64 lowercase hex)", "ask ?from=KEY&to=KEY&amount=N");
          if (!KEY.test(to)) return badParam(res, "to", "to is the destination account's public key (64 lowercase hex)", "ask ?from=KEY&to=KEY&amount=N");
          const amount = parseBaseUnits(q.get("amount"));
          if (amount === undefined) return badParam(res, "amount", "amount is a decimal string of base units (digits, no sign, point or leading zero), at most 2^128 − 1", "ask ?from=KEY&to=KEY&amount=N");
          return answerJson(res, 200, found.fee(from, to, amount));
        }
        if (seg[5] !== "accounts" || seg.length < 7) return answerFailure(res, 404, "API_NOT_FOUND", `there is no route ${JSON.stringify(path.slice(0, 200))}`, ROUTES_TEXT);
        const key = seg[6];
        if (!KEY.test(key)) return badParam(res, "key", `the account ${JSON.stringify(key.slice(0, 80))} is not a public key of 64 lowercase hex characters`, "write the account's public key as `statecell keys new` prints it");
        if (seg.length === 7) return answerJson(res, 200, found.account(key));
        if (seg.length === 9 && seg[7] === "allowances") {
          const spender = seg[8];
          if (!KEY.test(spender)) return badParam(res, "spender", `the spender ${JSON.stringify(spender.slice(0, 80))} is not a public key of 64 lowercase hex characters`, "write the spender's public key");
          return answerJson(res, 200, found.allowance(key, spender));
        }
        if (seg.length === 8 && seg[7] === "transfers") {
          const q = new URLSearchParams((req.url ?? "").split("?")[1] ?? "");
          for (const k of q.keys()) if (k !== "limit" && k !== "before") return badParam(res, k.slice(0, 40), `the query parameter ${JSON.stringify(k.slice(0, 40))} is not one of limit, before`, "page with ?limit=N&before=H.S (the `next` of the previous page)");
          const limitText = q.get("limit");
          let limit = HISTORY_PAGE;
          if (limitText !== null) {
            if (!LIMIT.test(limitText) || Number(limitText) > HISTORY_MAX_PAGE) return badParam(res, "limit", `limit ${JSON.stringify(limitText.slice(0, 40))} is not a whole number from 1 to ${HISTORY_MAX_PAGE}`, `ask for at most ${HISTORY_MAX_PAGE} events a page`);
            limit = Number(limitText);
          }
          const beforeText = q.get("before");
          let before: { height: number; seq: number } | undefined;
          if (beforeText !== null) {
            const m = POSITION.exec(beforeText);
            if (m === null || !Number.isSafeInteger(Number(m[1]))) return badParam(res, "before", `before ${JSON.stringify(beforeText.slice(0, 40))} is not a position HEIGHT.SEQ`, "pass the `next` of the previous page unchanged");
            before = { height: Number(m[1]), seq: Number(m[2]) };
          }
          const page = found.history(key, limit, before);
          return answerJson(res, 200, { account: key, transfers: page.events, next: page.next });
        }
        return answerFailure(res, 404, "API_NOT_FOUND", `there is no route ${JSON.stringify(path.slice(0, 200))}`, ROUTES_TEXT);
      },
    },
  ];
}
