// The direct push across brokers: a delivery another broker stored leased to a connection here
// (PostgreSQL; NewDelivery.remoteLeaseUntil) arrives as the row itself and is pushed without a claim.
import type { LeasedDelivery } from "../store/types.js";
import { pushableNow, type DirectPushState } from "./direct-push.js";
import { pushFrameJson } from "./drain.js";

/** A wake-up for leases that could not be given back fires this long after they run out. */
const LEASE_SLACK_MS = 5;

/**
 * Pushes each leased row when its connection is still the one it was leased to, its delivery loop
 * is idle (nothing older waits for it) and its status lets the priority through — the same test as
 * the local fast path. Otherwise the lease is given back at once (the release wakes the recipient
 * wherever it is now), and until that has committed no other row for that recipient is pushed
 * from its lease, so none overtakes the one given back (per-sender order, SPEC §3). A member's
 * give-backs are released one batch after another, oldest first, and its delivery loop claims
 * nothing meanwhile, so no later row of a sender is claimed before one given back.
 *
 * After its LISTEN connection comes back, the store hands over every row leased here (any of them
 * could have been one whose notification was lost): the ones already pushed and not acked are
 * skipped. One a delivery loop had claimed but not yet pushed at that moment may be pushed twice
 * (clients drop repeats by message id).
 */
export class RemotePushes {
  /** Recipients with leases being given back: the rows not yet released, in arrival order. */
  private readonly returning = new Map<string, LeasedDelivery[]>();

  constructor(private readonly state: DirectPushState) {}

  received(deliveries: readonly LeasedDelivery[]): void {
    const { metrics } = this.state.ctx;
    for (const row of deliveries) {
      if (this.state.ledger.isOutstanding(row.recipientMemberId, row.messageId)) continue;
      const session = this.state.live.get(row.recipientMemberId);
      const drainer = session?.drainer;
      if (
        session &&
        drainer?.idle &&
        !session.closed &&
        session.presenceId === row.leaseOwner &&
        !this.returning.has(row.recipientMemberId) &&
        pushableNow(this.state, row.recipientMemberId, row.priority)
      ) {
        metrics.inc("remote_direct_pushes_total");
        drainer.pushedDirectly(row.messageId, row.leaseUntil, pushFrameJson(row));
      } else {
        this.giveBack(row);
      }
    }
  }

  /** True while leases of this member are being given back (its delivery loop waits for them). */
  isReturning(memberId: string): boolean {
    return this.returning.has(memberId);
  }

  private giveBack(row: LeasedDelivery): void {
    this.state.ctx.metrics.inc("remote_leases_returned_total");
    const queued = this.returning.get(row.recipientMemberId);
    if (queued) {
      queued.push(row);
      return;
    }
    this.returning.set(row.recipientMemberId, [row]);
    void this.release(row.recipientMemberId);
  }

  /**
   * Releases the member's queued rows in arrival order, the leading rows of one lease owner per
   * release, until none is left (rows queued meanwhile join the next release).
   */
  private async release(memberId: string): Promise<void> {
    const { store, log } = this.state.ctx;
    const queued = this.returning.get(memberId) ?? [];
    while (queued.length > 0) {
      const owner = queued[0]!.leaseOwner;
      let n = 1;
      while (n < queued.length && queued[n]!.leaseOwner === owner) n++;
      const batch = queued.slice(0, n);
      try {
        await store.releaseLeases(
          owner,
          batch.map((r) => r.messageId),
        );
      } catch (error) {
        // Still leased: claimable once the leases run out, so the member's loop is woken then.
        log.warn("ws.lease_return_failed", { memberId, error });
        this.wakeAt(
          memberId,
          batch.reduce((latest, r) => Math.max(latest, r.leaseUntil), 0),
        );
      }
      queued.splice(0, n);
    }
    this.returning.delete(memberId);
    // Its loop waited for these releases (DrainTarget.heldBack); their wake-ups found it held back.
    this.state.live.get(memberId)?.drainer?.wake();
  }

  private wakeAt(memberId: string, at: number): void {
    const timer = setTimeout(
      () => this.state.live.get(memberId)?.drainer?.wake(),
      Math.max(0, at - this.state.ctx.clock.now()) + LEASE_SLACK_MS,
    );
    timer.unref();
  }
}
