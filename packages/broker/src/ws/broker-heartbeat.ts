// Broker heartbeat (SPEC §3 "Leases die with their holder", §7): beats this broker's row and releases the leases of brokers that are gone.
import type { BrokerOptions, Clock, Logger, Metrics } from "../context.js";
import type { Store } from "../store/types.js";
import { LEASE_OWNER_SEPARATOR } from "../store/sql/brokers.js";

export interface HeartbeatDeps {
  store: Store;
  brokerId: string;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  options: Pick<BrokerOptions, "brokerHeartbeatMs" | "brokerGoneAfterMs">;
}

/**
 * The lease owner (and presence id) of a connection of `brokerId`: the broker id first, so the
 * leases of a broker that is gone are found in one statement (store/sql/brokers.ts).
 */
export function connectionOwnerId(brokerId: string, randomPart: string): string {
  return `${brokerId}${LEASE_OWNER_SEPARATOR}${randomPart}`;
}

/**
 * Every `brokerHeartbeatMs` the broker writes its beat and looks for brokers whose last beat is older
 * than `brokerGoneAfterMs`; the first broker to notice one releases its leases (redelivered at once,
 * in storage order) and marks its presences offline. At start-up on SQLite (one broker per database
 * file) every other broker is gone already — the process this one replaces after a crash — so its
 * leases come back before the first hello. On PostgreSQL another broker may be alive, so only a
 * stale beat counts: a crashed broker's leases come back within `brokerGoneAfterMs` plus one beat.
 */
export class BrokerHeartbeat {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly deps: HeartbeatDeps) {}

  /** First beat and the start-up release; then the timer. Throws when the store is unreachable. */
  async start(): Promise<void> {
    const { store, brokerId, clock, options } = this.deps;
    await store.beatBroker(brokerId, clock.now());
    await this.release(store.kind === "sqlite");
    if (this.stopped) return;
    this.timer = setInterval(() => void this.tick(), options.brokerHeartbeatMs);
    this.timer.unref();
  }

  /** One beat and one look for gone brokers (the timer's job; tests drive it with a fake clock). */
  tick(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // A store slower than the interval gets one tick at a time, not a pile-up.
    this.inFlight ??= (async () => {
      try {
        await this.deps.store.beatBroker(this.deps.brokerId, this.deps.clock.now());
        await this.release(false);
      } catch (error) {
        this.deps.log.warn("broker.heartbeat_failed", { error });
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }

  /** Stops beating and removes this broker's row (its own leases were released by its teardowns). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    try {
      await this.deps.store.removeBroker(this.deps.brokerId);
    } catch (error) {
      // The row goes stale instead; the next broker to look releases nothing (no leases are left).
      this.deps.log.warn("broker.heartbeat_remove_failed", { error });
    }
  }

  private async release(everyOther: boolean): Promise<void> {
    const { store, brokerId, clock, options, log, metrics } = this.deps;
    const now = clock.now();
    const result = await store.releaseGoneBrokers({
      selfBrokerId: brokerId,
      staleBefore: now - options.brokerGoneAfterMs,
      now,
      everyOther,
    });
    if (result.brokers.length > 0) metrics.inc("brokers_gone_total", undefined, result.brokers.length);
    if (result.brokers.length > 0 || result.recipients.length > 0) {
      log.info("broker.gone_released", {
        brokers: result.brokers,
        recipients: result.recipients.length,
        atStart: everyOther,
      });
    }
  }
}
