// createHub: the WebSocket session layer behind the Hub contract — connections, timers, store wake-ups, hooks, shutdown.
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { CLOSE_CODES, type HookStatusRequest } from "@claudemesh/protocol";
import type { BrokerContext } from "../context.js";
import type { HookResult, Hub } from "../hub-api.js";
import { acceptConnection, teardown } from "./connection.js";
import { createHubState, wakeRecipients, type HubState } from "./state.js";
import { BrokerHeartbeat } from "./broker-heartbeat.js";
import { applyHookToSession, HookRelay } from "./hook-relay.js";
import { livenessSettled, livenessTick } from "./liveness.js";

export function createHub(ctx: BrokerContext): Hub {
  const state = createHubState(ctx);
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | null = null;
  let unsubscribeReceipts: (() => void) | null = null;
  let unsubscribeLeased: (() => void) | null = null;
  let unsubscribeRevocations: (() => void) | null = null;
  let unsubscribeTakeovers: (() => void) | null = null;
  let unsubscribeHooks: (() => void)[] = [];
  const hooks = new HookRelay(state);
  let shuttingDown: Promise<void> | null = null;
  // SPEC §3 "Leases die with their holder": this broker's beat, and the release of gone brokers' leases.
  const heartbeat = new BrokerHeartbeat(ctx);

  return {
    handleConnection(socket: WebSocket, request: IncomingMessage): void {
      acceptConnection(state, socket, request);
    },
    applyHookStatus: (request) => applyHookStatus(state, hooks, request),
    connectionCount: () => state.live.size,
    async start(): Promise<void> {
      const { store, clock, options, brokerId } = ctx;
      // Wake-ups and hook answers addressed to this broker (PostgreSQL: its own channel).
      store.attachBroker(brokerId);
      // Rows this broker id left online (a previous run that crashed) are not live any more.
      await store.markBrokerPresencesOffline(brokerId, clock.now());
      // Before the first hello: leases of brokers with a stale beat (and of no broker) come back.
      await heartbeat.start();
      // Cross-broker wake-ups (PostgreSQL LISTEN/NOTIFY) and same-process ones both land here.
      unsubscribe = store.onDeliveries((memberIds, addressed) => {
        state.storeWakeups++;
        const missing = wakeRecipients(state, memberIds);
        // Sent here by a broker whose snapshot still saw them here: their newer connection is elsewhere.
        if (addressed && missing.length > 0) forwardDeliveries(state, missing);
      });
      // Rows other brokers stored leased to connections here: pushed without a claim, or given back.
      unsubscribeLeased = store.onLeasedDeliveries((deliveries) => state.remotePushes.received(deliveries));
      // Senders with receipts to pull (expiry, revocation, a change made on another broker).
      unsubscribeReceipts = store.onReceipts((memberIds) => state.receipts.wake(memberIds));
      // Revocations committed by this broker's revoke route (synchronously, before it answers) or another broker.
      unsubscribeRevocations = store.onRevocations((memberIds) => state.revocation.revoked(memberIds));
      // Newer connections of identities connected here, admitted on other brokers (newest wins).
      unsubscribeTakeovers = store.onTakeovers((takeovers) => state.takeovers.received(takeovers));
      // Hooks received by any broker for a peer registered here, and answers to the ones this broker relayed.
      unsubscribeHooks = [
        store.onHookNotices((notice) => void hooks.noticed(notice)),
        store.onHookAnswers((answer) => hooks.answered(answer)),
      ];
      timers.push(setInterval(() => void livenessTick(state), options.pingIntervalMs));
      timers.push(setInterval(() => void sweep(state), options.sweepIntervalMs));
      for (const timer of timers) timer.unref();
      ctx.metrics.set("connections_active", 0);
    },
    listening: (endpoint) => heartbeat.claimEndpoint(endpoint),
    shutdown(): Promise<void> {
      shuttingDown ??= (async () => {
        state.closing = true;
        for (const timer of timers) clearInterval(timer);
        unsubscribe?.();
        unsubscribeLeased?.();
        unsubscribeReceipts?.();
        unsubscribeRevocations?.();
        unsubscribeTakeovers?.();
        for (const off of unsubscribeHooks) off();
        await shutdown(state);
        await heartbeat.stop();
      })();
      return shuttingDown;
    },
  };
}

/**
 * Retention (SPEC §3 Offline queue: default 7 days): drops old undelivered and delivered rows; and
 * agent retirement (SPEC §7): agents not connected for `agentIdleRetireMs` are revoked.
 */
async function sweep(state: HubState): Promise<void> {
  const { store, clock, options, metrics, log } = state.ctx;
  try {
    const now = clock.now();
    const removed = await store.sweepMessages(now - options.retentionMs, now);
    // A receipt is kept for the retention window after its last change.
    const receipts = await store.sweepReceipts(now - options.retentionMs);
    if (removed > 0) metrics.inc("messages_swept_total", undefined, removed);
    if (receipts > 0) metrics.inc("receipts_swept_total", undefined, receipts);
    if (removed > 0 || receipts > 0) log.info("ws.swept", { removed, receipts });
    const retired = await store.retireIdleAgents(now - options.agentIdleRetireMs, now);
    if (retired.length > 0) {
      metrics.inc("agents_retired_total", undefined, retired.length);
      log.info("ws.agents_retired", { count: retired.length });
    }
  } catch (error) {
    log.error("ws.sweep_failed", { error });
  }
}

/**
 * A verified hook status (POST /hook/set-status). Applied at once to a peer connected here (kept on
 * the connection while its hello completes); otherwise stashed in the store — applied when the
 * session connects within `pendingHookMs` (SPEC §3) — and relayed to the broker holding the peer,
 * which applies it now and answers (ws/hook-relay.ts).
 */
async function applyHookStatus(
  state: HubState,
  hooks: HookRelay,
  request: HookStatusRequest,
): Promise<HookResult> {
  const now = state.ctx.clock.now();
  let member = (await state.membership.get(request.mesh_id)).byPubkey.get(request.pubkey);
  member ??= (await state.membership.load(request.mesh_id)).byPubkey.get(request.pubkey);
  if (!member) return "ignored";
  const session = state.live.get(member.id);
  if (session) return applyHookToSession(state, session, request.status, now);
  return hooks.relay(member, request, now);
}

/**
 * Graceful stop: no new frames are read; sends already routed are committed and
 * acked; then every socket is closed with 1001, leases are released and presences marked offline.
 */
async function shutdown(state: HubState): Promise<void> {
  const { store, clock, brokerId, log } = state.ctx;
  await livenessSettled(state);
  const sessions = [...state.sockets];
  await Promise.all(sessions.map((session) => session.sendChain));
  await state.committer.flush();
  for (const session of sessions) session.close(CLOSE_CODES.goingAway, "broker shutting down");
  await Promise.all(sessions.map((session) => teardown(state, session)));
  // Teardowns begun before the stop (their sockets had already left `sockets`) finish first too.
  await Promise.all([...state.teardowns.values()]);
  await state.delivered.flush();
  await state.presence.closeAll();
  try {
    // Every lease and online row of this broker in one transaction, however many connections it had.
    await store.retireBroker(brokerId, clock.now());
  } catch (error) {
    // Its row goes stale instead: another broker's heartbeat releases the rest within brokerGoneAfterMs.
    log.error("ws.shutdown_retire_failed", { error });
  }
}

/** Passes an addressed wake-up for recipients no longer connected here on to the brokers holding them now. */
function forwardDeliveries(state: HubState, memberIds: readonly string[]): void {
  const { store, metrics, log } = state.ctx;
  metrics.inc("wakeups_forwarded_total", undefined, memberIds.length);
  store.forwardDeliveries(memberIds).catch((error: unknown) => {
    // The recipients' next wake-up, lease timer or hello claims them.
    log.warn("ws.wakeup_forward_failed", { error });
  });
}
