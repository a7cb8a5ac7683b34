// The bounded push buffer behind drainInbox(): keeps the newest messages, counts what it had to drop (SPEC §7).
import type { InboundMessage } from "./types.js";

export class Inbox {
  private items: InboundMessage[] = [];
  private dropped = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError("push buffer max must be a positive integer");
  }

  /** Appends `message`; returns the evicted oldest message when the buffer was full. */
  push(message: InboundMessage): InboundMessage | undefined {
    this.items.push(message);
    if (this.items.length <= this.max) return undefined;
    this.dropped += 1;
    return this.items.shift();
  }

  /** Returns every buffered message, oldest first, and empties the buffer. */
  drain(): InboundMessage[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  get size(): number {
    return this.items.length;
  }

  /** Messages dropped because the buffer was full, since construction. */
  get droppedTotal(): number {
    return this.dropped;
  }
}
