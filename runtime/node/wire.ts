/**
 * What nodes say to each other over the net module's logical channels, as
 * JSON text: every message names the channel and cell it is about, so one
 * authenticated connection between two nodes carries all their groups.
 *
 *   consensus  { ch, c, m }                 m: a proposal or vote (consensus/messages.ts)
 *   catchup    { ch, c, m }                 m: a catch-up request or response (consensus/catchup.ts)
 *   mempool    { ch, c, inputs: [...] }     submissions a node admitted, for its group's proposers
 *   outputs    { ch, from, to, fromSeq }    a request for the outputs of `from` to `to` from fromSeq on
 *              { ch, from, to, blocks: [{ block, outputs }] }   certified blocks of `from` with their outputs
 *              with from = to = "token" (no cell may be named so): the token cell's certified blocks
 *              for a token follower (token-follower.ts), `fromSeq` a token height and `blocks` [{ block }]
 *
 * Messages come from strangers (an authenticated peer can still be faulty):
 * `parseWire` checks the envelope's shape and names and never throws; what
 * is inside (`m`, inputs, blocks) is checked by its consumer.
 */
import type { Json } from "../core/canonical.js";

export type WireChannel = "consensus" | "catchup" | "mempool" | "outputs";

export type WireMessage =
  | { kind: "consensus" | "catchup"; ch: string; c: string; m: unknown }
  | { kind: "mempool"; ch: string; c: string; inputs: unknown[] }
  | { kind: "outputs-request"; ch: string; from: string; to: string; fromSeq: number }
  | { kind: "outputs"; ch: string; from: string; to: string; blocks: unknown[] };

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Most submissions one mempool message carries, and blocks one outputs response carries. */
export const MAX_GOSSIP_INPUTS = 1000;
export const MAX_OUTPUT_BLOCKS = 16;

export function encodeWire(message: Json): Uint8Array {
  return encoder.encode(JSON.stringify(message));
}

/** The envelope of a message received on `channel`, or why it is not one. */
export function parseWire(channel: string, bytes: Uint8Array): WireMessage | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(bytes));
  } catch {
    return { error: "not JSON text" };
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return { error: "not an object" };
  const o = v as Record<string, unknown>;
  if (typeof o.ch !== "string" || !NAME.test(o.ch)) return { error: "no channel name" };
  switch (channel) {
    case "consensus":
    case "catchup":
      if (typeof o.c !== "string" || !NAME.test(o.c) || !("m" in o)) return { error: "not { ch, c, m }" };
      return { kind: channel, ch: o.ch, c: o.c, m: o.m };
    case "mempool":
      if (typeof o.c !== "string" || !NAME.test(o.c) || !Array.isArray(o.inputs) || o.inputs.length > MAX_GOSSIP_INPUTS) return { error: "not { ch, c, inputs }" };
      return { kind: "mempool", ch: o.ch, c: o.c, inputs: o.inputs };
    case "outputs":
      if (typeof o.from !== "string" || !NAME.test(o.from) || typeof o.to !== "string" || !NAME.test(o.to)) return { error: "not { ch, from, to, ... }" };
      if (Array.isArray(o.blocks)) {
        if (o.blocks.length > MAX_OUTPUT_BLOCKS) return { error: "too many blocks" };
        return { kind: "outputs", ch: o.ch, from: o.from, to: o.to, blocks: o.blocks };
      }
      if (typeof o.fromSeq === "number" && Number.isSafeInteger(o.fromSeq) && o.fromSeq >= 0) return { kind: "outputs-request", ch: o.ch, from: o.from, to: o.to, fromSeq: o.fromSeq };
      return { error: "neither blocks nor fromSeq" };
    default:
      return { error: `unknown channel ${channel}` };
  }
}
