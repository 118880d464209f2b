/**
 * L0's HTTP API (node:http): bounded bodies, JSON Schemas, and the service's
 * answers with their HTTP status. Snapshot submissions that arrive together
 * are decided as one batch in one transaction (one fsync for all of them:
 * docs/l0.md, "Figures"), in the order they arrived.
 *
 *   POST /v1/registrations       POST /v1/snapshots        POST /v1/upgrades     POST /v1/resumes
 *   GET  /v1/info                GET  /v1/global/latest    GET  /v1/global/{ordinal}
 *   GET  /v1/channels/{channel}  GET  /v1/channels/{channel}/snapshots?from=&limit=
 *   GET  /v1/channels/{channel}/upgrades                   GET  /healthz
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Json } from "../core/canonical.js";
import { schemaProblem, type ApiSchema } from "./api-schemas.js";
import { l0Error, refuse } from "./errors.js";
import type { L0Service, SnapshotAnswer } from "./service.js";
import type { Refusal } from "./types.js";

/** Options of startL0Http. */
export interface L0HttpOptions {
  host?: string;
  /** 0 for a free port. */
  port?: number;
  /** Most bytes of a request body (default twice the larger of the service's limits, plus 64 KiB). */
  maxBodyBytes?: number;
  /** Most milliseconds a client may take to send a whole request (default 30,000). */
  requestTimeoutMs?: number;
}

/** A listening L0 API. */
export interface L0Http {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The HTTP status of each refusal code (docs/l0.md, "HTTP API"). */
export function httpStatusOf(code: string): number {
  switch (code) {
    case "L0_BAD_REQUEST":
    case "L0_BAD_SNAPSHOT":
    case "L0_BAD_RECORD":
    case "L0_ENCODING":
    case "L0_CERTIFICATE":
      return 400;
    case "L0_UNREGISTERED":
    case "L0_NOT_FOUND":
    case "L0_RESUME_UNKNOWN":
      return 404;
    case "L0_METHOD":
      return 405;
    case "L0_TOO_LARGE":
      return 413;
    case "L0_HASH":
    case "L0_SIGNER_OUTSIDE_GROUP":
    case "L0_DUPLICATE_SIGNER":
    case "L0_BAD_SIGNATURE":
    case "L0_THRESHOLD":
    case "L0_TOKEN":
    case "L0_UNSAFE_THRESHOLD":
      return 422;
    case "L0_UPGRADES_FULL":
      return 429;
    case "L0_INTERNAL":
      return 500;
    case "L0_UNAVAILABLE":
      return 503;
    default:
      return 409; // conflicts with L0's state: height, previous hash, freeze, fork, versions, upgrades
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > max) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks, size));
      }
    });
    req.on("error", (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
  });
}

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...(close ? { connection: "close" } : {}) });
  res.end(text);
}

function refusalBody(r: Refusal): Json {
  return { status: "refused", code: r.code, message: r.message, remedy: r.remedy, actual: r.actual, required: r.required };
}

/**
 * Serves `service` over HTTP until `close()`.
 * @throws StatecellError L0_LISTEN_FAILED when the address cannot be listened on
 */
export async function startL0Http(service: L0Service, options: L0HttpOptions = {}): Promise<L0Http> {
  const limits = service.info().limits;
  const maxBody = options.maxBodyBytes ?? 2 * Math.max(limits.maxSnapshotBytes, limits.maxRecordBytes) + 65_536;
  let closing = false;

  // Snapshot submissions waiting for the next batch (decided on the next turn of the event loop).
  let queue: Array<{ body: unknown; done: (a: SnapshotAnswer | Error) => void }> = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    let answers: SnapshotAnswer[] | undefined;
    try {
      answers = service.submitSnapshots(batch.map((b) => b.body));
    } catch (e) {
      for (const b of batch) b.done(e as Error);
      return;
    }
    batch.forEach((b, i) => b.done(answers![i]));
  };
  const submit = (body: unknown) =>
    new Promise<SnapshotAnswer | Error>((resolve) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ body, done: resolve });
    });

  const parse = async (req: IncomingMessage, res: ServerResponse, schema: ApiSchema, badCode: string): Promise<unknown> => {
    let raw: Buffer;
    try {
      raw = await readBody(req, maxBody);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        const r = refuse("L0_TOO_LARGE", `the request body is larger than this L0's limit of ${maxBody} bytes`, `send at most ${maxBody} bytes`, `more than ${maxBody} bytes`, maxBody);
        res.on("finish", () => req.socket.destroy());
        send(res, 413, refusalBody(r), true);
      }
      return undefined;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      send(res, 400, refusalBody(refuse("L0_BAD_REQUEST", "the request body is not JSON", "send a JSON object (content-type application/json)", null, "JSON")));
      return undefined;
    }
    const problem = schemaProblem(schema, body);
    if (problem !== undefined) {
      // An unknown encoding is L0_ENCODING however the rest looks: the record may be of a shape this L0 does not know.
      const enc = (body as { snapshot?: { encoding?: unknown }; record?: { encoding?: unknown } } | null);
      const encoding = enc?.snapshot?.encoding ?? enc?.record?.encoding;
      if (typeof encoding === "string" && !service.info().encodings.includes(encoding)) return body;
      send(res, 400, refusalBody(refuse(badCode, `the body does not match schemas/l0-api/${schema}.schema.json: ${problem}`, `send a body that matches schemas/l0-api/${schema}.schema.json (docs/l0.md)`, null, `schemas/l0-api/${schema}.schema.json`)));
      return undefined;
    }
    return body;
  };

  /** 200 with the answer (without its `ok`), or the refusal's status with the refusal (and an upgrade's readiness). */
  const answer = <A extends { ok: true }>(res: ServerResponse, a: A | { ok: false; refusal: Refusal; upgrade?: unknown }, body: (x: A) => unknown = ({ ok: _ok, ...rest }) => rest) => {
    if (a.ok) send(res, 200, body(a));
    else send(res, httpStatusOf(a.refusal.code), { ...(refusalBody(a.refusal) as object), ...(a.upgrade !== undefined ? { upgrade: a.upgrade } : {}) });
  };

  const notFound = (res: ServerResponse, what: string) => send(res, 404, refusalBody(refuse("L0_NOT_FOUND", `${what} is not known to this L0`, "check the name or number (GET /v1/info, /v1/global/latest)", what, null)));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (closing) {
      send(res, 503, refusalBody(refuse("L0_UNAVAILABLE", "this L0 is shutting down", "send it again to the restarted L0 (what it acknowledged is kept)", null, null)), true);
      return;
    }
    const url = new URL(req.url ?? "/", "http://l0");
    const parts = url.pathname.split("/").filter((p) => p.length > 0).map((p) => decodeURIComponent(p));
    const method = req.method ?? "GET";
    const route = (want: string) => {
      if (method === want) return true;
      res.setHeader("allow", want);
      send(res, 405, refusalBody(refuse("L0_METHOD", `${method} is not allowed on ${url.pathname}`, `use ${want}`, method, want)));
      return false;
    };
    if (parts.length === 1 && parts[0] === "healthz") {
      send(res, 200, { ok: true });
      return;
    }
    if (parts[0] !== "v1") {
      notFound(res, url.pathname.slice(0, 200));
      return;
    }
    const [, a, b, c] = parts;
    if (a === "snapshots" && parts.length === 2) {
      if (!route("POST")) return;
      const body = await parse(req, res, "submission", "L0_BAD_SNAPSHOT");
      if (body === undefined) return;
      const r = await submit(body);
      if (r instanceof Error) throw r;
      answer<Extract<SnapshotAnswer, { ok: true }>>(res, r, (x) => ({ status: x.status, ack: x.ack.ack, signature: x.ack.signature }));
      return;
    }
    if (a === "registrations" && parts.length === 2) {
      if (!route("POST")) return;
      const body = await parse(req, res, "registration", "L0_BAD_RECORD");
      if (body !== undefined) answer(res, service.register(body));
      return;
    }
    if (a === "upgrades" && parts.length === 2) {
      if (!route("POST")) return;
      const body = await parse(req, res, "upgrade", "L0_BAD_RECORD");
      if (body !== undefined) answer(res, service.upgrade(body));
      return;
    }
    if (a === "resumes" && parts.length === 2) {
      if (!route("POST")) return;
      const body = await parse(req, res, "resume", "L0_BAD_RECORD");
      if (body !== undefined) answer(res, service.resume(body));
      return;
    }
    if (!route("GET")) return;
    if (a === "info" && parts.length === 2) {
      send(res, 200, service.info());
      return;
    }
    if (a === "global" && parts.length === 3) {
      const g = b === "latest" ? service.latestGlobal() : /^[1-9][0-9]{0,15}$/.test(b) ? service.global(Number(b)) : undefined;
      if (g === undefined) notFound(res, b === "latest" ? "a global snapshot (none is cut yet)" : `global snapshot ${b.slice(0, 20)}`);
      else send(res, 200, g);
      return;
    }
    if (a === "channels" && (parts.length === 3 || parts.length === 4)) {
      const name = b;
      if (parts.length === 3) {
        const v = service.channel(name);
        if (v === undefined) notFound(res, `the channel ${JSON.stringify(name.slice(0, 64))}`);
        else send(res, 200, v);
        return;
      }
      if (c === "snapshots") {
        const from = Number(url.searchParams.get("from") ?? 1);
        const limit = Number(url.searchParams.get("limit") ?? 100);
        const list = service.snapshots(name, from, limit);
        if (list === undefined) notFound(res, `the channel ${JSON.stringify(name.slice(0, 64))}`);
        else send(res, 200, { channel: name, snapshots: list });
        return;
      }
      if (c === "upgrades") {
        const u = service.upgrades(name);
        if (u === undefined) notFound(res, `the channel ${JSON.stringify(name.slice(0, 64))}`);
        else send(res, 200, u);
        return;
      }
    }
    notFound(res, url.pathname.slice(0, 200));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      send(res, 500, refusalBody(refuse("L0_INTERNAL", `L0 failed on this request: ${e instanceof Error ? e.message.slice(0, 200) : "unknown error"}`, "send it again; if it fails again, report it with L0's log", null, null)), true);
    });
  });
  server.requestTimeout = options.requestTimeoutMs ?? 30_000;
  server.headersTimeout = Math.min(server.requestTimeout, 10_000);
  server.keepAliveTimeout = 5_000;
  server.maxConnections = 1_024;

  await new Promise<void>((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => reject(l0Error("L0_LISTEN_FAILED", `L0 cannot listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 0}: ${e.code ?? e.message}`, "choose another port (or 0 for a free one), or stop the process that holds it", { code: e.code }, e)));
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? "127.0.0.1";
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
