// Local fast path: a delivery to a peer connected here is stored already leased and pushed from memory;
// a direct message to a peer not connected here is offered to its broker the same way (remote-push.ts).
import type { Priority } from "@claudemesh/protocol";
import type { BrokerContext } from "../context.js";
import { allowedPriorities, effectiveStatus } from "../core/status.js";
import type { NewMessage } from "../store/types.js";
import type { CommitHooks } from "./committer.js";
import type { MembershipCache } from "./membership.js";
import type { PushLedger } from "./drain.js";
import { directPushJson, groupPushJson, sharedBodyJson, type PushHead } from "./push-frame.js";
import { viewTimings } from "./presence.js";
import type { Session } from "./session.js";

/**
 * The part of the hub state the fast path reads. Declared here rather than imported from
 * state.ts, which builds the hooks: the dependency points one way (state → direct-push).
 */
export interface DirectPushState {
  ctx: BrokerContext;
  live: ReadonlyMap<string, Session>;
  membership: Pick<MembershipCache, "peek">;
  /** What has been pushed and not acked (remote-push.ts skips rows it pushed already). */
  ledger: Pick<PushLedger, "isOutstanding">;
}

/** True when `memberId` is connected here with a status that lets `priority` through right now. */
export function pushableNow(state: DirectPushState, memberId: string, priority: Priority): boolean {
  const peer = state.live.get(memberId)?.peer;
  if (!peer?.online) return false;
  const status = effectiveStatus(peer.status, state.ctx.clock.now(), viewTimings(state.ctx.options)).status;
  return allowedPriorities(status).includes(priority);
}

interface Sender {
  pubkey: string;
  name: string;
}

/**
 * Without this path every message costs a claim after its commit (a second write transaction and
 * a round trip on PostgreSQL) before it can be pushed. With it, a delivery whose recipient is
 * connected to this broker, lets the priority through and has an idle delivery loop (so nothing
 * older is waiting to be pushed to it) is written with a lease held by that connection, and pushed
 * right after the commit. Everything else — ack-driven redelivery on lease expiry, release on
 * disconnect — works exactly as for a claimed delivery, because it is one.
 *
 * A direct message's delivery to a recipient not connected here gets a remote lease time: where the
 * store can tell other brokers (PostgreSQL), a recipient online and idle on another broker is
 * stored leased to that connection and its broker pushes the row it is sent (RemotePushes).
 */
export function directPushHooks(state: DirectPushState): CommitHooks {
  const senders = new WeakMap<NewMessage, Sender>();
  return {
    beforeCommit(batch) {
      const until = state.ctx.clock.now() + state.ctx.options.claimLeaseMs;
      for (const message of batch) {
        const sender =
          state.live.get(message.senderMemberId)?.member ??
          state.membership.peek(message.meshId)?.byId.get(message.senderMemberId);
        if (!sender) continue;
        for (const delivery of message.deliveries) {
          const session = state.live.get(delivery.recipientMemberId);
          if (!session && !message.body) delivery.remoteLeaseUntil = until;
          if (!session?.presenceId || !session.drainer?.idle) continue;
          if (!pushableNow(state, delivery.recipientMemberId, message.priority)) continue;
          delivery.lease = { owner: session.presenceId, until };
          senders.set(message, { pubkey: sender.pubkey, name: sender.displayName });
        }
      }
    },
    afterCommit(batch) {
      const orphaned = new Set<string>();
      for (const message of batch) {
        const sender = senders.get(message);
        // A duplicate send stored nothing: there is nothing to push (the original was pushed); nor
        // did a send its revoked sender made.
        if (!sender || message.duplicateOf !== undefined || message.senderRevoked) continue;
        const head: PushHead = {
          messageId: message.messageId,
          meshId: message.meshId,
          senderPubkey: sender.pubkey,
          senderName: sender.name,
          targetSpec: message.targetSpec,
          priority: message.priority,
          createdAt: message.createdAt,
        };
        // A group body is serialised once for all of its recipients (SPEC §4: stored and sent as one body).
        const shared = message.body ? sharedBodyJson(message.body) : null;
        for (const delivery of message.deliveries) {
          if (!delivery.lease) continue;
          const session = state.live.get(delivery.recipientMemberId);
          if (!session?.drainer || session.presenceId !== delivery.lease.owner || session.closed) {
            // The connection went while the batch was written: its teardown may already have
            // released its leases, so release again and let the next connection claim it.
            orphaned.add(delivery.lease.owner);
            continue;
          }
          const raw = shared
            ? groupPushJson(head, shared, delivery.nonce, delivery.ciphertext)
            : directPushJson(head, delivery.nonce, delivery.ciphertext);
          try {
            session.drainer.pushedDirectly(message.messageId, delivery.lease.until, raw);
          } catch (error) {
            // The message is durable and leased: it comes back when the lease runs out. Never let
            // a push failure turn into an error for the sender, whose message is already stored.
            state.ctx.log.warn("ws.direct_push_failed", { memberId: delivery.recipientMemberId, error });
          }
        }
      }
      for (const owner of orphaned) {
        state.ctx.store.releaseLeases(owner).catch((error: unknown) => {
          state.ctx.log.warn("ws.direct_push_release_failed", { error });
        });
      }
    },
  };
}
