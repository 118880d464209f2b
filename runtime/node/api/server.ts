/**
 * The node's client API server: `node:http` for the routes, `ws` for the
 * stream's upgrade, no framework (docs/api.md says why). The server holds no
 * state of its own beyond its connections: every answer comes from `core`,
 * and it does no I/O but its sockets (no logs: faults go to
 * `onInternalError`).
 */
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { StatecellError } from "../../core/errors.js";
import type { NodeCore, NodeEvent } from "../core-types.js";
import { failure, failureBody, type ApiFailure } from "./errors.js";
import { closingSockets, handleRequest, pathOf, type ExtraRoute, type HttpContext, type HttpCounters } from "./http.js";
import { resolveLimits, type ApiLimits } from "./limits.js";
import { matchRoute } from "./routes.js";
import { bodyValidators } from "./schemas.js";
import { Stream, type StreamContext, type StreamCounters } from "./stream.js";

/** Options of `createApiServer`. */
export interface ApiServerOptions {
  /** Bounds; each missing one has its default (DEFAULT_API_LIMITS). */
  limits?: Partial<ApiLimits>;
  /**
   * Called with faults of the node (an exception of the core, a bug), never
   * with what a client did wrong. The API itself writes no logs.
   */
  onInternalError?: (error: unknown) => void;
  /** Routes served beside the API's own, tried first (the operator's routes). */
  routes?: readonly ExtraRoute[];
}

/** Counters for operators and tests. */
export interface ApiStats {
  http: HttpCounters;
  stream: StreamCounters & { open: number };
  /** Connections refused or cut before a request: too many, a malformed request head, a head that took too long. */
  refused: { tooManyStreams: number; badHttp: number; headersTooLarge: number; requestTimeout: number };
  connections: number;
}

/** A running (or not yet listening) API server. */
export interface ApiServer {
  /** Listens on `host:port` (default 127.0.0.1, port 0 for a free one); resolves the bound address and its URL. */
  listen(opts?: { host?: string; port?: number }): Promise<{ host: string; port: number; url: string }>;
  /** Closes every stream (1001 API_SHUTTING_DOWN) and connection; resolves when the server is closed. */
  close(): Promise<void>;
  stats(): ApiStats;
  /** The limits in force. */
  readonly limits: Readonly<ApiLimits>;
}

/**
 * Creates the API server over `core`.
 *
 * @example
 * const api = createApiServer(core, { limits: { maxBodyBytes: 4 << 20 } });
 * const { url } = await api.listen({ host: "127.0.0.1", port: 8080 });
 * // ... later
 * await api.close();
 * @throws StatecellError API_BAD_OPTIONS for a limit out of range.
 */
export function createApiServer(core: NodeCore, opts: ApiServerOptions = {}): ApiServer {
  const limits = resolveLimits(opts.limits);
  const validators = bodyValidators(limits.maxInputsPerRequest);
  const onInternal = (e: unknown) => {
    try {
      opts.onInternalError?.(e);
    } catch {
      // A failing reporter must not take the server down.
    }
  };
  const httpCounters: HttpCounters = { requests: 0, statuses: {}, submissions: 0 };
  const streamCounters: StreamCounters = {
    opened: 0,
    messages: 0,
    submissions: 0,
    events: 0,
    closed: { API_SLOW_CONSUMER: 0, API_QUEUE_FULL: 0, API_NO_PONG: 0, API_SHUTTING_DOWN: 0 },
    paused: 0,
  };
  const refused = { tooManyStreams: 0, badHttp: 0, headersTooLarge: 0, requestTimeout: 0 };
  const extra = opts.routes ?? [];
  const httpCtx: HttpContext = { extra, core, limits, validators, onInternal, counters: httpCounters };
  const streamCtx: StreamContext = { core, limits, validators, onInternal, counters: streamCounters };
  const streams = new Set<Stream>();
  let server: Server | null = null;
  let wss: WebSocketServer | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let unsubscribe: (() => void) | null = null;
  let closing = false;
  let closed: Promise<void> | null = null;
  let connections = 0;
  /** The response being written on each connection, if any. */
  const answering = new WeakMap<object, { req: IncomingMessage; res: ServerResponse }>();

  const onEvent = (event: NodeEvent) => {
    let text: string | undefined;
    for (const s of streams) {
      if (!s.wants(event)) continue;
      if (text === undefined) {
        try {
          text = JSON.stringify(event);
        } catch (e) {
          onInternal(e);
          return;
        }
      }
      streamCounters.events++;
      s.sendText(text);
    }
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = pathOf(req.url);
    for (const r of extra) {
      if (!r.matches(path)) continue;
      if (closing || r.upgrade === undefined) break;
      try {
        r.upgrade(req, socket, head);
      } catch (e) {
        onInternal(e);
        socket.destroy();
      }
      return;
    }
    const route = matchRoute(req.url ?? "/", limits.maxRecordKeyLength);
    if ("status" in route) return refuseUpgrade(socket, route);
    if (route.name !== "stream") return refuseUpgrade(socket, failure(404, "API_NOT_FOUND", "only /v1/stream takes a WebSocket", "open ws://HOST:PORT/v1/stream"));
    if (req.method !== "GET") return refuseUpgrade(socket, failure(405, "API_METHOD_NOT_ALLOWED", `the stream is opened with GET, not ${String(req.method).slice(0, 16)}`, "send GET with Upgrade: websocket"));
    if (closing || wss === null) return refuseUpgrade(socket, failure(503, "API_SHUTTING_DOWN", "the node is shutting down", "connect to another node, or again after it restarts"));
    if (streams.size >= limits.maxStreams) {
      refused.tooManyStreams++;
      return refuseUpgrade(socket, failure(503, "API_TOO_MANY_STREAMS", `the node has its maximum of ${limits.maxStreams} streams open`, "send more per message on one stream instead of opening many, or try again later"));
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      if (closing) {
        ws.terminate();
        return;
      }
      const stream = new Stream(ws, streamCtx, (s) => streams.delete(s));
      stream.client = req.socket.remoteAddress;
      streams.add(stream);
    });
  };

  const onClientError = (err: NodeJS.ErrnoException, socket: Duplex) => {
    const code = err.code;
    if (code === "ECONNRESET" || code === "EPIPE" || closingSockets.has(socket)) {
      socket.destroy();
      return;
    }
    let f: ApiFailure;
    if (code === "HPE_HEADER_OVERFLOW") {
      refused.headersTooLarge++;
      f = failure(431, "API_HEADERS_TOO_LARGE", `the request head is over ${limits.maxHeaderBytes} bytes or ${limits.maxHeaders} headers`, "send fewer or shorter headers (and a shorter URL)");
    } else if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
      refused.requestTimeout++;
      f = failure(408, "API_REQUEST_TIMEOUT", `the request did not arrive within its time (head: ${limits.headersTimeoutMs} ms)`, "send the whole request at once");
    } else {
      refused.badHttp++;
      f = failure(400, "API_BAD_HTTP", "the request is not valid HTTP/1.1", "send a well-formed HTTP/1.1 request");
    }
    // A request of this connection is still being answered (the bad bytes
    // came after it, pipelined): its answer goes first, then the refusal.
    // (Bad bytes inside the body of the request being read are answered at once.)
    const pending = answering.get(socket);
    if (pending !== undefined && pending.req.complete && !pending.res.writableFinished) {
      closingSockets.add(socket);
      pending.res.once("finish", () => refuseUpgrade(socket, f));
      return;
    }
    refuseUpgrade(socket, f);
  };

  const api: ApiServer = {
    limits,
    listen(o = {}) {
      if (server !== null || closing) return Promise.reject(listenError("this API server is already listening (or closed)", "create one server per listen"));
      const host = o.host ?? "127.0.0.1";
      const port = o.port ?? 0;
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        return Promise.reject(listenError(`listen port is ${String(port)}; allowed: an integer from 0 to 65535`, "pass a port, or 0 for a free one"));
      }
      // Node checks header and request deadlines on an interval (30 s by
      // default): a quarter of the head's deadline keeps a slow client
      // within 1.25 times it.
      const checking = Math.max(5, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4)));
      const s = createServer({
        maxHeaderSize: limits.maxHeaderBytes,
        headersTimeout: limits.headersTimeoutMs,
        // A backstop over the body's own deadline (body.ts answers 408 with a code first).
        requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs + 5_000,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: checking,
        // The API never reads Host; without this, a Host header past maxHeaders (dropped) would get Node's bare 400.
        requireHostHeader: false,
      });
      s.maxHeadersCount = limits.maxHeaders;
      s.maxConnections = limits.maxConnections;
      s.on("connection", (socket: Duplex) => {
        connections++;
        socket.once("close", () => connections--);
      });
      s.on("request", (req: IncomingMessage, res: ServerResponse) => {
        answering.set(req.socket, { req, res });
        res.once("close", () => {
          if (answering.get(req.socket)?.res === res) answering.delete(req.socket);
        });
        void handleRequest(httpCtx, req, res);
      });
      s.on("upgrade", onUpgrade);
      s.on("clientError", onClientError);
      const w = new WebSocketServer({ noServer: true, maxPayload: limits.maxBodyBytes, perMessageDeflate: false, clientTracking: false });
      w.on("wsClientError", (_err: Error, socket: Duplex) => {
        refused.badHttp++;
        refuseUpgrade(socket, failure(400, "API_BAD_HTTP", "the WebSocket handshake is not valid", "open the stream with a WebSocket client"));
      });
      server = s;
      wss = w;
      return new Promise((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
          server = null;
          wss = null;
          reject(listenError(`cannot listen on ${host}:${port}: ${err.code ?? "error"}`, "choose another port (or 0 for a free one), or stop the process that holds it"));
        };
        s.once("error", onError);
        s.listen(port, host, () => {
          s.off("error", onError);
          // Once listening, errors are failed accepts (EMFILE); the server keeps listening.
          s.on("error", () => undefined);
          unsubscribe = core.subscribe(onEvent);
          heartbeat = setInterval(() => {
            for (const st of streams) st.heartbeat();
          }, limits.pingIntervalMs);
          heartbeat.unref();
          const addr = s.address();
          const bound = typeof addr === "object" && addr !== null ? addr.port : port;
          const shownHost = host.includes(":") ? `[${host}]` : host;
          resolve({ host, port: bound, url: `http://${shownHost}:${bound}` });
        });
      });
    },
    close() {
      if (closed) return closed;
      closing = true;
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      if (unsubscribe) {
        try {
          unsubscribe();
        } catch (e) {
          onInternal(e);
        }
      }
      unsubscribe = null;
      for (const st of [...streams]) st.close("API_SHUTTING_DOWN");
      const s = server;
      closed = new Promise<void>((resolve) => {
        if (s === null || !s.listening) {
          resolve();
          return;
        }
        s.close(() => resolve());
        s.closeIdleConnections();
        // Requests still running get a moment to answer, then every socket goes.
        setTimeout(() => s.closeAllConnections(), 1_000).unref();
      });
      return closed;
    },
    stats() {
      return {
        http: { ...httpCounters, statuses: { ...httpCounters.statuses } },
        stream: { ...streamCounters, closed: { ...streamCounters.closed }, open: streams.size },
        refused: { ...refused },
        connections,
      };
    },
  };
  return api;
}

/** Answers a socket that is not (or not yet) an HTTP exchange with a bare response, then closes it. */
function refuseUpgrade(socket: Duplex, f: ApiFailure): void {
  if (socket.destroyed) return;
  closingSockets.add(socket);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const text = JSON.stringify(failureBody(f));
  socket.end(
    `HTTP/1.1 ${f.status} ${STATUS_CODES[f.status] ?? "Error"}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
  setTimeout(() => socket.destroy(), 1_000).unref();
}

function listenError(message: string, remedy: string): StatecellError {
  return new StatecellError("API_LISTEN_FAILED", message, { remedy });
}
