// Batches client_ack message ids and flushes them once per event-loop turn (SPEC §3 client_ack).

/** Largest messageIds list in one client_ack frame (protocol schema cap). */
export const MAX_ACK_IDS_PER_FRAME = 1_000;

export class AckBatcher {
  private pending: string[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  /** `flush` receives at most MAX_ACK_IDS_PER_FRAME ids per call. */
  constructor(private readonly flush: (ids: string[]) => void) {}

  /** Queues an id; all ids queued in the same turn go out together. */
  add(id: string): void {
    this.pending.push(id);
    this.scheduled ??= setImmediate(() => this.flushNow());
  }

  /** Sends everything queued right now (used before a clean close). */
  flushNow(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    const ids = [...new Set(this.pending)];
    this.pending = [];
    for (let i = 0; i < ids.length; i += MAX_ACK_IDS_PER_FRAME) {
      this.flush(ids.slice(i, i + MAX_ACK_IDS_PER_FRAME));
    }
  }

  /** Forgets queued ids without sending (connection gone: the broker redelivers them). */
  clear(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = null;
    this.pending = [];
  }

  get size(): number {
    return this.pending.length;
  }
}
