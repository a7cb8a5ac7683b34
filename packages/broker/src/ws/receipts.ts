// Receipts to senders (SPEC §3): live pushes, pulls of what a sender missed, and message_status answers.
import type { MessageStatusReply, MessageStatusRequest, ReceiptPush } from "@claudemesh/protocol";
import type { ReceiptChange } from "../store/types.js";
import type { Session } from "./session.js";
import type { HubState } from "./state.js";

/** Receipts claimed per pull round. */
export const RECEIPT_PULL_BATCH = 500;
/** Pull rounds per wake-up; a sender with more waiting gets the rest at its next hello or wake-up. */
export const MAX_RECEIPT_PULL_ROUNDS = 40;
/** Most recipient statuses one message_status reply carries (1,000 ids × a 1,000-peer broadcast would not fit a frame). */
export const MAX_STATUS_RECIPIENTS = 10_000;
/** How often a pull paused on a full socket buffer looks again. */
const BACKPRESSURE_POLL_MS = 5;

/** Renders a stored change as the broker → sender `receipt` frame. */
export function receiptFrame(change: ReceiptChange): ReceiptPush {
  return {
    type: "receipt",
    messageId: change.messageId,
    recipientPubkey: change.recipientPubkey,
    state: change.state,
    at: new Date(change.at).toISOString(),
  };
}

/**
 * Delivers receipts to senders connected to this broker. Changes made here for a connected sender
 * are stored already notified and pushed right after commit (`targets` / `pushed`); every other
 * change waits in the store unnotified until a pull: on the sender's hello, or on a wake-up from the
 * store (another broker's NOTIFY, an expiry or a revocation). Pulls claim rows, so two brokers
 * holding one identity never push the same receipt twice.
 */
export class ReceiptRelay {
  /** Members with a pull running, and whether another round was asked for meanwhile. */
  private readonly pulling = new Map<string, boolean>();

  constructor(private readonly state: HubState) {}

  /** The sender's ready, open connection on this broker, if any. */
  private liveSession(memberId: string): Session | null {
    const session = this.state.live.get(memberId);
    return session && session.phase === "ready" && session.isOpen ? session : null;
  }

  /** Members of `meshId` with a ready, open connection here (the mesh index: not a walk over every connection). */
  private connectedIn(meshId: string): Set<string> {
    const pushTo = new Set<string>();
    for (const [memberId, session] of this.state.live.inMesh(meshId))
      if (session.phase === "ready" && session.isOpen) pushTo.add(memberId);
    return pushTo;
  }

  /**
   * Members of the recipient's mesh connected to this broker: the senders whose receipts of this
   * recipient's acks it pushes itself (passed to the store as `pushTo`, stored as notified). None
   * when the recipient is not connected here (its mesh is then unknown): the store wakes us instead.
   */
  targets(recipientMemberId: string): { pushTo: ReadonlySet<string>; recipientPubkey?: string } {
    const recipient = this.state.live.get(recipientMemberId)?.member;
    if (!recipient) return { pushTo: new Set() };
    return { pushTo: this.connectedIn(recipient.meshId), recipientPubkey: recipient.pubkey };
  }

  /**
   * `targets` for many recipients at once (a broadcast's acks): one pass over the mesh's
   * connections here per mesh, and one shared pushTo set per mesh, instead of one pass per recipient.
   */
  targetsMany(
    recipientMemberIds: Iterable<string>,
  ): Map<string, { pushTo: ReadonlySet<string>; recipientPubkey?: string }> {
    const byMesh = new Map<string, Set<string>>();
    const out = new Map<string, { pushTo: ReadonlySet<string>; recipientPubkey?: string }>();
    const none = new Set<string>();
    for (const recipientMemberId of recipientMemberIds) {
      const recipient = this.state.live.get(recipientMemberId)?.member;
      if (!recipient) {
        out.set(recipientMemberId, { pushTo: none });
        continue;
      }
      let pushTo = byMesh.get(recipient.meshId);
      if (!pushTo) byMesh.set(recipient.meshId, (pushTo = this.connectedIn(recipient.meshId)));
      out.set(recipientMemberId, { pushTo, recipientPubkey: recipient.pubkey });
    }
    return out;
  }

  /** After commit: counts every change and pushes those stored as notified for this broker. */
  pushed(changes: readonly ReceiptChange[], pushTo: ReadonlySet<string>): void {
    const byState = new Map<string, number>();
    for (const change of changes) {
      byState.set(change.state, (byState.get(change.state) ?? 0) + 1);
      if (!pushTo.has(change.senderMemberId)) continue;
      this.liveSession(change.senderMemberId)?.send(receiptFrame(change));
    }
    // One counter update per state and batch, not per receipt.
    for (const [state, n] of byState) this.state.ctx.metrics.inc("receipts_total", { state }, n);
  }

  /** Receipt wake-ups received so far (a hello that found none waiting pulls anyway if one came meanwhile). */
  wakes = 0;

  /** Store wake-up: these senders have receipts to pull; only the ones connected here act. */
  wake(senderMemberIds: Iterable<string>): void {
    this.wakes++;
    for (const id of senderMemberIds) if (this.liveSession(id)) this.pull(id);
  }

  /** Pulls and pushes the sender's unpushed receipts (coalesced: one pull at a time per member). */
  pull(memberId: string): void {
    if (this.pulling.has(memberId)) {
      this.pulling.set(memberId, true);
      return;
    }
    this.pulling.set(memberId, false);
    void this.run(memberId).finally(() => {
      const again = this.pulling.get(memberId) === true;
      this.pulling.delete(memberId);
      if (again && !this.state.closing) this.pull(memberId);
    });
  }

  private async run(memberId: string): Promise<void> {
    const { store, log } = this.state.ctx;
    try {
      for (let round = 0; round < MAX_RECEIPT_PULL_ROUNDS; round++) {
        const session = this.liveSession(memberId);
        if (!session || this.state.closing) return;
        if (session.outbound.queued > session.outbound.highWater) {
          await new Promise((resolve) => setTimeout(resolve, BACKPRESSURE_POLL_MS));
          continue;
        }
        const taken = await store.takeReceipts(memberId, RECEIPT_PULL_BATCH);
        // Taken rows are marked pushed: send them even if the connection was replaced meanwhile.
        const target = this.liveSession(memberId);
        for (const change of taken) target?.send(receiptFrame(change));
        if (taken.length < RECEIPT_PULL_BATCH) return;
      }
    } catch (error) {
      log.warn("ws.receipt_pull_failed", { memberId, error });
    }
  }
}

/**
 * `message_status` (SPEC §3): one entry per distinct requested id, in request order, reporting only
 * messages the asker sent; any other id (someone else's, unknown, past retention) has no recipients,
 * the same answer in every case. A request whose answer would exceed MAX_STATUS_RECIPIENTS rows is
 * refused with `too_large`.
 */
export async function handleMessageStatus(
  state: HubState,
  session: Session,
  frame: MessageStatusRequest,
): Promise<void> {
  const ids = [...new Set(frame.messageIds)];
  const { statuses, truncated } = await state.ctx.store.messageStatus(
    session.me.id,
    ids,
    MAX_STATUS_RECIPIENTS,
  );
  if (truncated) {
    session.sendError(
      "too_large",
      `the answer has more than ${MAX_STATUS_RECIPIENTS} recipient statuses; ask about fewer messages at a time`,
      { id: frame.id },
    );
    return;
  }
  const reply: MessageStatusReply = {
    type: "message_status",
    id: frame.id,
    statuses: ids.map((messageId) => ({
      messageId,
      recipients: (statuses.get(messageId) ?? []).map((r) => ({
        pubkey: r.recipientPubkey,
        state: r.state,
        at: new Date(r.at).toISOString(),
      })),
    })),
  };
  session.send(reply);
}
