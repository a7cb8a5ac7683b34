// Broker heartbeat (SPEC §3 "Leases die with their holder", §7): beats this broker's row and releases the leases of brokers that are gone.
import type { BrokerOptions, Clock, Logger, Metrics } from "../context.js";
import type { ReleasedBrokers, Store } from "../store/types.js";
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
 * The endpoint a broker records (store claimBrokerEndpoint): host name, bound address and port. Two
 * live processes on one host cannot bind one address and port, so a broker that finds another row
 * with its endpoint has replaced that broker (a restart after a crash) and releases it at once.
 */
export function brokerEndpoint(hostName: string, address: string, port: number): string {
  return `${hostName}|${address}|${port}`;
}

/**
 * When a broker is gone, on either store (several brokers may share a SQLite file or a PostgreSQL
 * database, so no broker may assume it is alone):
 * - its beat is older than `brokerGoneAfterMs` — every `brokerHeartbeatMs` each broker beats its row
 *   and the first to notice a stale one releases its leases (redelivered at once, in storage order)
 *   and marks its presences offline: a crashed broker's leases come back within `brokerGoneAfterMs`
 *   plus one beat;
 * - or a broker started on the same host, address and port (its restart): released as soon as the
 *   new one has bound the port (`claimEndpoint`), before its first hello is served;
 * - at start-up, leases whose owner has no broker row at all (written before migration 6, or by a
 *   broker whose row was released) are dropped too.
 * A live broker's leases are never released: its beat is fresh and it holds its own port.
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
    await this.report(await store.releaseGoneBrokers({ ...this.staleInput(), orphans: true }), "start");
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
        await this.report(await this.deps.store.releaseGoneBrokers(this.staleInput()), "beat");
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

  /**
   * Records where this broker listens, once it holds the port, and releases its predecessor on that
   * endpoint at once. Throws when the store is unreachable.
   */
  async claimEndpoint(endpoint: string): Promise<void> {
    const { store, brokerId, clock } = this.deps;
    const released = await store.claimBrokerEndpoint({ selfBrokerId: brokerId, endpoint, now: clock.now() });
    this.report(released, "predecessor");
  }

  private staleInput(): { selfBrokerId: string; staleBefore: number; now: number } {
    const now = this.deps.clock.now();
    return { selfBrokerId: this.deps.brokerId, staleBefore: now - this.deps.options.brokerGoneAfterMs, now };
  }

  private report(result: ReleasedBrokers, found: "start" | "beat" | "predecessor"): void {
    const { log, metrics } = this.deps;
    if (result.brokers.length > 0) metrics.inc("brokers_gone_total", undefined, result.brokers.length);
    if (result.brokers.length > 0 || result.recipients.length > 0) {
      log.info("broker.gone_released", {
        brokers: result.brokers,
        recipients: result.recipients.length,
        found,
      });
    }
  }
}
