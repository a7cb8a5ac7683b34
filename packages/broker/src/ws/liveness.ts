// The liveness tick (SPEC §3 Liveness), every pingIntervalMs, at a cost per event-loop turn that does not grow with connections.
import { CLOSE_CODES } from "@claudemesh/protocol";
import { teardown } from "./connection.js";
import { forEachInSlices } from "./slices.js";
import type { HubState } from "./state.js";

/**
 * Sockets pinged (or found dead) per event-loop turn: the tick never holds the loop for all of them
 * at once (each ping is a socket write, tens of µs on a loaded machine).
 */
export const PING_SLICE = 100;
/** Remembered hello signatures looked at per event-loop turn when the expired ones are dropped. */
const REPLAY_PRUNE_SLICE = 5_000;
/** A dead socket that does not answer our close frame is cut this much later. */
const TERMINATE_AFTER_CLOSE_MS = 2_000;

/** The store phase still running, per hub: at most one at a time. */
const storePhases = new WeakMap<HubState, Promise<void>>();

/**
 * One tick: pingAll, then the store phase unless the previous tick's is still running (a slow
 * store). Every part is sliced — PING_SLICE sockets, HEARTBEAT_CHUNK presence rows (presence.ts),
 * REVOCATION_CHECK_CHUNK ids (revocation.ts) per event-loop turn — so other work runs in between.
 */
export async function livenessTick(state: HubState): Promise<void> {
  await pingAll(state);
  if (storePhases.has(state)) return;
  const phase = storePhase(state).finally(() => storePhases.delete(state));
  storePhases.set(state, phase);
  await phase;
}

/** Resolves once no store phase of this hub is running (graceful shutdown waits for it). */
export async function livenessSettled(state: HubState): Promise<void> {
  await storePhases.get(state);
}

/** Ping every socket; drop those silent past `deadAfterMs` (close 4004). In memory only: runs every tick. */
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
  await state.replay.pruneInSlices(now, REPLAY_PRUNE_SLICE);
}

/** Re-writes live presence rows (heartbeat for other brokers); closes connections of revoked members. */
async function storePhase(state: HubState): Promise<void> {
  try {
    await state.presence.heartbeat();
    await state.revocation.checkLive();
  } catch (error) {
    state.ctx.log.error("ws.liveness_tick_failed", { error });
  }
}
