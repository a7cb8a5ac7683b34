// createHub: the WebSocket session layer behind the Hub contract — connections, timers, store wake-ups, hooks, shutdown.
import type { IncomingMessage } from "node:http";
import type { WebSocket } from "ws";
import { CLOSE_CODES, type HookStatusRequest } from "@claudemesh/protocol";
import type { BrokerContext } from "../context.js";
import type { HookResult, Hub } from "../hub-api.js";
import { acceptConnection, teardown } from "./connection.js";
import { createHubState, wakeRecipients, type HubState } from "./state.js";
import { BrokerHeartbeat } from "./broker-heartbeat.js";
import { forEachInSlices } from "./slices.js";

/**
 * Sockets pinged (or found dead) per event-loop turn: the tick never holds the loop for all of them
 * at once (each ping is a socket write, tens of µs on a loaded machine).
 */
export const PING_SLICE = 100;
/** A dead socket that does not answer our close frame is cut this much later. */
const TERMINATE_AFTER_CLOSE_MS = 2_000;

export function createHub(ctx: BrokerContext): Hub {
  const state = createHubState(ctx);
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | null = null;
  let unsubscribeReceipts: (() => void) | null = null;
  let unsubscribeRevocations: (() => void) | null = null;
  let shuttingDown: Promise<void> | null = null;
  // The tick's store phase (presence heartbeat, revocation check) spreads over many event-loop turns;
  // one still running when the next tick is due (a slow store) lets that tick's pass.
  let storeBeat: Promise<void> | null = null;
  // SPEC §3 "Leases die with their holder": this broker's beat, and the release of gone brokers' leases.
  const heartbeat = new BrokerHeartbeat(ctx);

  return {
    handleConnection(socket: WebSocket, request: IncomingMessage): void {
      acceptConnection(state, socket, request);
    },
    applyHookStatus: (request) => applyHookStatus(state, request),
    connectionCount: () => state.live.size,
    async start(): Promise<void> {
      const { store, clock, options, brokerId } = ctx;
      // Rows this broker id left online (a previous run that crashed) are not live any more.
      await store.markBrokerPresencesOffline(brokerId, clock.now());
      // Before the first hello: leases of brokers with a stale beat (and of no broker) come back.
      await heartbeat.start();
      // Cross-broker wake-ups (PostgreSQL LISTEN/NOTIFY) and same-process ones both land here.
      unsubscribe = store.onDeliveries((memberIds) => {
        state.storeWakeups++;
        wakeRecipients(state, memberIds);
      });
      // Senders with receipts to pull (expiry, revocation, a change made on another broker).
      unsubscribeReceipts = store.onReceipts((memberIds) => state.receipts.wake(memberIds));
      // Revocations committed by this broker's revoke route (synchronously, before it answers) or another broker.
      unsubscribeRevocations = store.onRevocations((memberIds) => state.revocation.revoked(memberIds));
      const tick = async (): Promise<void> => {
        await pingAll(state);
        storeBeat ??= storePhase(state).finally(() => (storeBeat = null));
      };
      timers.push(setInterval(() => void tick(), options.pingIntervalMs));
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
        unsubscribeReceipts?.();
        unsubscribeRevocations?.();
        await storeBeat;
        await shutdown(state);
        await heartbeat.stop();
      })();
      return shuttingDown;
    },
  };
}

/*
 * The liveness tick, every pingIntervalMs: pingAll, then storePhase (skipped while the previous one
 * still runs). Every part is sliced (PING_SLICE sockets, HEARTBEAT_CHUNK presence rows,
 * REVOCATION_CHECK_CHUNK ids per event-loop turn), so its cost per turn does not grow with the
 * number of connections.
 */

/** Ping every socket; drop those silent past `deadAfterMs` (SPEC §3 Liveness, close 4004). In memory only. */
async function pingAll(state: HubState): Promise<void> {
  const { clock, options, metrics, log } = state.ctx;
  const now = clock.now();
  await forEachInSlices([...state.sockets], PING_SLICE, (session) => {
    if (now - session.lastSeenAt > options.deadAfterMs) {
      metrics.inc("dead_peers_total");
      log.info("ws.dead_peer", {
        conn: session.connId,
        memberId: session.member?.id,
        silentMs: now - session.lastSeenAt,
      });
      session.close(CLOSE_CODES.deadPeer, "dead_peer: no frame or pong within the liveness window");
      setTimeout(() => session.socket.terminate(), TERMINATE_AFTER_CLOSE_MS).unref();
      void teardown(state, session);
    } else if (session.isOpen) {
      session.socket.ping();
    }
  });
  state.replay.prune(now);
}

/**
 * Re-write live presence rows (heartbeat for other brokers); close connections of revoked members
 * (the periodic check).
 */
async function storePhase(state: HubState): Promise<void> {
  const { log } = state.ctx;
  try {
    await state.presence.heartbeat();
    await state.revocation.checkLive();
  } catch (error) {
    log.error("ws.liveness_tick_failed", { error });
  }
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
 * A verified hook status (POST /hook/set-status). Applied at once to a peer connected here; for a
 * peer whose hello is still completing it is kept on the connection; otherwise it is stashed in the
 * store and applied when the session connects within `pendingHookMs` (SPEC §3).
 */
async function applyHookStatus(state: HubState, request: HookStatusRequest): Promise<HookResult> {
  const { store, clock } = state.ctx;
  const now = clock.now();
  let member = (await state.membership.get(request.mesh_id)).byPubkey.get(request.pubkey);
  member ??= (await state.membership.load(request.mesh_id)).byPubkey.get(request.pubkey);
  if (!member) return "ignored";
  const session = state.live.get(member.id);
  if (session?.phase === "ready" && session.peer) {
    const outcome = state.presence.setStatus(session.peer, request.status, "hook", now);
    // "applied" means recorded: peers on other brokers read the stored row.
    if (outcome === "applied") await state.presence.written(session.peer);
    return outcome;
  }
  if (session && session.phase === "authenticating") {
    session.earlyHook = { status: request.status, at: now };
    return "pending";
  }
  await store.stashPendingHook({
    meshId: request.mesh_id,
    pubkey: request.pubkey,
    status: request.status,
    cwd: request.cwd,
    pid: request.pid,
    sessionId: request.session_id ?? null,
    receivedAt: now,
  });
  return "pending";
}

/**
 * Graceful stop: no new frames are read; sends already routed are committed and
 * acked; then every socket is closed with 1001, leases are released and presences marked offline.
 */
async function shutdown(state: HubState): Promise<void> {
  const { store, clock, brokerId, log } = state.ctx;
  const sessions = [...state.sockets];
  await Promise.all(sessions.map((session) => session.sendChain));
  await state.committer.flush();
  for (const session of sessions) session.close(CLOSE_CODES.goingAway, "broker shutting down");
  await Promise.all(sessions.map((session) => teardown(state, session)));
  await state.delivered.flush();
  await state.presence.closeAll();
  try {
    await store.markBrokerPresencesOffline(brokerId, clock.now());
  } catch (error) {
    log.error("ws.shutdown_mark_offline_failed", { error });
  }
}
