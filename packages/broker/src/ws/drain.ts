// Per-connection delivery loop (SPEC §3 Delivery guarantees): claim with a lease, push, redeliver when a lease runs out.
import type { Priority } from "@claudemesh/protocol";
import type { DeliveryRow, Store } from "../store/types.js";
import type { BrokerOptions, Clock, Logger, Metrics } from "../context.js";
import { SOCKET_HIGH_WATER_BYTES } from "./outbound.js";
import { directPushJson, groupPushJson, sharedBodyJson } from "./push-frame.js";

export { SOCKET_HIGH_WATER_BYTES };
/** How often a paused loop looks at the socket buffer again. */
const BACKPRESSURE_POLL_MS = 5;
const pause = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, BACKPRESSURE_POLL_MS));
/** After a failed claim (store down) the loop tries again this much later. */
const RETRY_AFTER_ERROR_MS = 1_000;
/** Lease expiry timers fire this long after the lease, so the store sees it as expired. */
const LEASE_SLACK_MS = 5;

/** Which messages a member has been pushed and not yet acked; a repeat push is a redelivery. */
export class PushLedger {
  private readonly outstanding = new Map<string, Set<string>>();

  /** Records a push; true when this message was already pushed to this member before (a redelivery). */
  pushed(memberId: string, messageId: string): boolean {
    let set = this.outstanding.get(memberId);
    if (!set) this.outstanding.set(memberId, (set = new Set()));
    if (set.has(messageId)) return true;
    set.add(messageId);
    return false;
  }

  acked(memberId: string, messageIds: readonly string[]): void {
    const set = this.outstanding.get(memberId);
    if (!set) return;
    for (const id of messageIds) set.delete(id);
    if (set.size === 0) this.outstanding.delete(memberId);
  }

  /** True when this message was pushed to this member and is not acked yet. */
  isOutstanding(memberId: string, messageId: string): boolean {
    return this.outstanding.get(memberId)?.has(messageId) === true;
  }

  hasOutstanding(memberId: string): boolean {
    return this.outstanding.has(memberId);
  }

  /** Forgets a member that has left (its unacked messages stay queued in the store). */
  forget(memberId: string): void {
    this.outstanding.delete(memberId);
  }
}

/** What the loop needs from the connection it serves. */
export interface DrainTarget {
  readonly memberId: string;
  /** Lease owner: the presence id, released in one call when the socket goes. */
  readonly presenceId: string;
  /** Priorities the peer's current status lets through (SPEC §3 priority gating). */
  priorities(): readonly Priority[];
  bufferedAmount(): number;
  /**
   * Above this many queued bytes the loop neither claims nor writes until the reader catches up
   * (default SOCKET_HIGH_WATER_BYTES), so a slow reader costs at most this plus one frame in the
   * socket and one claim batch in memory, and a batch of large pushes never runs into the
   * connection's outbound budget by itself.
   */
  highWater?(): number;
  /**
   * True while rows leased to this member are being given back (remote-push.ts): no round starts
   * meanwhile, so no later row of a sender is claimed before them; the give-back wakes the loop.
   */
  heldBack?(): boolean;
  /** Writes one frame; returns false when it was not written (the connection is closing). */
  send(raw: string): unknown;
}

export interface DrainDeps {
  store: Store;
  options: Pick<BrokerOptions, "claimLeaseMs" | "drainBatch">;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
  ledger: PushLedger;
}

/**
 * Renders a stored delivery as the `push` frame text of SPEC §3: the group form when the message
 * has a stored body (this row then holds the recipient's sealed key), else the direct form.
 */
export function pushFrameJson(row: DeliveryRow): string {
  if (row.body) return groupPushJson(row, sharedBodyJson(row.body), row.nonce, row.ciphertext);
  return directPushJson(row, row.nonce, row.ciphertext);
}

/**
 * At most one claim loop runs per connection; wake-ups that arrive meanwhile coalesce into one more
 * round. Claims go out in storage order and the loop pushes them in that order, so each sender's
 * messages arrive in the order they were stored (per-sender FIFO). The store's claim takes a lease,
 * so concurrent loops (another connection, another broker) never hand out the same delivery.
 */
export class Drainer {
  private running: Promise<void> | null = null;
  private again = false;
  private enabled = false;
  private stopped = false;
  private leaseTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private foreignTimer: NodeJS.Timeout | null = null;
  /** Ascending lease expiry times of claims whose messages may still be unacked. */
  private expiries: number[] = [];
  /** Whether the first round has asked the store about other owners' leases on this mailbox. */
  private foreignChecked = false;
  /** Another owner holds a live lease here: claims keep each sender behind it (SPEC §3 per-sender order). */
  private foreignLeases = false;

  constructor(
    private readonly target: DrainTarget,
    private readonly deps: DrainDeps,
  ) {}

  /**
   * Lets pushes flow; called once `hello_ack` has gone out (so pushes never precede it). With
   * `emptyMailbox` (the hello's admission found no undelivered delivery and no wake-up came since)
   * the first round is skipped: nothing is claimable, no other owner holds a lease here, and the
   * next wake-up starts the loop.
   */
  enable(options: { emptyMailbox?: boolean } = {}): void {
    if (this.stopped) return;
    this.enabled = true;
    if (options.emptyMailbox && !this.again) {
      this.foreignChecked = true;
      this.foreignLeases = false;
      return;
    }
    this.wake();
  }

  /**
   * Messages leased to another owner — a connection that died with its broker (kill -9) and whose
   * leases the broker heartbeat has not released yet, or an older connection of this identity —
   * must not be overtaken by their senders' later messages. Asked before the first round, and while
   * such leases exist before every round (a release wakes this loop) and when the earliest runs out;
   * once none is left, claims go back to the plain form, so the per-message path pays nothing.
   */
  private async checkForeignLeases(): Promise<void> {
    if (this.foreignTimer) clearTimeout(this.foreignTimer);
    this.foreignTimer = null;
    const now = this.deps.clock.now();
    let until: number | null;
    try {
      until = await this.deps.store.earliestForeignLease(this.target.memberId, this.target.presenceId, now);
    } catch (error) {
      // Unknown: keep senders behind any foreign lease (the claim checks it itself) and ask again.
      this.deps.log.warn("ws.foreign_lease_check_failed", { memberId: this.target.memberId, error });
      this.foreignChecked = true;
      this.foreignLeases = true;
      return;
    }
    this.foreignChecked = true;
    this.foreignLeases = until !== null;
    if (until === null || this.stopped) return;
    this.foreignTimer = setTimeout(
      () => {
        this.foreignTimer = null;
        this.wake();
      },
      Math.max(0, until - now) + LEASE_SLACK_MS,
    );
  }

  /**
   * True when no round is running or asked for: everything this loop was told about has been
   * pushed, so a message stored now may be pushed directly without overtaking an older one.
   */
  get idle(): boolean {
    return (
      this.enabled &&
      !this.stopped &&
      this.running === null &&
      !this.again &&
      // A direct push could overtake a sender's message still leased to another owner.
      this.foreignChecked &&
      !this.foreignLeases
    );
  }

  /** Records a push made outside the loop (the direct path): same ledger and lease timer as a claim. */
  pushedDirectly(messageId: string, leaseUntil: number, raw: string): void {
    if (this.stopped) return;
    this.deps.ledger.pushed(this.target.memberId, messageId);
    // Past the outbound budget the write is refused and the connection closes (its leases are
    // released by its teardown); nothing more to record.
    if (this.target.send(raw) === false) return;
    this.deps.metrics.inc("pushes_total");
    this.deps.metrics.inc("direct_pushes_total");
    this.noteLease(leaseUntil);
  }

  /** Asks for a drain round soon; cheap to call often. */
  wake(): void {
    if (this.stopped) return;
    this.again = true;
    if (!this.enabled || this.running || this.target.heldBack?.()) return;
    this.running = this.loop().finally(() => {
      this.running = null;
      if (this.again) this.wake();
    });
  }

  /** Stops the loop and waits for a claim in flight, so the caller can release every lease after it. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.leaseTimer) clearTimeout(this.leaseTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.foreignTimer) clearTimeout(this.foreignTimer);
    this.leaseTimer = this.retryTimer = this.foreignTimer = null;
    await this.running;
  }

  private async loop(): Promise<void> {
    const { store, options, clock, metrics, ledger } = this.deps;
    try {
      while (this.again && !this.stopped) {
        // Asked again once the give-back is done; `again` stays set, so the loop is not idle.
        if (this.target.heldBack?.()) return;
        this.again = false;
        if (!this.foreignChecked || this.foreignLeases) await this.checkForeignLeases();
        if (this.stopped) return;
        let full = true;
        while (full && !this.stopped) {
          if (this.overHighWater()) {
            await pause();
            continue;
          }
          const now = clock.now();
          const rows = await store.claimDeliveries({
            recipientMemberId: this.target.memberId,
            priorities: this.target.priorities(),
            leaseOwner: this.target.presenceId,
            now,
            leaseMs: options.claimLeaseMs,
            limit: options.drainBatch,
            behindForeignLeases: this.foreignLeases,
          });
          // Stopped while claiming: the caller releases this presence's leases after stop() resolves.
          if (this.stopped) return;
          for (const row of rows) {
            // Written in claim order; a reader that falls behind mid-batch pauses the rest.
            while (this.overHighWater() && !this.stopped) await pause();
            if (this.stopped) return;
            if (ledger.pushed(this.target.memberId, row.messageId)) metrics.inc("redeliveries_total");
            // Refused past the outbound budget: the connection is closing and releases its leases.
            if (this.target.send(pushFrameJson(row)) === false) return;
          }
          if (rows.length > 0) {
            metrics.inc("pushes_total", undefined, rows.length);
            this.noteLease(now + options.claimLeaseMs);
          }
          full = rows.length >= options.drainBatch;
        }
      }
    } catch (error) {
      this.deps.log.error("ws.drain_failed", { memberId: this.target.memberId, error });
      if (!this.stopped && !this.retryTimer) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.wake();
        }, RETRY_AFTER_ERROR_MS);
      }
    }
  }

  private overHighWater(): boolean {
    return this.target.bufferedAmount() > (this.target.highWater?.() ?? SOCKET_HIGH_WATER_BYTES);
  }

  /** Remembers a lease expiry and makes sure a timer will re-drain when it passes without an ack. */
  private noteLease(expiresAt: number): void {
    const last = this.expiries[this.expiries.length - 1];
    // Claims within a few ms of each other share one wake-up.
    if (last === undefined || expiresAt - last > LEASE_SLACK_MS) this.expiries.push(expiresAt);
    if (!this.leaseTimer) this.armLeaseTimer();
  }

  private armLeaseTimer(): void {
    const next = this.expiries[0];
    if (next === undefined || this.stopped) return;
    const delay = Math.max(0, next - this.deps.clock.now()) + LEASE_SLACK_MS;
    this.leaseTimer = setTimeout(() => this.onLeaseTimer(), delay);
  }

  private onLeaseTimer(): void {
    this.leaseTimer = null;
    const now = this.deps.clock.now();
    while (this.expiries.length > 0 && this.expiries[0]! <= now) this.expiries.shift();
    // Only messages still unacked need another round; everything else was marked delivered.
    if (this.deps.ledger.hasOutstanding(this.target.memberId)) this.wake();
    else this.expiries = [];
    this.armLeaseTimer();
  }
}
