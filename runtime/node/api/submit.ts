/**
 * From a body's text to the core's results, shared by POST .../inputs and
 * the stream's `submit`: bound and scan the text, parse it, check the
 * envelope against its schema, check each submission's own text for what
 * parsing would lose (a repeated key, a number a double cannot hold), hand
 * the rest to `core.submit`, and answer every submission in the order sent.
 */
import { createHash } from "node:crypto";
import type { ValidateFunction } from "ajv";
import { isStatecellError } from "../../core/errors.js";
import { scanJsonText } from "../../cells/json-scan.js";
import type { NodeCore, SubmitResult } from "../core-types.js";
import { failure, type ApiFailure } from "./errors.js";
import { isScan, scanRequestText, type TextScan } from "./json-text.js";
import type { ApiLimits } from "./limits.js";
import { schemaFailure } from "./schemas.js";

/** A body that passed the bounds, JSON.parse and its schema. */
export interface ParsedBody {
  value: Record<string, unknown>;
  scan: TextScan;
  text: string;
}

/**
 * Scans, parses and validates `text` (`what` names it in messages: "the
 * body", "the message"). A top-level key given twice is refused (400
 * API_DUPLICATE_KEY) unless the body is itself one submission, whose text
 * is then judged like any submission's (below).
 */
export function parseBody(text: string, validate: ValidateFunction, what: string, limits: Readonly<ApiLimits>): ParsedBody | (ApiFailure & { parsed?: unknown }) {
  const scan = scanRequestText(text, limits.maxDepth, limits.maxInputsPerRequest);
  if (!isScan(scan)) return scan;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    // Only the offset is taken from the engine's message, never its words.
    const at = /position (\d+)/.exec(e instanceof Error ? e.message : "");
    return failure(
      400,
      "API_NOT_JSON",
      text.trim() === "" ? `${what} is empty` : `${what} is not valid JSON${at ? ` (near character ${at[1]})` : ""}`,
      "send one JSON object, e.g. { \"data\": { ... } } or { \"inputs\": [ ... ] }",
      { path: "", in: "body" },
    );
  }
  // A refusal after parsing carries the parsed value, so a stream can still echo the message's ref.
  if (!validate(value)) return { ...schemaFailure(validate, value, what), parsed: value };
  if (scan.duplicate !== undefined && (scan.batch || what !== "the body")) {
    const f = failure(400, "API_DUPLICATE_KEY", `${what} has the key "${scan.duplicate.slice(0, 64)}" twice`, "write each key once: JSON parsers disagree on which of two equal keys counts", { path: "", in: "body" });
    return { ...f, parsed: value };
  }
  return { value: value as Record<string, unknown>, scan, text };
}

/** The submissions of a parsed body, in order (the `inputs` list, or the body itself). */
export function submissionsOf(body: ParsedBody): unknown[] {
  return body.scan.batch ? (body.value.inputs as unknown[]) : [body.value];
}

/**
 * For each submission, the refusal its own text earns, or undefined: its
 * text is checked as sent (runtime/cells/json-scan.ts, the check admission
 * applies to text), because the parsed value can no longer tell. A refused
 * submission never reaches the core; its id is the sha256 of its text as
 * sent (a canonical text cannot hold what it was refused for, so the id is
 * never another submission's), and the node does not store it.
 */
export function precheck(body: ParsedBody, count: number, maxDepth: number): Array<SubmitResult | undefined> | undefined {
  let out: Array<SubmitResult | undefined> | undefined;
  const { spans } = body.scan;
  for (let i = 0; i < count; i++) {
    const piece = body.text.slice(spans[2 * i], spans[2 * i + 1]);
    const bad = scanJsonText(piece, maxDepth);
    if (bad === undefined) continue;
    out ??= new Array<SubmitResult | undefined>(count);
    const id = createHash("sha256").update(piece, "utf8").digest("hex");
    out[i] = { id, status: "rejected", code: bad.code, message: bad.message };
  }
  return out;
}

/** What `submit` resolves to: the results in order, or the refusal of the whole request. */
export type SubmitOutcome = { results: SubmitResult[] } | { failure: ApiFailure };

/**
 * Hands the submissions that passed `precheck` to `core.submit` and merges
 * its results with the prechecked refusals, in the order sent. The core's
 * NODE_NOT_HOSTED becomes 404; another statecell error 503 with its code;
 * anything else 500 API_INTERNAL (reported to `onInternal`).
 */
export async function submitTo(
  core: NodeCore,
  channel: string,
  cell: string,
  submissions: unknown[],
  pre: Array<SubmitResult | undefined> | undefined,
  onInternal: (e: unknown) => void,
  client?: string,
): Promise<SubmitOutcome> {
  const pass = pre === undefined ? submissions : submissions.filter((_, i) => pre[i] === undefined);
  let got: SubmitResult[];
  try {
    if (pass.length === 0) {
      // Nothing for the core to admit, but a cell it does not host is still a 404.
      if (!core.hosted().some((h) => h.channel === channel && h.cell === cell)) return { failure: notHosted(channel, cell, core) };
      got = [];
    } else {
      got = await core.submit(channel, cell, pass, client);
    }
  } catch (e) {
    if (isStatecellError(e) && e.code === "NODE_NOT_HOSTED") return { failure: notHosted(channel, cell, core) };
    if (isStatecellError(e)) {
      return { failure: failure(503, e.code, e.message, e.remedy ?? "send the submissions again later") };
    }
    onInternal(e);
    return { failure: internalFailure() };
  }
  if (!Array.isArray(got) || got.length !== pass.length) {
    onInternal(new Error(`core.submit answered ${Array.isArray(got) ? got.length : typeof got} results for ${pass.length} submissions`));
    return { failure: internalFailure() };
  }
  if (pre === undefined) return { results: got };
  const results: SubmitResult[] = new Array<SubmitResult>(submissions.length);
  let j = 0;
  for (let i = 0; i < submissions.length; i++) results[i] = pre[i] ?? got[j++];
  return { results };
}

/** 404 NODE_NOT_HOSTED for `channel/cell`, naming a few cells the node does host. */
export function notHosted(channel: string, cell: string, core: NodeCore): ApiFailure {
  let hosted: string[] = [];
  try {
    hosted = core.hosted().map((h) => `${h.channel}/${h.cell}`);
  } catch {
    hosted = [];
  }
  const listed = hosted.slice(0, 12).join(", ") + (hosted.length > 12 ? ` and ${hosted.length - 12} more` : "");
  return failure(
    404,
    "NODE_NOT_HOSTED",
    `this node does not host cell ${JSON.stringify(cell.slice(0, 128))} of channel ${JSON.stringify(channel.slice(0, 128))}`,
    hosted.length > 0 ? `send it to a node that hosts it (this one hosts ${listed})` : "send it to a node that hosts the channel (this node hosts none yet)",
  );
}

/** 500 API_INTERNAL: a fault of the node, not of the request. */
export function internalFailure(): ApiFailure {
  return failure(500, "API_INTERNAL", "the node failed while handling this request", "send it again; if it keeps failing, report it to the node's operator");
}
