/**
 * The client the channel side uses to talk to an L0 (its outbox submits
 * snapshots through it; `statecell channel readiness` reads upgrades). Every
 * call resolves, never rejects: to the value, or to a refusal with L0's code,
 * or to L0_UNREACHABLE / L0_BAD_RESPONSE (retryable) when no answer came.
 * Given L0's keys, it checks every acknowledgement before returning it, so a
 * caller never stores one that does not verify.
 */
import type { Json } from "../core/canonical.js";
import { verifyAck } from "./global.js";
import type { ChannelView, L0Info, RegistrationAnswer, ResumeAnswer, UpgradeAnswer } from "./service.js";
import type { StoredSnapshot } from "./store.js";
import type { UpgradeReadiness } from "./governance.js";
import type { DefinitionChange } from "./model.js";
import type { CertifiedGlobal, Registration, Resume, SignedAck, SignedRecord, SnapshotSubmission, Upgrade } from "./types.js";

/** Options of l0Client. */
export interface L0ClientOptions {
  /** Milliseconds a request may take, connection included (default 10,000). */
  timeoutMs?: number;
  /** L0's public keys (GET /v1/info): when given, every acknowledgement is verified before it is returned. */
  l0Keys?: readonly string[];
  /** Most bytes of an answer read (default 64 MiB). */
  maxResponseBytes?: number;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
}

/** A refusal or a failure to get an answer. `retryable` is true when no answer from L0 was read (send the same request again later). */
export interface L0Failure {
  ok: false;
  code: string;
  message: string;
  remedy: string;
  actual: Json;
  required: Json;
  /** The HTTP status, or null when no answer came. */
  httpStatus: number | null;
  retryable: boolean;
  /** For a refused upgrade: its readiness. */
  upgrade?: UpgradeReadiness;
}

/** What every call resolves to. */
export type L0Result<T> = ({ ok: true } & T) | L0Failure;

type Ok<A> = Omit<Extract<A, { ok: true }>, "ok">;

/** The client of one L0. */
export interface L0Client {
  readonly url: string;
  info(): Promise<L0Result<{ info: L0Info }>>;
  register(record: SignedRecord<Registration>): Promise<L0Result<Ok<RegistrationAnswer>>>;
  /** POST /v1/snapshots: the acknowledgement (accepted, or the same one again: known), or the refusal. */
  submitSnapshot(submission: SnapshotSubmission): Promise<L0Result<{ status: "accepted" | "known" | "superseded"; ack: SignedAck }>>;
  upgrade(record: SignedRecord<Upgrade>): Promise<L0Result<Ok<UpgradeAnswer>>>;
  resume(record: SignedRecord<Resume>): Promise<L0Result<Ok<ResumeAnswer>>>;
  latestGlobal(): Promise<L0Result<{ global: CertifiedGlobal }>>;
  global(ordinal: number): Promise<L0Result<{ global: CertifiedGlobal }>>;
  channel(name: string): Promise<L0Result<{ channel: ChannelView }>>;
  snapshots(name: string, range?: { from?: number; limit?: number }): Promise<L0Result<{ snapshots: StoredSnapshot[] }>>;
  /** GET /v1/channels/{channel}/upgrades: who approved each upgrade and whether its threshold is met. */
  upgrades(name: string): Promise<L0Result<{ upgrades: { channel: string; registration: number; snapshotGroup: string; threshold: number; definitionHash: string; scheduled: DefinitionChange | null; upgrades: UpgradeReadiness[] } }>>;
}

function failure(code: string, message: string, remedy: string, httpStatus: number | null, retryable: boolean): L0Failure {
  return { ok: false, code, message, remedy, actual: null, required: null, httpStatus, retryable };
}

async function readBounded(res: Response, max: number): Promise<string | undefined> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * A client of the L0 at `url` (e.g. "http://127.0.0.1:7400").
 * @example const r = await l0Client(url, { l0Keys: [key] }).submitSnapshot(sub); if (r.ok) store(r.ack)
 */
export function l0Client(url: string, options: L0ClientOptions = {}): L0Client {
  const base = url.replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
  const doFetch = options.fetch ?? fetch;

  async function call(method: "GET" | "POST", path: string, body?: unknown): Promise<{ ok: true; status: number; json: Record<string, unknown> } | L0Failure> {
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (e) {
      const why = e instanceof Error ? (e.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : ((e.cause as Error | undefined)?.message ?? e.message)) : String(e);
      return failure("L0_UNREACHABLE", `L0 at ${base} did not answer ${method} ${path}: ${why.slice(0, 200)}`, "send the same request again later: L0 answers a snapshot it already holds with the same acknowledgement", null, true);
    }
    let text: string | undefined;
    try {
      text = await readBounded(res, maxBytes);
    } catch (e) {
      return failure("L0_UNREACHABLE", `the answer of L0 at ${base} to ${method} ${path} was cut off: ${e instanceof Error ? e.message.slice(0, 200) : String(e)}`, "send the same request again later", res.status, true);
    }
    if (text === undefined) return failure("L0_BAD_RESPONSE", `the answer of L0 at ${base} to ${method} ${path} is larger than ${maxBytes} bytes`, "ask for less (a smaller limit), or raise maxResponseBytes", res.status, true);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return failure("L0_BAD_RESPONSE", `the answer of L0 at ${base} to ${method} ${path} (HTTP ${res.status}) is not JSON`, "check that the URL is an L0's; send the request again later", res.status, true);
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) return failure("L0_BAD_RESPONSE", `the answer of L0 at ${base} to ${method} ${path} is not a JSON object`, "check that the URL is an L0's", res.status, true);
    const o = json as Record<string, unknown>;
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status, json: o };
    if (typeof o.code === "string" && o.code.startsWith("L0_")) {
      return {
        ok: false,
        code: o.code,
        message: String(o.message ?? ""),
        remedy: String(o.remedy ?? ""),
        actual: (o.actual ?? null) as Json,
        required: (o.required ?? null) as Json,
        httpStatus: res.status,
        retryable: res.status >= 500,
        ...(o.upgrade !== undefined ? { upgrade: o.upgrade as UpgradeReadiness } : {}),
      };
    }
    return failure("L0_BAD_RESPONSE", `L0 at ${base} answered HTTP ${res.status} without a code to ${method} ${path}`, "check that the URL is an L0's", res.status, res.status >= 500);
  }

  const get = async <T>(path: string, wrap: (json: Record<string, unknown>) => T): Promise<L0Result<T>> => {
    const r = await call("GET", path);
    return r.ok ? { ok: true, ...wrap(r.json) } : r;
  };
  const post = async <T>(path: string, body: unknown): Promise<L0Result<T>> => {
    const r = await call("POST", path, body);
    if (!r.ok) return r;
    return { ok: true, ...(r.json as T) };
  };
  const name = (n: string) => encodeURIComponent(n);

  return {
    url: base,
    info: () => get("/v1/info", (j) => ({ info: j as unknown as L0Info })),
    register: (record) => post("/v1/registrations", record),
    async submitSnapshot(submission) {
      const r = await call("POST", "/v1/snapshots", submission);
      if (!r.ok) return r;
      const signed: SignedAck = { ack: r.json.ack as SignedAck["ack"], signature: r.json.signature as string };
      const status = r.json.status as "accepted" | "known" | "superseded";
      if (options.l0Keys !== undefined) {
        const hash = typeof submission?.hash === "string" ? submission.hash : "";
        const check = verifyAck(signed, options.l0Keys, { channel: submission?.snapshot?.channel, height: submission?.snapshot?.height, hash });
        if (!check.ok) return { ...check.refusal, ok: false, httpStatus: r.status, retryable: true };
      }
      return { ok: true, status, ack: signed };
    },
    upgrade: (record) => post("/v1/upgrades", record),
    resume: (record) => post("/v1/resumes", record),
    latestGlobal: () => get("/v1/global/latest", (j) => ({ global: j as unknown as CertifiedGlobal })),
    global: (ordinal) => get(`/v1/global/${encodeURIComponent(String(ordinal))}`, (j) => ({ global: j as unknown as CertifiedGlobal })),
    channel: (n) => get(`/v1/channels/${name(n)}`, (j) => ({ channel: j as unknown as ChannelView })),
    snapshots: (n, range = {}) => get(`/v1/channels/${name(n)}/snapshots?from=${range.from ?? 1}&limit=${range.limit ?? 100}`, (j) => ({ snapshots: j.snapshots as StoredSnapshot[] })),
    upgrades: (n) => get(`/v1/channels/${name(n)}/upgrades`, (j) => ({ upgrades: j as never })),
  };
}
