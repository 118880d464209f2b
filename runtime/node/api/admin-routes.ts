/**
 * The admin API: changes to a running node's channels, for the operator
 * who holds the node file's token.
 *
 *   GET    /v1/admin/channels          the hosted channels (as GET /v1/channels)
 *   POST   /v1/admin/channels          { "file": PATH }  add a channel
 *   PUT    /v1/admin/channels/{name}   { "file": PATH }  upgrade it (hot reload)
 *   DELETE /v1/admin/channels/{name}   stop hosting it
 *
 * Every call must carry `Authorization: Bearer TOKEN` (compared in constant
 * time); a node whose file has no `token` refuses every admin call (403
 * NODE_ADMIN_DISABLED). Every call, refused or not, is logged with its
 * method, route, channel, status and the caller's address (never the token)
 * and counted in statecell_admin_requests_total. `file` is a path on the
 * node's machine: the node reads the channel file and the code files it
 * names itself.
 */
import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ChannelAdmin } from "../channel-admin.js";
import type { Logger } from "../log.js";
import type { NodeMetrics } from "../metrics.js";
import { channelSummaries, type NodeViewSource } from "../node-view.js";
import { checkBodyHeaders, readBody } from "./body.js";
import type { ExtraRoute } from "./http.js";
import { answerFailure, answerJson } from "./ops-routes.js";

/** Bytes of an admin request's body. */
export const MAX_ADMIN_BODY = 16 << 10;
const BODY_TIMEOUT_MS = 10_000;
const MAX_PATH_CHARS = 4096;
const PREFIX = "/v1/admin/channels";

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** True when `header` is `Bearer TOKEN` with the node's token (hashes compared, so lengths never leak). */
function authorized(header: string | undefined, token: string): boolean {
  if (header === undefined || !header.startsWith("Bearer ")) return false;
  return timingSafeEqual(digest(header.slice(7).trim()), digest(token));
}

export function adminRoutes(deps: { token: string | undefined; admin: ChannelAdmin; view: NodeViewSource; log: Logger; metrics: NodeMetrics }): ExtraRoute[] {
  const { admin, log, metrics } = deps;
  const handle = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const method = req.method ?? "GET";
    const rest = path.slice(PREFIX.length);
    let channel: string | undefined;
    if (rest.startsWith("/") && rest.length > 1 && rest.indexOf("/", 1) < 0) {
      try {
        channel = decodeURIComponent(rest.slice(1));
      } catch {
        channel = undefined;
      }
    }
    const route = rest === "" ? "channels" : "channel";
    const done = (status: number, extra: Record<string, unknown> = {}): void => {
      metrics.admin(route, status);
      log.info("admin call", { method: method.slice(0, 16), route: path.slice(0, 200), channel: channel?.slice(0, 128), status, from: req.socket.remoteAddress, ...extra });
    };
    const fail = (status: number, code: string, message: string, remedy: string, headers: Record<string, string> = {}): void => {
      answerFailure(res, status, code, message, remedy, headers);
      done(status, { code });
    };

    if (deps.token === undefined) return fail(403, "NODE_ADMIN_DISABLED", "this node has no operator token, so its admin API is off", "add `token:` (32 to 512 characters) to the node file, chmod 600 it, and restart the node");
    if (!authorized(req.headers.authorization, deps.token)) {
      return fail(401, "NODE_ADMIN_UNAUTHORIZED", "the admin API needs the node's operator token", "send `Authorization: Bearer TOKEN` with the node file's `token` (statecell channel --config node.yaml does)", { "www-authenticate": "Bearer" });
    }
    if (rest !== "" && channel === undefined) return fail(404, "API_NOT_FOUND", `there is no admin route ${JSON.stringify(path.slice(0, 200))}`, "the admin routes are /v1/admin/channels and /v1/admin/channels/{name}");
    const allowed = rest === "" ? ["GET", "POST"] : ["PUT", "DELETE"];
    if (!allowed.includes(method)) return fail(405, "API_METHOD_NOT_ALLOWED", `this route answers ${allowed.join(" and ")}, not ${method.slice(0, 16)}`, `send ${allowed.join(" or ")}`, { allow: allowed.join(", ") });
    if (method === "GET") {
      answerJson(res, 200, { channels: channelSummaries(deps.view) });
      return done(200);
    }
    if (method === "DELETE") {
      const o = admin.remove(channel!);
      answer(res, o);
      return done(o.status, o.ok ? {} : { code: o.code });
    }
    const early = checkBodyHeaders(req, MAX_ADMIN_BODY);
    if (early) {
      res.setHeader("connection", "close");
      return fail(early.status, early.code, early.message, early.remedy);
    }
    const body = await readBody(req, MAX_ADMIN_BODY, BODY_TIMEOUT_MS);
    if ("gone" in body) {
      res.destroy();
      return done(499);
    }
    if ("failure" in body) {
      res.setHeader("connection", "close");
      return fail(body.failure.status, body.failure.code, body.failure.message, body.failure.remedy);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.text);
    } catch {
      return fail(400, "API_NOT_JSON", "the body is not JSON", 'send { "file": "/path/to/channel.yaml" }');
    }
    const file = (parsed as { file?: unknown } | null)?.file;
    const keys = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? Object.keys(parsed) : undefined;
    if (keys === undefined || typeof file !== "string" || file.length === 0 || file.length > MAX_PATH_CHARS || file.includes("\0") || keys.some((k) => k !== "file")) {
      return fail(400, "API_BAD_BODY", `the body must be { "file": PATH } (a path of at most ${MAX_PATH_CHARS} characters, nothing else)`, "send the path of the channel file on the node's machine");
    }
    const o = method === "POST" ? admin.add(file) : await admin.upgrade(channel, file);
    answer(res, o);
    done(o.status, o.ok ? { version: o.version } : { code: o.code });
  };
  return [{ matches: (p) => p === PREFIX || p.startsWith(`${PREFIX}/`), handle }];
}

function answer(res: ServerResponse, o: ReturnType<ChannelAdmin["add"]>): void {
  if (o.ok) answerJson(res, o.status, { channel: o.channel, version: o.version, hash: o.hash, ...(o.unchanged ? { unchanged: true } : {}), ...(o.activation !== undefined ? { activation: o.activation } : {}), ...(o.atSnapshot !== undefined ? { atSnapshot: o.atSnapshot } : {}) });
  else answerJson(res, o.status, { code: o.code, message: o.message, remedy: o.remedy, ...(o.problems ? { problems: o.problems } : {}) });
}
