/**
 * The operator's read-only routes, served beside the client API:
 *
 *   GET /metrics              Prometheus exposition (prom-client)
 *   GET /v1/channels          every hosted channel: status, version, heights, last error
 *   GET /v1/dashboard         the dashboard's view of the node (JSON)
 *   GET /v1/dashboard/feed    WebSocket: the same view pushed at most twice a second
 *   GET /  and  /dashboard/*  the dashboard itself (static HTML and ES modules)
 *
 * The feed computes one view per tick for all its clients, sends it only
 * when it changed, and closes a client that lets FEED_MAX_BUFFERED bytes
 * pile up unread; what a client sends on it is ignored (and bounded).
 */
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, extname, join } from "node:path";
import type { Duplex } from "node:stream";
import { fileURLToPath } from "node:url";
import { WebSocketServer, type WebSocket } from "ws";
import type { NodeMetrics } from "../metrics.js";
import { channelSummaries, dashboardView, type NodeViewSource } from "../node-view.js";
import type { ExtraRoute } from "./http.js";

/** Views pushed per second at most. */
export const FEED_HZ = 2;
/** Feed clients at once. */
export const FEED_MAX_CLIENTS = 64;
/** Unread bytes a feed client may leave waiting before it is closed. */
export const FEED_MAX_BUFFERED = 4 << 20;

const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "dashboard");
const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** Answers JSON (the API's conventions: no-store, nosniff). */
export function answerJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...headers,
  });
  res.end(text);
}

/** A refusal in the API's shape. */
export function answerFailure(res: ServerResponse, status: number, code: string, message: string, remedy: string, headers: Record<string, string> = {}): void {
  answerJson(res, status, { code, message, remedy }, headers);
}

function onlyGet(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === "GET" || req.method === "HEAD") return true;
  answerFailure(res, 405, "API_METHOD_NOT_ALLOWED", `this route answers GET and HEAD, not ${String(req.method).slice(0, 16)}`, "send GET", { allow: "GET, HEAD" });
  return false;
}

/** The dashboard's files, read once: only these names are ever served. */
function dashboardFiles(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of readdirSync(DASHBOARD_DIR)) {
    const type = TYPES[extname(name)];
    if (type !== undefined) files.set(name, { type, body: readFileSync(join(DASHBOARD_DIR, name)) });
  }
  return files;
}

/** The live feed of the dashboard's view. */
class DashboardFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false, clientTracking: false });
  private readonly clients = new Set<WebSocket>();
  private timer: NodeJS.Timeout | undefined;
  private last = "";

  constructor(private readonly view: () => string) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (this.clients.size >= FEED_MAX_CLIENTS) {
      const text = JSON.stringify({ code: "API_TOO_MANY_STREAMS", message: `the dashboard feed has its maximum of ${FEED_MAX_CLIENTS} clients`, remedy: "close another dashboard tab, or try again later" });
      socket.end(`HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.clients.add(ws);
      ws.on("message", () => undefined);
      ws.on("error", () => ws.terminate());
      ws.on("close", () => {
        this.clients.delete(ws);
        if (this.clients.size === 0) this.pause();
      });
      // A new client gets the present at once, then changes.
      ws.send(this.view());
      this.resume();
    });
  }

  private resume(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), 1000 / FEED_HZ);
    this.timer.unref();
  }

  private pause(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.last = "";
  }

  private tick(): void {
    const text = this.view();
    if (text === this.last) return;
    this.last = text;
    for (const ws of this.clients) {
      if (ws.bufferedAmount > FEED_MAX_BUFFERED) {
        ws.close(4008, "API_SLOW_CONSUMER");
        continue;
      }
      ws.send(text);
    }
  }

  close(): void {
    this.pause();
    for (const ws of this.clients) ws.close(1001, "API_SHUTTING_DOWN");
    this.clients.clear();
  }
}

export interface OpsRoutes {
  routes: ExtraRoute[];
  /** Closes the dashboard feed's clients (the node is stopping). */
  close(): void;
}

/** The operator's read-only routes over `source` and `metrics`. */
export function opsRoutes(source: NodeViewSource, metrics: NodeMetrics): OpsRoutes {
  const files = dashboardFiles();
  const viewText = (): string => JSON.stringify(dashboardView(source));
  const feed = new DashboardFeed(viewText);
  const routes: ExtraRoute[] = [
    {
      matches: (p) => p === "/metrics",
      handle: async (req, res) => {
        if (!onlyGet(req, res)) return;
        const text = await metrics.text();
        if (res.headersSent || res.destroyed) return;
        res.writeHead(200, { "content-type": metrics.contentType, "content-length": String(Buffer.byteLength(text)), "cache-control": "no-store" });
        res.end(req.method === "HEAD" ? undefined : text);
      },
    },
    {
      matches: (p) => p === "/v1/channels",
      handle: (req, res) => {
        if (onlyGet(req, res)) answerJson(res, 200, { channels: channelSummaries(source) });
      },
    },
    {
      matches: (p) => p === "/v1/dashboard" || p === "/v1/dashboard/feed",
      handle: (req, res, path) => {
        if (path === "/v1/dashboard/feed") return answerFailure(res, 426, "API_UPGRADE_REQUIRED", "/v1/dashboard/feed is a WebSocket", "open it with a WebSocket client (ws://HOST:PORT/v1/dashboard/feed)", { upgrade: "websocket" });
        if (onlyGet(req, res)) answerJson(res, 200, dashboardView(source));
      },
      upgrade: (req, socket, head) => {
        if (pathOnly(req.url) !== "/v1/dashboard/feed" || req.method !== "GET") {
          socket.destroy();
          return;
        }
        feed.upgrade(req, socket, head);
      },
    },
    {
      matches: (p) => p === "/" || p.startsWith("/dashboard/"),
      handle: (req, res, path) => {
        if (!onlyGet(req, res)) return;
        const name = path === "/" ? "index.html" : path.slice("/dashboard/".length);
        const f = files.get(name);
        if (f === undefined) return answerFailure(res, 404, "API_NOT_FOUND", `the dashboard has no file ${JSON.stringify(name.slice(0, 80))}`, "open / for the dashboard");
        res.writeHead(200, {
          "content-type": f.type,
          "content-length": String(f.body.length),
          "cache-control": "no-cache",
          "x-content-type-options": "nosniff",
          // The page loads only its own files and talks only to this node.
          "content-security-policy": "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; base-uri 'none'; frame-ancestors 'none'",
        });
        res.end(req.method === "HEAD" ? undefined : f.body);
      },
    },
  ];
  return { routes, close: () => feed.close() };
}

function pathOnly(url: string | undefined): string {
  const u = url ?? "/";
  const q = u.indexOf("?");
  return q < 0 ? u : u.slice(0, q);
}
