// Frames of an authenticated connection (SPEC §3 Messages): send, client_ack, receipts, set_status, set_summary, list_peers, channels.
import {
  DEFAULT_PEERS_PAGE,
  type ClientFrame,
  type JoinChannel,
  type LeaveChannel,
  type ListPeers,
  type Send,
} from "@claudemesh/protocol";
import { messageId } from "../core/ids.js";
import type { NewMessage, PresenceRow } from "../store/types.js";
import { routeSend, type RouteResult } from "../core/routing.js";
import { pushableNow } from "./direct-push.js";
import { handleMessageStatus } from "./receipts.js";
import { buildPeerList, isOnline } from "../core/peers.js";
import { viewTimings } from "./presence.js";
import { allowedPriorities, effectiveStatus } from "../core/status.js";
import type { Session } from "./session.js";
import { wakeRecipients, type HubState } from "./state.js";

/** Handles one validated frame of a `ready` session. Throws only on unexpected failures (answered `internal`). */
export async function handleFrame(state: HubState, session: Session, frame: ClientFrame): Promise<void> {
  switch (frame.type) {
    case "hello":
      session.sendError(
        "already_authenticated",
        "this connection already said hello; open a new one to switch identity",
      );
      return;
    case "send":
      return handleSend(state, session, frame);
    case "client_ack": {
      const me = session.me;
      state.ledger.acked(me.id, frame.messageIds);
      state.delivered.add(me.id, frame.messageIds);
      return;
    }
    case "receipt": {
      // Only copies addressed to this member change; other ids are ignored without an error, so a
      // receipt cannot probe which message ids exist. A shown copy is acknowledged too.
      const me = session.me;
      state.ledger.acked(me.id, frame.messageIds);
      state.delivered.addShown(me.id, frame.messageIds);
      return;
    }
    case "message_status":
      return handleMessageStatus(state, session, frame);
    case "set_status":
      if (session.peer) state.presence.setStatus(session.peer, frame.status, frame.source ?? "manual");
      return;
    case "set_summary":
      if (session.peer) state.presence.setSummary(session.peer, frame.summary);
      return;
    case "list_peers":
      return handleListPeers(state, session, frame);
    case "join_channel":
    case "leave_channel":
      return handleChannel(state, session, frame);
  }
}

/**
 * `join_channel` / `leave_channel`, one at a time per connection (so a burst of joins cannot pass
 * the channel cap together); a join past the cap gets `error limit_reached`.
 */
async function handleChannel(state: HubState, session: Session, frame: JoinChannel | LeaveChannel) {
  const me = session.me;
  const max = state.ctx.options.maxChannelsPerMember;
  const run = session.channelChain.then(async () => {
    if (frame.type === "leave_channel") return state.membership.leave(me.meshId, frame.name, me.id);
    if (await state.membership.join(me.meshId, frame.name, me.id, max)) return;
    state.ctx.metrics.inc("frames_rejected_total", { reason: "limit_reached" });
    session.sendError(
      "limit_reached",
      `this member is already in ${max} channels, the most allowed; leave one before joining #${frame.name}`,
    );
  });
  session.channelChain = run.catch(() => undefined);
  await run;
}

/**
 * Routes against the cached membership; a send that does not match it is re-checked against a
 * fresh read before it is refused, so the cache can delay a revocation by at most its TTL but
 * never refuses a member who just joined.
 */
async function route(state: HubState, session: Session, frame: Send): Promise<RouteResult> {
  const meshId = session.me.meshId;
  const cached = state.membership.peek(meshId);
  const first = routeSend(cached ?? (await state.membership.get(meshId)), frame, session.me.id);
  // Without a cached snapshot the one just used was read for this send: re-reading changes nothing.
  if (first.ok || !cached) return first;
  return routeSend(await state.membership.load(meshId), frame, session.me.id);
}

/** Stores the message (group commit) and returns once it is queued for the store, not yet durable. */
async function prepareSend(
  state: HubState,
  session: Session,
  frame: Send,
): Promise<{ message: NewMessage; durable: Promise<boolean> } | null> {
  const routed = await route(state, session, frame);
  if (!routed.ok) {
    state.ctx.metrics.inc("sends_rejected_total", { reason: routed.code });
    session.sendError(routed.code, routed.message, {
      id: frame.id,
      ...(routed.code === "recipients_mismatch" ? { expected: routed.expected } : {}),
    });
    return null;
  }
  const me = session.me;
  const now = state.ctx.clock.now();
  const message: NewMessage = {
    messageId: messageId(now),
    meshId: me.meshId,
    senderMemberId: me.id,
    targetSpec: frame.targetSpec,
    priority: frame.priority,
    createdAt: now,
    deliveries: routed.deliveries,
    // A group send's body and signature, stored once (SPEC §4).
    ...(routed.body ? { body: routed.body } : {}),
    // The send id is the idempotency key (SPEC §3): a retry is acked with the stored message id.
    clientId: frame.id,
  };
  return { message, durable: state.committer.submit(message) };
}

/**
 * `send` (SPEC §3): acked only after the store has committed it. Sends of one connection are
 * routed and submitted strictly in arrival order (sendChain), so storage order — and with it
 * per-sender FIFO — follows the order the sender sent them in, while their commits still share
 * batches with everyone else's.
 */
async function handleSend(state: HubState, session: Session, frame: Send): Promise<void> {
  const me = session.me;
  if (!state.memberSends.take(me.id)) {
    state.ctx.metrics.inc("sends_rejected_total", { reason: "rate_limited" });
    session.sendError("rate_limited", "too many sends from this member; slow down and retry", {
      id: frame.id,
    });
    return;
  }
  const prepared = session.sendChain.then(() => prepareSend(state, session, frame));
  session.sendChain = prepared.then(
    () => undefined,
    () => undefined,
  );
  const result = await prepared;
  if (!result) return;
  const storeWoke = await result.durable;
  // SPEC §2: no send of a revoked key is accepted once its revocation has committed (on any
  // broker). The store checked the sender in the enqueue write itself and stored nothing.
  if (result.message.senderRevoked) {
    state.ctx.metrics.inc("sends_rejected_total", { reason: "revoked" });
    session.sendError("revoked", "this member was revoked from the mesh; the message was not stored", {
      id: frame.id,
    });
    state.revocation.cut(session);
    return;
  }
  const stored = result.message.duplicateOf;
  if (stored !== undefined) {
    state.ctx.metrics.inc("sends_deduplicated_total");
    const queued = !result.message.deliveries.every((d) =>
      pushableNow(state, d.recipientMemberId, frame.priority),
    );
    session.send({ type: "ack", id: frame.id, messageId: stored, queued });
    return;
  }
  state.ctx.metrics.inc("messages_sent_total");
  const deliveries = result.message.deliveries;
  const queued = !deliveries.every((d) => d.lease || pushableNow(state, d.recipientMemberId, frame.priority));
  session.send({ type: "ack", id: frame.id, messageId: result.message.messageId, queued });
  // The store normally wakes local recipients itself right after commit; only wake when it did not.
  // Deliveries stored leased were pushed directly and need no wake.
  if (!storeWoke)
    wakeRecipients(
      state,
      deliveries.filter((d) => !d.lease).map((d) => d.recipientMemberId),
    );
}

/**
 * `list_peers` (SPEC §3): one page read fresh from the store, with this broker's live peers laid
 * over it. At most `limit` peers (default DEFAULT_PEERS_PAGE) in join order; `next` names where the
 * following page starts (claudemesh extension, docs/PROTOCOL.md).
 */
async function handleListPeers(state: HubState, session: Session, frame: ListPeers): Promise<void> {
  const { store, clock, options } = state.ctx;
  const me = session.me;
  const page = await store.listPeersPage(me.meshId, {
    after: frame.after ?? null,
    limit: frame.limit ?? DEFAULT_PEERS_PAGE,
  });
  if (!page) {
    state.ctx.metrics.inc("frames_rejected_total", { reason: "malformed" });
    session.sendError(
      "malformed",
      `invalid list_peers: after: ${frame.after ?? ""} is not a member of this mesh; pass the next of the previous peers reply, or omit after to start from the first peer`,
      { id: frame.id },
    );
    return;
  }
  const { members, parentPubkeys, channelsByMember } = page;
  const now = clock.now();
  const timings = viewTimings(options);
  const presence = new Map<string, PresenceRow>(page.presence.map((row) => [row.memberId, row]));
  for (const member of members) {
    const local = state.presence.get(member.id);
    if (!local) continue;
    const stored = presence.get(member.id);
    // Our in-memory state is the freshest — unless the peer has since connected to another broker.
    if (local.online || !stored || !isOnline(stored, now, timings))
      presence.set(member.id, state.presence.toRow(local));
  }
  const peers = buildPeerList({
    viewer: me,
    members,
    presence,
    channelsByMember,
    parentPubkeys,
    now,
    timings,
  });
  // claudemesh extension (docs/PROTOCOL.md): the viewer's own entry says what its status holds back.
  const self = peers.find((p) => p.pubkey === me.pubkey);
  if (self && session.peer) {
    const { status, source } = effectiveStatus(session.peer.status, now, timings);
    self.held = { count: await store.countHeld(me.id, allowedPriorities(status)), status, source };
  }
  const last = members[members.length - 1];
  session.send(
    page.more && last
      ? { type: "peers", id: frame.id, peers, next: last.id }
      : { type: "peers", id: frame.id, peers },
  );
}
