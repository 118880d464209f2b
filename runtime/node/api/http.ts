/**
 * The HTTP routes: each reads what the core knows and answers JSON. Every
 * path through here answers (or finds the client gone); nothing a client
 * sends throws out of `handleRequest`, and a fault of the core is a 500
 * with a code, reported to the server's `onInternalError`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { NodeCore } from "../core-types.js";
import { checkBodyHeaders, readBody } from "./body.js";
import { failure, failureBody, type ApiFailure } from "./errors.js";
import type { ApiLimits } from "./limits.js";
import { matchRoute, METHODS, type Route } from "./routes.js";
import { answerExport, matchExport } from "./export-routes.js";
import type { BodyValidators } from "./schemas.js";
import { internalFailure, notHosted, parseBody, precheck, submissionsOf, submitTo } from "./submit.js";

/** Counters of the HTTP side (ApiServer.stats()). */
export interface HttpCounters {
  requests: number;
  /** Answers by status code. */
  statuses: Record<number, number>;
  /** Submissions answered through POST .../inputs (refused requests not counted). */
  submissions: number;
}

/**
 * A route served beside the client API's own (the operator's routes:
 * /metrics, /v1/channels, the dashboard, the admin API). Tried first, by
 * path; a route answers everything it matches, refusals included.
 */
export interface ExtraRoute {
  matches(path: string): boolean;
  handle(req: IncomingMessage, res: ServerResponse, path: string): void | Promise<void>;
  /** A WebSocket upgrade to a path this route matches (absent: refused like any other path). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** The path of a request target, without its query. */
export function pathOf(url: string | undefined): string {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
}

/** What the handlers share. */
export interface HttpContext {
  /** Routes tried before the API's own. */
  extra: readonly ExtraRoute[];
  core: NodeCore;
  limits: Readonly<ApiLimits>;
  validators: BodyValidators;
  onInternal: (e: unknown) => void;
  counters: HttpCounters;
}

/**
 * Sockets closed after an answer while their request's body was still
 * arriving: what they send after it is not counted as a malformed request.
 */
export const closingSockets = new WeakSet<object>();

/** How long a connection that is being closed may still take to read its answer. */
const CLOSE_GRACE_MS = 2_000;

/** Answers `req`. Resolves when the answer is written (or the client is gone); never rejects. */
export async function handleRequest(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  ctx.counters.requests++;
  try {
    const ex = matchExport(req.url ?? "/");
    if (ex !== undefined) {
      if ("status" in ex) return sendFailure(ctx, req, res, ex);
      return answerExport(ctx, req, res, ex, (status, body) => sendJson(ctx, req, res, status, body), (f, headers) => sendFailure(ctx, req, res, f, headers));
    }
    const path = pathOf(req.url);
    for (const r of ctx.extra) if (r.matches(path)) return await r.handle(req, res, path);
    const route = matchRoute(req.url ?? "/", ctx.limits.maxRecordKeyLength);
    if ("status" in route) return sendFailure(ctx, req, res, route);
    const method = req.method ?? "GET";
    const allowed = METHODS[route.name];
    if (!allowed.includes(method)) {
      return sendFailure(ctx, req, res, failure(405, "API_METHOD_NOT_ALLOWED", `this route answers ${allowed.join(" and ")}, not ${method.slice(0, 16)}`, `send ${allowed[0]}`), {
        allow: allowed.join(", "),
      });
    }
    if (route.name === "inputs") return await postInputs(ctx, req, res, route);
    return answerGet(ctx, req, res, route);
  } catch (e) {
    ctx.onInternal(e);
    if (!res.headersSent) sendFailure(ctx, req, res, internalFailure());
    else res.destroy();
  }
}

function answerGet(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, route: Route): void {
  const { core } = ctx;
  switch (route.name) {
    case "healthz":
      return sendJson(ctx, req, res, 200, { ok: true });
    case "readyz": {
      const r = core.readiness();
      if (r.ready) return sendJson(ctx, req, res, 200, { ready: true, missing: [] });
      return sendJson(ctx, req, res, 503, {
        ready: false,
        missing: r.missing,
        code: "API_NOT_READY",
        message: `the node is not ready: ${r.missing.length} cell(s) cannot make progress`,
        remedy: "wait for the validators named in `missing` to connect, or check their addresses in the network file",
      });
    }
    case "stream":
      return sendFailure(ctx, req, res, failure(426, "API_UPGRADE_REQUIRED", "/v1/stream is a WebSocket", "open it with a WebSocket client (ws://HOST:PORT/v1/stream)"), { upgrade: "websocket" });
    case "input": {
      const status = core.inputStatus(route.id);
      if (status === undefined) {
        return sendFailure(ctx, req, res, failure(404, "API_UNKNOWN_INPUT", `this node knows no input ${route.id}`, "check the id (it is the one the submission was answered with); a submission refused before it was stored is not kept"));
      }
      return sendJson(ctx, req, res, 200, status);
    }
    default:
      break;
  }
  if (!hosts(core, route.channel, route.cell)) return sendFailure(ctx, req, res, notHosted(route.channel, route.cell, core));
  const where = `cell "${route.cell.slice(0, 128)}" of channel "${route.channel.slice(0, 128)}"`;
  switch (route.name) {
    case "head": {
      const head = core.head(route.channel, route.cell);
      if (head === undefined) return sendFailure(ctx, req, res, failure(404, "API_NO_HEAD", `${where} has no committed block yet`, "wait for its first block, or check that the node is ready (GET /readyz)"));
      return sendJson(ctx, req, res, 200, { height: head.height, hash: head.hash, stateRoot: head.stateRoot });
    }
    case "block": {
      const block = core.block(route.channel, route.cell, route.height);
      if (block === undefined) {
        const head = core.head(route.channel, route.cell);
        return sendFailure(ctx, req, res, failure(404, "API_NO_BLOCK", `${where} has no block at height ${route.height}${head ? ` (its head is at ${head.height})` : ""}`, "ask for a height from 1 to the head's (GET the cell for its head)"));
      }
      return sendJson(ctx, req, res, 200, block);
    }
    case "state": {
      const state = core.state(route.channel, route.cell);
      if (state === undefined) return sendFailure(ctx, req, res, failure(404, "API_NO_HEAD", `${where} has no state yet`, "wait for its first block, or check that the node is ready (GET /readyz)"));
      return sendJson(ctx, req, res, 200, { state });
    }
    case "record": {
      const record = core.record(route.channel, route.cell, route.key);
      if (record === undefined) {
        return sendFailure(ctx, req, res, failure(404, "API_NO_RECORD", `${where} has no record with the key ${JSON.stringify(route.key.slice(0, 128))}`, "check the key (percent-encode it in the URL); records are written by committed blocks only"));
      }
      return sendJson(ctx, req, res, 200, { key: route.key, value: record });
    }
    default:
      return sendFailure(ctx, req, res, internalFailure());
  }
}

async function postInputs(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
  const { limits } = ctx;
  const early = checkBodyHeaders(req, limits.maxBodyBytes);
  if (early) return sendFailure(ctx, req, res, early);
  const read = await readBody(req, limits.maxBodyBytes, limits.bodyTimeoutMs);
  if ("gone" in read) {
    res.destroy();
    return;
  }
  if ("failure" in read) return sendFailure(ctx, req, res, read.failure);
  const body = parseBody(read.text, ctx.validators.inputs, "the body", limits);
  if ("status" in body) return sendFailure(ctx, req, res, body);
  const submissions = submissionsOf(body);
  const pre = precheck(body, submissions.length, limits.maxDepth);
  const outcome = await submitTo(ctx.core, route.channel, route.cell, submissions, pre, ctx.onInternal, req.socket.remoteAddress);
  if ("failure" in outcome) return sendFailure(ctx, req, res, outcome.failure);
  ctx.counters.submissions += outcome.results.length;
  sendJson(ctx, req, res, 200, { results: outcome.results });
}

/** True when the request announces a body (a length over 0, or chunks). */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function hosts(core: NodeCore, channel: string, cell: string): boolean {
  for (const h of core.hosted()) if (h.channel === channel && h.cell === cell) return true;
  return false;
}

/** Answers a refusal. */
export function sendFailure(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, f: ApiFailure, headers: Record<string, string> = {}): void {
  sendJson(ctx, req, res, f.status, failureBody(f), headers);
}

/**
 * Answers `status` with `body` as JSON. When the request's body was not read
 * to its end (a refusal before or while reading it), the connection is
 * closed after the answer, within a grace period: the rest of a large or
 * slow body is not waited for.
 */
export function sendJson(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  let text: string;
  try {
    text = JSON.stringify(body);
  } catch (e) {
    ctx.onInternal(e);
    status = 500;
    text = JSON.stringify(failureBody(internalFailure()));
  }
  ctx.counters.statuses[status] = (ctx.counters.statuses[status] ?? 0) + 1;
  const close = !req.complete && hasBody(req);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...(close ? { connection: "close" } : {}),
    ...headers,
  });
  res.end(text);
  if (close) {
    const socket = req.socket;
    closingSockets.add(socket);
    res.once("finish", () => {
      socket.end();
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
    });
  }
}
