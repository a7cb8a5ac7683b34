// The direct push across brokers: a delivery another broker stored leased to a connection here
// (PostgreSQL; NewDelivery.remoteLeaseUntil) arrives as the row itself and is pushed without a claim.
import type { LeasedDelivery } from "../store/types.js";
import { pushableNow, type DirectPushState } from "./direct-push.js";
import { pushFrameJson } from "./drain.js";

/**
 * Pushes each leased row when its connection is still the one it was leased to, its delivery loop
 * is idle (nothing older waits for it) and its status lets the priority through — the same test as
 * the local fast path. Otherwise the lease is given back at once (the release wakes the recipient
 * wherever it is now), and until that has committed no other row for that recipient is pushed
 * from its lease, so none overtakes the one given back (per-sender order, SPEC §3).
 *
 * After its LISTEN connection comes back, the store hands over every row leased here (any of them
 * could have been one whose notification was lost): the ones already pushed and not acked are
 * skipped. One a delivery loop had claimed but not yet pushed at that moment may be pushed twice
 * (clients drop repeats by message id).
 */
export class RemotePushes {
  /** Recipients with a lease being given back, and how many. */
  private readonly returning = new Map<string, number>();

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

  private giveBack(row: LeasedDelivery): void {
    const { store, metrics, log } = this.state.ctx;
    const recipient = row.recipientMemberId;
    metrics.inc("remote_leases_returned_total");
    this.returning.set(recipient, (this.returning.get(recipient) ?? 0) + 1);
    store
      .releaseLeases(row.leaseOwner, [row.messageId])
      .catch((error: unknown) => {
        // Still leased: it is claimed once the lease runs out, at the recipient's next wake-up or hello.
        log.warn("ws.lease_return_failed", { memberId: recipient, error });
      })
      .finally(() => {
        const left = (this.returning.get(recipient) ?? 1) - 1;
        if (left > 0) this.returning.set(recipient, left);
        else this.returning.delete(recipient);
      });
  }
}
