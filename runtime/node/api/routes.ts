/**
 * The API's routes: a request path to a route and its decoded parameters,
 * or the refusal (404 for a path that is no route, 400 for a parameter that
 * cannot be one). Methods are checked by the caller against `METHODS`.
 */
import { failure, type ApiFailure } from "./errors.js";

/** Every route of the API (docs/api.md lists them). */
export type RouteName = "inputs" | "input" | "head" | "block" | "state" | "record" | "stream" | "healthz" | "readyz";

/** A matched route. */
export interface Route {
  name: RouteName;
  channel: string;
  cell: string;
  id: string;
  height: number;
  key: string;
}

/** The methods each route answers (HEAD with every GET). */
export const METHODS: Readonly<Record<RouteName, readonly string[]>> = {
  inputs: ["POST"],
  input: ["GET", "HEAD"],
  head: ["GET", "HEAD"],
  block: ["GET", "HEAD"],
  state: ["GET", "HEAD"],
  record: ["GET", "HEAD"],
  stream: ["GET"],
  healthz: ["GET", "HEAD"],
  readyz: ["GET", "HEAD"],
};

const ROUTES_TEXT =
  "the routes are POST /v1/channels/{channel}/cells/{cell}/inputs, GET /v1/inputs/{id}, GET /v1/channels/{channel}/cells/{cell}[/state|/blocks/{height}|/records/{key}], GET /v1/stream (WebSocket), GET /healthz, GET /readyz";

const ID = /^[0-9a-f]{64}$/;
const HEIGHT = /^(0|[1-9][0-9]{0,15})$/;

/** The route of request target `url` (path and query), or the refusal. */
export function matchRoute(url: string, maxKeyLength: number): Route | ApiFailure {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const none = (): ApiFailure => failure(404, "API_NOT_FOUND", `there is no route ${JSON.stringify(path.length > 200 ? `${path.slice(0, 200)}…` : path)}`, ROUTES_TEXT);
  if (!path.startsWith("/")) return none();
  const seg = path.split("/");
  const route: Route = { name: "healthz", channel: "", cell: "", id: "", height: 0, key: "" };
  if (seg.length === 2) {
    if (seg[1] === "healthz" || seg[1] === "readyz") return { ...route, name: seg[1] };
    return none();
  }
  if (seg[1] !== "v1") return none();
  if (seg.length === 3 && seg[2] === "stream") return { ...route, name: "stream" };
  if (seg.length === 4 && seg[2] === "inputs") {
    const id = decode(seg[3], "id");
    if (typeof id !== "string") return id;
    if (!ID.test(id)) return badParam("id", `the input id ${JSON.stringify(id.slice(0, 80))} is not 64 lowercase hex characters`, "use the id a submission was answered with (the hex sha256 of its canonical JSON)");
    return { ...route, name: "input", id };
  }
  if (seg.length < 6 || seg[2] !== "channels" || seg[4] !== "cells") return none();
  const channel = decode(seg[3], "channel");
  if (typeof channel !== "string") return channel;
  const cell = decode(seg[5], "cell");
  if (typeof cell !== "string") return cell;
  const base = { ...route, channel, cell };
  if (seg.length === 6) return { ...base, name: "head" };
  if (seg.length === 7 && seg[6] === "inputs") return { ...base, name: "inputs" };
  if (seg.length === 7 && seg[6] === "state") return { ...base, name: "state" };
  if (seg.length === 8 && seg[6] === "blocks") {
    if (!HEIGHT.test(seg[7]) || !Number.isSafeInteger(Number(seg[7]))) {
      return badParam("height", `the height ${JSON.stringify(seg[7].slice(0, 40))} is not a whole number from 0 to 9007199254740991 in decimal digits`, "write the block's height in decimal, e.g. /blocks/12");
    }
    return { ...base, name: "block", height: Number(seg[7]) };
  }
  if (seg.length === 8 && seg[6] === "records") {
    const key = decode(seg[7], "key");
    if (typeof key !== "string") return key;
    if (key.length > maxKeyLength) return badParam("key", `the record key is ${key.length} characters; the limit is ${maxKeyLength}`, "ask for a record by its key as the cell stores it");
    return { ...base, name: "record", key };
  }
  return none();
}

/** A percent-decoded path segment, or 400 for one that is not UTF-8 percent-encoding. */
function decode(segment: string, name: string): string | ApiFailure {
  if (segment.indexOf("%") < 0) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return badParam(name, `the ${name} in the URL is not valid percent-encoded UTF-8`, "percent-encode the UTF-8 bytes of the text (encodeURIComponent)");
  }
}

function badParam(name: string, message: string, remedy: string): ApiFailure {
  return failure(400, "API_BAD_PARAM", message, remedy, { path: `/${name}`, in: "url" });
}
