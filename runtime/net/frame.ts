/**
 * Transport frames, the plaintext inside each encrypted WebSocket message
 * (docs/net.md "Frames"):
 *
 *   byte 0     version (1)
 *   byte 1     type: 1 data, 2 ping, 3 pong, 4 hello
 *   bytes 2-3  logical channel id, big-endian (0 for ping, pong, hello)
 *   bytes 4-   body: the message (data), 8 bytes (ping, pong), 8 bytes (hello)
 *
 * Pure functions: no I/O, no clock.
 */
import type { CloseReason } from "./reasons.js";

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 4;
/** Poly1305 tag appended to every encrypted frame. */
export const TAG_BYTES = 16;

export const TYPE_DATA = 1;
export const TYPE_PING = 2;
export const TYPE_PONG = 3;
export const TYPE_HELLO = 4;

/** Body of ping and pong: an 8-byte token the pong echoes. */
export const PING_BODY_BYTES = 8;
/** Body of hello: receive rate (u32 BE, bytes/s, 0 = no limit) and burst (u32 BE, bytes). */
export const HELLO_BODY_BYTES = 8;

/** A decoded frame. `body` is a view into the decrypted bytes (no copy). */
export type Frame =
  | { type: typeof TYPE_DATA; channel: number; body: Uint8Array }
  | { type: typeof TYPE_PING | typeof TYPE_PONG; token: Uint8Array }
  | { type: typeof TYPE_HELLO; receiveBytesPerSecond: number; burstBytes: number };

/** A 4-byte frame header. */
export function frameHeader(type: number, channel: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h[0] = FRAME_VERSION;
  h[1] = type;
  h.writeUInt16BE(channel, 2);
  return h;
}

/** Hello body announcing this side's receive limits (rates above 2^32-1 bytes/s are announced as no limit). */
export function helloBody(receiveBytesPerSecond: number, burstBytes: number): Buffer {
  const b = Buffer.alloc(HELLO_BODY_BYTES);
  b.writeUInt32BE(Number.isFinite(receiveBytesPerSecond) && receiveBytesPerSecond <= 0xffffffff ? receiveBytesPerSecond : 0, 0);
  b.writeUInt32BE(Math.min(burstBytes, 0xffffffff), 4);
  return b;
}

/**
 * Decodes a decrypted frame. Anything but the exact layout above is refused
 * with the reason the connection closes for: a version other than 1
 * (unsupported-version), a short frame, an unknown type, a control frame
 * with a channel id or a body of the wrong length, a data frame on channel 0
 * (malformed-frame). Channel ids and sizes are checked by the caller, which
 * knows the declared channels.
 */
export function decodeFrame(plain: Uint8Array): Frame | { error: CloseReason } {
  if (plain.length < FRAME_HEADER_BYTES) return { error: "malformed-frame" };
  if (plain[0] !== FRAME_VERSION) return { error: "unsupported-version" };
  const type = plain[1];
  const channel = (plain[2] << 8) | plain[3];
  const body = plain.subarray(FRAME_HEADER_BYTES);
  switch (type) {
    case TYPE_DATA:
      return channel === 0 ? { error: "malformed-frame" } : { type, channel, body };
    case TYPE_PING:
    case TYPE_PONG:
      return channel !== 0 || body.length !== PING_BODY_BYTES ? { error: "malformed-frame" } : { type, token: body };
    case TYPE_HELLO: {
      if (channel !== 0 || body.length !== HELLO_BODY_BYTES) return { error: "malformed-frame" };
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const rate = v.getUint32(0);
      return { type, receiveBytesPerSecond: rate === 0 ? Infinity : rate, burstBytes: v.getUint32(4) };
    }
    default:
      return { error: "malformed-frame" };
  }
}
