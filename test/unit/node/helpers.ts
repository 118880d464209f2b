/**
 * Test helpers for the client API: a server over a fake core on a free
 * 127.0.0.1 port, plain HTTP requests (a fresh connection each, no agent),
 * raw sockets that send whatever bytes a test wants at whatever pace, and a
 * WebSocket client that collects what the stream sends.
 */
import { request } from "node:http";
import { createConnection } from "node:net";
import { WebSocket } from "ws";
import { createApiServer, type ApiLimits, type ApiServer } from "../../../runtime/node/api/index.js";
import { fakeCore, type FakeCore } from "./fake-core.js";

export interface TestApi {
  api: ApiServer;
  core: FakeCore;
  port: number;
  url: string;
  internal: unknown[];
}

/** A server over `core` (a fresh fake core by default), listening on a free port. */
export async function startApi(limits: Partial<ApiLimits> = {}, core: FakeCore = fakeCore()): Promise<TestApi> {
  const internal: unknown[] = [];
  const api = createApiServer(core, { limits, onInternalError: (e) => internal.push(e) });
  const { port, url } = await api.listen({ host: "127.0.0.1", port: 0 });
  return { api, core, port, url, internal };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** One request on its own connection; resolves the answer (json is undefined when the body is not JSON). */
export function call(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A header given as "" is left out (to send a body without a content type).
    const h: Record<string, string> = body !== undefined ? { "content-type": "application/json" } : {};
    for (const [k, v] of Object.entries(headers)) {
      if (v === "") delete h[k];
      else h[k] = v;
    }
    const req = request({ host: "127.0.0.1", port, method, path, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

/** POSTs `body` (a value is sent as JSON) to the inputs route of `channel/cell`. */
export function submit(port: number, body: unknown, cell = "air-quality/readings"): Promise<Answer> {
  const [channel, name] = cell.split("/");
  return call(port, "POST", `/v1/channels/${channel}/cells/${name}/inputs`, typeof body === "string" ? body : JSON.stringify(body));
}

/**
 * Opens a raw TCP connection, writes `chunks` one every `gapMs`, and
 * resolves what came back when the server closes (or after `maxMs`).
 */
export function raw(port: number, chunks: Array<string | Buffer>, gapMs = 0, maxMs = 10_000): Promise<{ text: string; ms: number; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = createConnection({ port, host: "127.0.0.1" });
    let text = "";
    let done = false;
    const finish = (closedByServer: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, ms: performance.now() - t0, closedByServer });
    };
    const timer = setTimeout(() => finish(false), maxMs);
    s.on("data", (d: Buffer) => (text += d.toString("latin1")));
    s.on("error", () => undefined);
    s.on("close", () => finish(true));
    let i = 0;
    const next = () => {
      if (done || s.destroyed || i >= chunks.length) return;
      s.write(chunks[i++]);
      if (gapMs === 0) next();
      else setTimeout(next, gapMs);
    };
    s.on("connect", next);
  });
}

/** The status code of a raw HTTP answer ("HTTP/1.1 408 ..." -> 408), or 0. */
export function statusOf(text: string): number {
  const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** The JSON body of a raw HTTP answer. */
export function bodyOf(text: string): any {
  const i = text.indexOf("\r\n\r\n");
  return i < 0 ? undefined : JSON.parse(text.slice(i + 4));
}

export interface TestStream {
  ws: WebSocket;
  messages: any[];
  closed: Promise<{ code: number; reason: string }>;
  /** Resolves the first message (after `from`) that `pred` accepts. */
  next(pred: (m: any) => boolean, ms?: number): Promise<any>;
  send(value: unknown): void;
}

/** Opens the stream of the server at `url` and collects its messages. */
export async function openStream(url: string): Promise<TestStream> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/stream`, { perMessageDeflate: false });
  const messages: any[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on("message", (d) => messages.push(JSON.parse(d.toString())));
  ws.on("error", () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once("error", reject);
  });
  return {
    ws,
    messages,
    closed,
    send: (value) => ws.send(typeof value === "string" ? value : JSON.stringify(value)),
    async next(pred, ms = 5_000) {
      await waitFor(() => messages.some(pred), ms, "a stream message");
      return messages.find(pred);
    },
  };
}

/** Resolves when `cond()` holds; rejects after `ms`. */
export async function waitFor(cond: () => boolean, ms = 5_000, what = "condition"): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Asserts the server still answers: GET /healthz is 200. */
export async function stillServing(port: number): Promise<boolean> {
  const r = await call(port, "GET", "/healthz");
  return r.status === 200 && r.json?.ok === true;
}
