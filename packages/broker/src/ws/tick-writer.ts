// One write loop at a time, started after the current event-loop turn: the shared shape of group commit and ack batching.

/**
 * Runs `write` (which drains whatever has accumulated) at most once at a time. `schedule()` starts
 * it on setImmediate — after the I/O callbacks of this loop turn, so every frame already read joins
 * the batch — and it starts again as long as `hasWork()` says something arrived meanwhile.
 */
export class TickWriter {
  private running: Promise<void> | null = null;
  private scheduled = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly hasWork: () => boolean,
  ) {}

  schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.running) this.start();
    });
  }

  /** Resolves once everything accumulated so far has been written (or failed). */
  async flush(): Promise<void> {
    while (this.running || this.hasWork()) {
      if (!this.running) this.start();
      await this.running;
    }
  }

  private start(): void {
    this.running = this.write().finally(() => {
      this.running = null;
      if (this.hasWork()) this.schedule();
    });
  }
}
