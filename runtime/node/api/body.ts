/**
 * Reading a request body within its bounds: the declared and the received
 * size are checked as bytes arrive (a body over the limit is never held
 * whole), the client has `bodyTimeoutMs` to finish, and only JSON in UTF-8
 * without a content encoding is read (a compressed body could expand past
 * any limit after it was counted).
 */
import type { IncomingMessage } from "node:http";
import { failure, type ApiFailure } from "./errors.js";

/** What reading ended with: the body's text, a refusal, or nothing (the client went away). */
export type BodyResult = { text: string } | { failure: ApiFailure } | { gone: true };

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Refuses a request whose headers announce a body the API does not read (415), or undefined. */
export function checkBodyHeaders(req: IncomingMessage, maxBytes: number): ApiFailure | undefined {
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== "identity") {
    return failure(415, "API_UNSUPPORTED_MEDIA_TYPE", `the body is sent with content-encoding ${JSON.stringify(encoding.slice(0, 40))}; the API reads only uncompressed bodies`, "send the JSON uncompressed (no Content-Encoding header)");
  }
  const type = req.headers["content-type"];
  if (type !== undefined) {
    const [media, ...params] = type.split(";").map((s) => s.trim().toLowerCase());
    const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
    if (media !== "application/json" || (charset !== undefined && charset !== "utf-8")) {
      return failure(415, "API_UNSUPPORTED_MEDIA_TYPE", `the body is ${JSON.stringify(type.slice(0, 60))}; the API reads application/json in UTF-8`, "send the header `Content-Type: application/json` (curl: -H 'content-type: application/json')");
    }
  }
  const length = req.headers["content-length"];
  if (length !== undefined && Number(length) > maxBytes) {
    return failure(413, "API_TOO_LARGE", `the body is ${Number(length)} bytes; the limit is ${maxBytes} bytes`, `send at most ${maxBytes} bytes per request: split the batch`, { path: "", in: "body" });
  }
  return undefined;
}

/**
 * Reads the body of `req`, at most `maxBytes`, within `timeoutMs`. Stops
 * reading at the first byte over the limit; the caller answers and closes.
 */
export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("aborted", onGone);
      req.off("error", onGone);
      req.off("close", onClose);
      if (!("text" in r)) req.pause();
      resolve(r);
    };
    const timer = setTimeout(() => {
      finish({
        failure: failure(408, "API_BODY_TIMEOUT", `the body did not arrive within ${timeoutMs} ms (${size} bytes received)`, "send the whole body at once, right after the headers", { path: "", in: "body" }),
      });
    }, timeoutMs);
    timer.unref();
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        finish({ failure: failure(413, "API_TOO_LARGE", `the body is over ${maxBytes} bytes (the limit)`, `send at most ${maxBytes} bytes per request: split the batch`, { path: "", in: "body" }) });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
      let text: string;
      try {
        text = utf8.decode(bytes);
      } catch {
        finish({ failure: failure(400, "API_NOT_UTF8", "the body is not valid UTF-8", "send JSON text encoded as UTF-8", { path: "", in: "body" }) });
        return;
      }
      finish({ text });
    };
    const onGone = () => finish({ gone: true });
    const onClose = () => {
      if (!req.complete) finish({ gone: true });
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("aborted", onGone);
    req.on("error", onGone);
    req.on("close", onClose);
  });
}
