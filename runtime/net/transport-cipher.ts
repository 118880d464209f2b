/**
 * Transport encryption after the handshake: ChaCha20-Poly1305 (node:crypto)
 * with one key per direction (Noise's split: `tx` for what we send, `rx` for
 * what we receive) and a counter nonce that starts at 0 and grows by one per
 * frame. The counter is never sent: both ends keep it, so a frame that is
 * replayed, dropped or reordered is opened with the wrong nonce and fails
 * its tag, and the connection closes (docs/net.md "Encryption").
 *
 * Nonce (12 bytes, as Noise's ChaChaPoly): 4 zero bytes, then the counter as
 * a little-endian 64-bit integer. Counters stay below 2^53 (a JavaScript
 * number): at a million frames per second that is 285 years of one
 * connection, so no rekeying is needed.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { TAG_BYTES } from "./frame.js";

function nonceOf(counter: number, out: Buffer): Buffer {
  out.writeUInt32LE(0, 0);
  out.writeUInt32LE(counter % 0x1_0000_0000, 4);
  out.writeUInt32LE(Math.floor(counter / 0x1_0000_0000), 8);
  return out;
}

/** One direction's key and counter nonce (what sealing and opening share). */
abstract class Direction {
  protected counter = 0;
  protected readonly key: Buffer;
  protected readonly nonce = Buffer.alloc(12);

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`a ChaCha20-Poly1305 key is 32 bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }
}

/** Encrypts the frames one side sends, in order. */
export class FrameSealer extends Direction {
  /** Frames sealed so far (the next nonce). */
  get sent(): number {
    return this.counter;
  }

  /** Encrypts the concatenation of `parts` under the next nonce: ciphertext followed by the 16-byte tag. */
  seal(parts: readonly Uint8Array[]): Buffer {
    const c = createCipheriv("chacha20-poly1305", this.key, nonceOf(this.counter++, this.nonce), { authTagLength: TAG_BYTES });
    const out: Buffer[] = [];
    for (const p of parts) out.push(c.update(p));
    out.push(c.final(), c.getAuthTag());
    return Buffer.concat(out);
  }
}

/** Decrypts the frames the other side sends, in order. */
export class FrameOpener extends Direction {
  /** Frames opened so far. */
  get received(): number {
    return this.counter;
  }

  /**
   * The plaintext of the next frame, or null when its tag does not verify
   * under the expected nonce (tampered, replayed, reordered, or not ours).
   * A failed frame consumes no nonce; the caller closes the connection.
   */
  open(wire: Uint8Array): Buffer | null {
    if (wire.length < TAG_BYTES) return null;
    const d = createDecipheriv("chacha20-poly1305", this.key, nonceOf(this.counter, this.nonce), { authTagLength: TAG_BYTES });
    d.setAuthTag(wire.subarray(wire.length - TAG_BYTES));
    const body = d.update(wire.subarray(0, wire.length - TAG_BYTES));
    try {
      d.final();
    } catch {
      return null;
    }
    this.counter++;
    return body;
  }
}
