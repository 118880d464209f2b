/**
 * What the API answers when it refuses a request: an HTTP status and a body
 * `{ code, message, remedy, path?, in? }`. Codes are listed in
 * docs/errors.md and docs/api.md; messages are the API's own words (never
 * the text of a library or the engine), and never repeat more than a short,
 * cut piece of what the client sent.
 */

/** Codes the API itself answers with (the core's codes pass through as they are). */
export type ApiCode =
  | "API_BAD_OPTIONS"
  | "API_LISTEN_FAILED"
  | "API_NOT_FOUND"
  | "API_METHOD_NOT_ALLOWED"
  | "API_BAD_PARAM"
  | "API_UNSUPPORTED_MEDIA_TYPE"
  | "API_TOO_LARGE"
  | "API_TOO_MANY_INPUTS"
  | "API_TOO_DEEP"
  | "API_NOT_UTF8"
  | "API_NOT_JSON"
  | "API_DUPLICATE_KEY"
  | "API_BAD_BODY"
  | "API_BODY_TIMEOUT"
  | "API_REQUEST_TIMEOUT"
  | "API_HEADERS_TOO_LARGE"
  | "API_BAD_HTTP"
  | "API_UNKNOWN_INPUT"
  | "API_NO_HEAD"
  | "API_NO_BLOCK"
  | "API_NO_RECORD"
  | "API_NOT_READY"
  | "API_UPGRADE_REQUIRED"
  | "API_TOO_MANY_STREAMS"
  | "API_SLOW_CONSUMER"
  | "API_QUEUE_FULL"
  | "API_NO_PONG"
  | "API_SHUTTING_DOWN"
  | "API_INTERNAL";

/** Where a refused part of a request is: its body (or stream message) or its URL. */
export type Place = "body" | "url";

/** A refusal: HTTP status and answer body. */
export interface ApiFailure {
  status: number;
  code: string;
  message: string;
  remedy: string;
  /** JSON Pointer of what is wrong (into the body, or into the route's parameters for `in: "url"`). */
  path?: string;
  in?: Place;
}

/** A refusal with a status, code, message and remedy. */
export function failure(status: number, code: ApiCode | string, message: string, remedy: string, where?: { path: string; in: Place }): ApiFailure {
  return { status, code, message, remedy, ...(where === undefined ? {} : { path: where.path, in: where.in }) };
}

/** The answer body of a refusal. */
export function failureBody(f: ApiFailure): Record<string, string> {
  const body: Record<string, string> = { code: f.code, message: f.message, remedy: f.remedy };
  if (f.path !== undefined) body.path = f.path;
  if (f.in !== undefined) body.in = f.in;
  return body;
}

/** `"abc…"` (at most `max` characters of `s`, quoted) for messages that name what a client sent. */
export function shown(s: string, max = 64): string {
  return JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s);
}

/** A JSON Pointer segment (RFC 6901): `~` as `~0`, `/` as `~1`. */
export function pointerSegment(s: string | number): string {
  return String(s).replace(/~/g, "~0").replace(/\//g, "~1");
}
