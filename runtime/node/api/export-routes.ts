/**
 * The routes `statecell export` reads (docs/api.md, "Export"):
 *
 *   GET /v1/export                                   { channels }
 *   GET /v1/export/{channel}                         summary: definition hash, cells (hosted, height), snapshots, registration, l0Key
 *   GET /v1/export/{channel}/definition              the channel file's text and code files
 *   GET /v1/export/{channel}/upgrades                { channel, definitions }: later versions with their activation heights
 *   GET /v1/export/{channel}/blocks/{cell}?from&limit   certified blocks of a hosted cell
 *   GET /v1/export/{channel}/snapshots?from&limit    certified snapshots
 *   GET /v1/export/{channel}/acks?from&limit         L0's acknowledgements
 *
 * `from` is a height (default 1), `limit` 1 to 1,000 (default 100).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { failure, type ApiFailure } from "./errors.js";
import type { HttpContext } from "./http.js";

export type ExportRoute = { part: "list" | "summary" | "definition" | "upgrades" | "snapshots" | "acks" | "blocks"; channel: string; cell: string; from: number; limit: number };

export const MAX_EXPORT_PAGE = 1000;
const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** The export route of `url`, a refusal, or undefined when the path is not under /v1/export. */
export function matchExport(url: string): ExportRoute | ApiFailure | undefined {
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== "/v1/export" && !path.startsWith("/v1/export/")) return undefined;
  const params = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
  const seg = path.split("/").slice(3);
  const bad = (what: string, remedy: string): ApiFailure => failure(400, "API_BAD_PARAM", what, remedy, { path: "", in: "url" });
  const num = (name: string, dflt: number, min: number, max: number): number | ApiFailure => {
    const t = params.get(name);
    if (t === null) return dflt;
    if (!/^[0-9]{1,16}$/.test(t) || Number(t) < min || Number(t) > max) return bad(`${name} is ${JSON.stringify(t.slice(0, 40))}; it is a whole number from ${min} to ${max}`, `give ${name} in decimal, from ${min} to ${max}`);
    return Number(t);
  };
  const from = num("from", 1, 0, Number.MAX_SAFE_INTEGER);
  if (typeof from !== "number") return from;
  const limit = num("limit", 100, 1, MAX_EXPORT_PAGE);
  if (typeof limit !== "number") return limit;
  const route: ExportRoute = { part: "list", channel: "", cell: "", from, limit };
  if (seg.length === 0) return route;
  if (!NAME.test(seg[0])) return bad(`the channel ${JSON.stringify(seg[0].slice(0, 80))} is not a channel name`, "use a name GET /v1/export lists");
  route.channel = seg[0];
  if (seg.length === 1) return { ...route, part: "summary" };
  if (seg.length === 2 && (seg[1] === "definition" || seg[1] === "upgrades" || seg[1] === "snapshots" || seg[1] === "acks")) return { ...route, part: seg[1] };
  if (seg.length === 3 && seg[1] === "blocks") {
    if (!NAME.test(seg[2])) return bad(`the cell ${JSON.stringify(seg[2].slice(0, 80))} is not a cell name`, "use a cell the summary lists");
    return { ...route, part: "blocks", cell: seg[2] };
  }
  return failure(404, "API_NOT_FOUND", `there is no route ${JSON.stringify(path.slice(0, 200))}`, "the export routes are GET /v1/export[/{channel}[/definition|/upgrades|/snapshots|/acks|/blocks/{cell}]]");
}

/** Answers an export route (GET and HEAD only). */
export function answerExport(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, route: ExportRoute, send: (status: number, body: unknown) => void, refuse: (f: ApiFailure, headers?: Record<string, string>) => void): void {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") return refuse(failure(405, "API_METHOD_NOT_ALLOWED", `the export routes answer GET and HEAD, not ${method.slice(0, 16)}`, "send GET"), { allow: "GET, HEAD" });
  const src = ctx.core.exports;
  if (src === undefined) return refuse(failure(404, "API_NOT_FOUND", "this node does not serve exports", "export from a validator node"));
  void res;
  if (route.part === "list") return send(200, { channels: src.channels() });
  const unknown = () => refuse(failure(404, "API_NOT_FOUND", `this node does not host the channel ${JSON.stringify(route.channel)}${route.part === "blocks" ? ` or its cell ${JSON.stringify(route.cell)}` : ""}`, "export from a node of the channel's groups (GET /v1/export lists its channels)"));
  switch (route.part) {
    case "summary": {
      const s = src.summary(route.channel);
      return s === undefined ? unknown() : send(200, s);
    }
    case "definition": {
      if (src.summary(route.channel) === undefined) return unknown();
      const d = src.definition(route.channel);
      if (d === undefined) return refuse(failure(409, "API_DEFINITION_CHANGED", `the channel file of ${route.channel} no longer hashes to the definition this node runs (it was edited after the node started)`, "restore the file the node started with, or restart the node with the new file"));
      return send(200, d);
    }
    case "upgrades": {
      const u = src.upgrades(route.channel);
      return u === undefined ? unknown() : send(200, { channel: route.channel, definitions: u });
    }
    case "blocks": {
      const b = src.blocks(route.channel, route.cell, route.from, route.limit);
      return b === undefined ? unknown() : send(200, { channel: route.channel, cell: route.cell, blocks: b });
    }
    case "snapshots": {
      const s = src.snapshots(route.channel, route.from, route.limit);
      return s === undefined ? unknown() : send(200, { channel: route.channel, snapshots: s });
    }
    case "acks": {
      const a = src.acks(route.channel, route.from, route.limit);
      return a === undefined ? unknown() : send(200, { channel: route.channel, acks: a });
    }
  }
}
