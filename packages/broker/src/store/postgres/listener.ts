// A dedicated PostgreSQL connection that LISTENs for cross-broker delivery wake-ups and reconnects
// with backoff when it drops (the pool's connections cannot hold a LISTEN). It listens on the shared
// channel and on each channel added later (a broker's own, holder-wakeups.ts).
import type pg from "pg";
import { pgDriver } from "./driver.js";
import type { StoreLog } from "../options.js";

const MIN_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 5_000;

export interface ListenerEvents {
  /** One NOTIFY payload on one of the channels (named: the shared one, or one added later). */
  notification(payload: string, channel: string): void;
  /** LISTEN is (again) in place; notifications sent while it was down were lost. Awaited before whenListening() resolves. */
  established(): Promise<void>;
}

export class NotificationListener {
  private client: pg.Client | null = null;
  private running = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private backoffMs = MIN_BACKOFF_MS;
  private waiters: Array<() => void> = [];
  private listening = false;
  private readonly channels: Set<string>;

  constructor(
    private readonly config: pg.ClientConfig,
    channel: string,
    private readonly events: ListenerEvents,
    private readonly log: StoreLog,
  ) {
    this.channels = new Set([channel]);
  }

  /**
   * Also LISTENs on `channel` (now when connected, and after every reconnect). Notifications sent on
   * it before its LISTEN is in place are not received.
   */
  addChannel(channel: string): void {
    if (this.channels.has(channel)) return;
    this.channels.add(channel);
    // A connection still connecting runs it once connected (pg queues queries; a repeated LISTEN is a
    // no-op); a failure drops the connection, and the reconnect LISTENs on every channel.
    const client = this.client;
    if (client) void client.query(listenSql(channel)).catch((err: unknown) => this.dropped(client, err));
  }

  /** Starts listening (idempotent); failures are retried in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  /** Resolves once LISTEN is in place and the catch-up wake-up has run (immediately if it already has). */
  whenListening(): Promise<void> {
    if (this.listening) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    this.listening = false;
    if (client) await client.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.retryTimer = null;
    if (!this.running) return;
    const client = new (pgDriver().Client)(this.config);
    this.client = client;
    // Registered before connect: a dropped connection emits 'error' and must never crash the process.
    client.on("error", (err) => this.dropped(client, err));
    client.on("end", () => this.dropped(client, null));
    client.on("notification", (message) => {
      if (this.channels.has(message.channel) && message.payload !== undefined)
        this.events.notification(message.payload, message.channel);
    });
    try {
      await client.connect();
      for (const channel of this.channels) await client.query(listenSql(channel));
    } catch (err) {
      this.dropped(client, err);
      return;
    }
    if (this.client !== client) return;
    this.backoffMs = MIN_BACKOFF_MS;
    await this.events.established();
    if (this.client !== client) return;
    this.listening = true;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private dropped(client: pg.Client, err: unknown): void {
    if (this.client !== client) return; // already replaced or stopped
    this.client = null;
    this.listening = false;
    client.removeAllListeners("notification");
    client.on("error", () => undefined);
    void client.end().catch(() => undefined);
    if (!this.running) return;
    const code = (err as { code?: unknown } | null)?.code;
    this.log.warn("store.listen_connection_lost", {
      retryInMs: this.backoffMs,
      code: typeof code === "string" ? code : null,
    });
    this.retryTimer = setTimeout(() => void this.connect(), this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
  }
}

/** Channel names are built from identifiers ([A-Za-z0-9_-]); quoted, so case and `-` survive. */
function listenSql(channel: string): string {
  return `LISTEN "${channel.replace(/"/g, '""')}"`;
}
