/**
 * The send queues of one peer: one bounded FIFO per logical channel, served
 * by strict priority (the highest-priority channel with anything queued goes
 * first; within a channel, first in first out). Bounds per channel: a
 * message count and a byte count; a message that does not fit is dropped
 * (counted) or refused, as the channel declares. Pure data structure.
 */
import type { Channel } from "./options.js";

/** What happened to a message handed to the network. */
export type EnqueueResult = "queued" | "dropped" | "refused";

class Fifo {
  items: Uint8Array[] = [];
  head = 0;
  bytes = 0;
  /** A refused send happened since the queue last had room: onDrain is owed. */
  owesDrain = false;

  get length(): number {
    return this.items.length - this.head;
  }

  push(b: Uint8Array): void {
    this.items.push(b);
    this.bytes += b.length;
  }

  shift(): Uint8Array {
    const b = this.items[this.head];
    this.items[this.head++] = EMPTY;
    this.bytes -= b.length;
    // Compact once the consumed prefix is most of the array: amortised O(1) per message.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return b;
  }
}

const EMPTY = new Uint8Array(0);

/** Priority send queues of one peer. */
export class SendQueues {
  private readonly fifos: Fifo[];
  private total = 0;

  /** `channels` sorted by priority, highest first (Channel.rank is the index). */
  constructor(private readonly channels: readonly Channel[]) {
    this.fifos = channels.map(() => new Fifo());
  }

  /** Messages queued over all channels. */
  get size(): number {
    return this.total;
  }

  /** Messages and bytes queued on one channel. */
  depth(ch: Channel): { messages: number; bytes: number } {
    const f = this.fifos[ch.rank];
    return { messages: f.length, bytes: f.bytes };
  }

  /** Queues `bytes` on `ch`, unless the channel's queue is full. */
  push(ch: Channel, bytes: Uint8Array): EnqueueResult {
    const f = this.fifos[ch.rank];
    if (f.length + 1 > ch.maxQueuedMessages || f.bytes + bytes.length > ch.maxQueuedBytes) {
      if (ch.whenFull === "refuse") {
        f.owesDrain = true;
        return "refused";
      }
      return "dropped";
    }
    f.push(bytes);
    this.total++;
    return "queued";
  }

  /** The next message by priority, or undefined when all queues are empty. */
  shift(): { channel: Channel; bytes: Uint8Array } | undefined {
    if (this.total === 0) return undefined;
    for (let i = 0; i < this.fifos.length; i++) {
      const f = this.fifos[i];
      if (f.length > 0) {
        this.total--;
        return { channel: this.channels[i], bytes: f.shift() };
      }
    }
    return undefined;
  }

  /**
   * Channels whose queue refused a message and is now at most half full:
   * the caller tells its sender (onDrain) once per refusal spell.
   */
  takeDrained(): Channel[] {
    const out: Channel[] = [];
    for (let i = 0; i < this.fifos.length; i++) {
      const f = this.fifos[i];
      const ch = this.channels[i];
      if (f.owesDrain && f.length * 2 <= ch.maxQueuedMessages && f.bytes * 2 <= ch.maxQueuedBytes) {
        f.owesDrain = false;
        out.push(ch);
      }
    }
    return out;
  }

  /** Empties every queue; returns how many messages were discarded per channel rank. */
  clear(): number[] {
    const n = this.fifos.map((f) => f.length);
    for (let i = 0; i < this.fifos.length; i++) this.fifos[i] = new Fifo();
    this.total = 0;
    return n;
  }
}
