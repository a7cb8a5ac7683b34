// Connection lifecycle (SPEC §3 Handshake, Liveness): frame intake, hello, newest-wins registration, teardown.
import type { IncomingMessage } from "node:http";
import type { RawData, WebSocket } from "ws";
import {
  CLOSE_CODES,
  parseClientFrame,
  type ClientFrame,
  type HandshakeRejection,
  type ParseResult,
  type Hello,
} from "@claudemesh/protocol";
import { pooledRandomId } from "../core/ids.js";
import {
  StoreUnavailableError,
  type MemberRow,
  type PendingHookStatus,
  type PresenceRow,
} from "../store/types.js";
import { allowedPriorities, effectiveStatus } from "../core/status.js";
import { Drainer } from "./drain.js";
import { oversizeAllowed } from "./frame-cap.js";
import { verifyHello } from "./handshake.js";
import { admitHello } from "./admission.js";
import { waitingAfterAdmission } from "./mail-probe.js";
import { handleFrame } from "./handlers.js";
import { viewTimings } from "./presence.js";
import { MAX_HELD_FRAMES, Session } from "./session.js";
import type { HubState } from "./state.js";
import { connectionOwnerId } from "./broker-heartbeat.js";

/** Takes over an upgraded socket: hello timeout, frame intake, close handling. */
export function acceptConnection(state: HubState, socket: WebSocket, request: IncomingMessage): void {
  const { options, clock, log, metrics } = state.ctx;
  if (state.closing) {
    socket.close(CLOSE_CODES.goingAway, "broker shutting down");
    return;
  }
  const session: Session = new Session(
    socket,
    pooledRandomId(8),
    request.socket.remoteAddress ?? "unknown",
    clock.now(),
    {
      framesPerSec: options.connFramesPerSec,
      burst: options.connFrameBurst,
      errors: {
        perSec: options.errorRepliesPerSec,
        burst: options.errorReplyBurst,
        preHello: options.preHelloErrorReplies,
      },
      preHelloOutboundBytes: options.preHelloOutboundBytes,
    },
    {
      now: () => clock.now(),
      onOverflow: (overflow) => {
        metrics.inc("connections_closed_total", { reason: "outbound_overflow" });
        log.warn("ws.outbound_overflow", {
          conn: session.connId,
          remote: session.remote,
          memberId: session.member?.id,
          queued: overflow.queued,
          frameBytes: overflow.frameBytes,
          limit: overflow.limit,
        });
        // Its leases go back at once, so the messages reach its next connection.
        void teardown(state, session);
      },
      onErrorFlood: () => {
        metrics.inc("connections_closed_total", { reason: "error_flood" });
        log.warn("ws.error_flood", {
          conn: session.connId,
          remote: session.remote,
          memberId: session.member?.id,
        });
        void teardown(state, session);
      },
      onPeak: (bytes) => {
        if (bytes <= state.outboundPeak) return;
        state.outboundPeak = bytes;
        metrics.set("outbound_buffered_peak_bytes", bytes);
      },
    },
  );
  state.sockets.add(session);
  session.helloTimer = setTimeout(() => {
    session.helloTimer = null;
    if (session.phase === "ready" || session.phase === "closed") return;
    metrics.inc("connections_rejected_total", { reason: "hello_timeout" });
    log.debug("ws.hello_timeout", { conn: session.connId, remote: session.remote });
    session.close(CLOSE_CODES.helloTimeout, "hello_timeout");
  }, options.helloTimeoutMs);
  socket.on("message", (data: RawData, isBinary: boolean) => onMessage(state, session, data, isBinary));
  socket.on("pong", () => touch(state, session));
  socket.on("error", (error) => log.warn("ws.socket_error", { conn: session.connId, error }));
  socket.on("close", (code: number) => {
    log.debug("ws.closed", { conn: session.connId, memberId: session.member?.id, code });
    void teardown(state, session);
  });
}

function touch(state: HubState, session: Session): void {
  const now = state.ctx.clock.now();
  session.lastSeenAt = now;
  if (session.peer && session.phase === "ready") state.presence.touch(session.peer, now);
}

function onMessage(state: HubState, session: Session, data: RawData, isBinary: boolean): void {
  touch(state, session);
  if (session.phase === "closed" || state.closing) return;
  if (isBinary) {
    session.sendError("malformed", "frames must be JSON text frames, not binary");
    return;
  }
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
  const raw = bytes.toString("utf8");
  let parsed: ParseResult<ClientFrame> | undefined;
  if (bytes.length > state.ctx.options.maxFrameBytes) {
    // Only a group send of an authenticated connection may pass maxFrameBytes (SPEC §7 group frame cap).
    parsed = session.phase === "ready" ? parseClientFrame(raw) : undefined;
    if (!oversizeAllowed(state.ctx.options, parsed?.ok ? parsed.value : null, bytes.length)) {
      state.ctx.metrics.inc("frames_rejected_total", { reason: "too_large" });
      session.close(CLOSE_CODES.messageTooBig, "frame too large");
      return;
    }
  }
  if (session.phase === "authenticating") {
    // Frames pipelined right behind the hello run once it succeeds (they are not "before hello").
    if (session.held.length < MAX_HELD_FRAMES) session.held.push(raw);
    else session.sendError("no_hello", "wait for hello_ack before sending more frames");
    return;
  }
  processRaw(state, session, raw, parsed);
}

function frameId(frame: ClientFrame): string | undefined {
  return "id" in frame ? frame.id : undefined;
}

/** Parse, rate-limit, dispatch. Every failure becomes an error frame; the connection stays usable. */
function processRaw(
  state: HubState,
  session: Session,
  raw: string,
  preparsed?: ParseResult<ClientFrame>,
): void {
  const { clock, metrics } = state.ctx;
  const parsed = preparsed ?? parseClientFrame(raw);
  if (!session.frames.take(clock.now())) {
    metrics.inc("frames_rejected_total", { reason: "rate_limited" });
    const id = parsed.ok ? frameId(parsed.value) : parsed.id;
    session.sendError("rate_limited", "too many frames on this connection; slow down", { id });
    return;
  }
  if (!parsed.ok) {
    metrics.inc("frames_rejected_total", { reason: "malformed" });
    session.sendError("malformed", parsed.message, { id: parsed.id });
    return;
  }
  const frame = parsed.value;
  if (session.phase !== "ready") {
    if (frame.type === "hello") {
      void runHello(state, session, frame);
    } else {
      metrics.inc("frames_rejected_total", { reason: "no_hello" });
      session.sendError("no_hello", "say hello first: the first frame must be a signed hello", {
        id: frameId(frame),
      });
    }
    return;
  }
  handleFrame(state, session, frame).catch((error: unknown) => reportFailure(state, session, frame, error));
}

/** An unexpected failure in a handler: logged (metadata only) and answered, never a crash. */
function reportFailure(state: HubState, session: Session, frame: ClientFrame, error: unknown): void {
  const unavailable = error instanceof StoreUnavailableError;
  const code = unavailable ? "storage_unavailable" : "internal";
  state.ctx.metrics.inc("frames_failed_total", { code });
  state.ctx.log.error("ws.frame_failed", {
    conn: session.connId,
    memberId: session.member?.id,
    type: frame.type,
    code,
    error,
  });
  session.sendError(
    code,
    unavailable
      ? "the broker's storage is unavailable; retry shortly"
      : "the broker failed to handle this frame",
    { id: frameId(frame) },
  );
}

/** Rejects a hello: error frame, then close 1008 with the reason as close text (SPEC §3). */
function reject(
  state: HubState,
  session: Session,
  code: HandshakeRejection,
  message: string,
  hello: Hello,
): void {
  state.ctx.metrics.inc("connections_rejected_total", { reason: code });
  state.ctx.log.info("ws.hello_rejected", {
    conn: session.connId,
    remote: session.remote,
    reason: code,
    meshId: hello.meshId,
  });
  session.sendError(code, message);
  session.close(CLOSE_CODES.policyViolation, code);
  void teardown(state, session);
}

async function runHello(state: HubState, session: Session, hello: Hello): Promise<void> {
  const { store, options, clock, log, metrics } = state.ctx;
  session.phase = "authenticating";
  try {
    // Checks 1–3 cost CPU only; 4–6 are one store round trip.
    const rejection = verifyHello(hello, { now: clock.now(), skewMs: options.helloSkewMs });
    if (rejection) return reject(state, session, rejection.code, rejection.message, hello);
    if (session.closed) return;
    if (state.closing) return session.close(CLOSE_CODES.goingAway, "broker shutting down");
    // The lease owner of this connection: starts with the broker id (leases die with their holder).
    const presenceId = connectionOwnerId(state.ctx.brokerId, pooledRandomId());
    // Wake-ups that arrive while the admission is in the store find no connection to wake yet.
    const wakesBefore = { deliveries: state.storeWakeups, receipts: state.receipts.wakes };
    const verdict = await admitHello(state, hello, presenceId);
    if (!verdict.ok) {
      if (session.closed) return;
      return reject(state, session, verdict.code, verdict.message, hello);
    }
    const { member, presence: row, pendingHook, waiting } = verdict.admitted;
    // Registration is synchronous with the end of the admission (the cap slot passes to `live`).
    let previous: Session | undefined;
    try {
      // A revocation that committed after the admission's membership read, before this registration.
      const revoked = state.revocation.isRecentlyRevoked(member.id);
      if (session.closed || state.closing || revoked) {
        abandonAdmission(state, member, row);
        if (revoked) return reject(state, session, "revoked", "this member was revoked from the mesh", hello);
        return session.close(CLOSE_CODES.goingAway, "broker shutting down");
      }
      previous = state.live.get(member.id);
      session.member = member;
      session.presenceId = presenceId;
      state.live.set(member.id, session);
      if (previous) {
        // Newest wins: the older socket is told why and its leases are released before we drain.
        previous.replaced = true;
        previous.close(CLOSE_CODES.replaced, "replaced: a newer connection of this identity took over");
        log.debug("ws.replaced", { conn: previous.connId, by: session.connId, memberId: member.id });
      }
    } finally {
      verdict.releaseSlot();
    }
    metrics.set("connections_active", state.live.size);
    const peer = state.presence.connect(member, row);
    session.peer = peer;
    // A takeover by another broker that was told before this registration applies now.
    state.takeovers.registered(session);
    const earlier = previous ? teardown(state, previous) : state.teardowns.get(member.id);
    if (earlier) {
      await earlier;
      // An older connection's teardown that ran alongside the admission may have written its row.
      if (state.live.get(member.id) === session) void state.presence.persist(peer);
    }
    const mail = await waitingAfterAdmission(state.mailProbe, member.id, waiting);
    if (session.closed || state.live.get(member.id) !== session) return;

    applyEarlyHooks(state, session, pendingHook);
    session.drainer = new Drainer(
      {
        memberId: member.id,
        presenceId,
        priorities: () =>
          allowedPriorities(effectiveStatus(peer.status, clock.now(), viewTimings(options)).status),
        bufferedAmount: () => session.outbound.queued,
        highWater: () => session.outbound.highWater,
        heldBack: () => state.remotePushes.isReturning(member.id),
        send: (raw) => session.sendRaw(raw),
      },
      { store, options, clock, metrics, log, ledger: state.ledger },
    );

    // The session is complete before hello_ack goes out, so frames right after the ack just work.
    session.phase = "ready";
    if (session.helloTimer) clearTimeout(session.helloTimer);
    session.helloTimer = null;
    session.authenticated(options.maxOutboundBytes);
    session.send({ type: "hello_ack", presenceId, memberDisplayName: member.displayName });
    metrics.inc("connections_accepted_total");
    log.debug("ws.hello_ok", {
      conn: session.connId,
      meshId: member.meshId,
      memberId: member.id,
      presenceId,
    });
    // Then the offline queue drains, then the frames that were pipelined behind the hello. Both
    // skip their store round trip when nothing waits (waitingAfterAdmission) and no wake-up came
    // since the admission began (one that came in before the registration found no session).
    session.drainer.enable({
      emptyMailbox: !mail.deliveries && state.storeWakeups === wakesBefore.deliveries,
    });
    // Receipts of this member's messages that changed while it was away.
    if (mail.receipts || state.receipts.wakes !== wakesBefore.receipts) state.receipts.pull(member.id);
    const held = session.held;
    session.held = [];
    for (const raw of held) processRaw(state, session, raw);
  } catch (error) {
    const unavailable = error instanceof StoreUnavailableError;
    log.error("ws.hello_failed", { conn: session.connId, error });
    session.sendError(
      unavailable ? "storage_unavailable" : "internal",
      unavailable
        ? "the broker's storage is unavailable; reconnect shortly"
        : "the broker failed to complete the hello",
    );
    session.close(CLOSE_CODES.internalError, unavailable ? "storage_unavailable" : "internal");
    void teardown(state, session);
  }
}

/**
 * An admission whose connection will not be served (its socket closed meanwhile, its member was
 * revoked, or the broker is stopping): the row it wrote goes back to this broker's older connection
 * of the identity, or is held offline like any dropped peer.
 */
function abandonAdmission(state: HubState, member: MemberRow, row: PresenceRow): void {
  const previous = state.live.get(member.id);
  if (previous?.peer) {
    void state.presence.persist(previous.peer);
    return;
  }
  if (previous || state.closing) return;
  void state.presence.disconnect(state.presence.connect(member, row));
}

/**
 * Hook statuses that arrived before this session was ready: the stored one (SPEC §3: kept 10 s and
 * applied on connect), then one that raced the handshake on this broker, newest last.
 */
function applyEarlyHooks(state: HubState, session: Session, stored: PendingHookStatus | null): void {
  const peer = session.peer!;
  const early = [stored ? { status: stored.status, at: stored.receivedAt } : null, session.earlyHook]
    .filter((hook) => hook !== null)
    .sort((a, b) => a.at - b.at);
  session.earlyHook = null;
  for (const hook of early) state.presence.setStatus(peer, hook.status, "hook", hook.at);
}

/**
 * Runs once per socket, however it ended: unregisters it, stops its delivery loop, releases its
 * leases so the messages go to the next connection at once (SPEC §3: redelivered when the
 * connection drops), and — unless a newer connection took over — holds the peer for the grace.
 */
export function teardown(state: HubState, session: Session): Promise<void> {
  session.teardown ??= (async () => {
    session.phase = "closed";
    if (session.helloTimer) clearTimeout(session.helloTimer);
    session.helloTimer = null;
    session.held = [];
    state.sockets.delete(session);
    const member = session.member;
    if (!member) return;
    const registered = state.live.get(member.id) === session;
    if (registered) {
      state.live.delete(member.id);
      state.ctx.metrics.set("connections_active", state.live.size);
    }
    const done = (async () => {
      try {
        await session.drainer?.stop();
        // Acks that arrived before the drop are written first, so they are not redelivered.
        await state.delivered.flush();
        // A stopping broker releases every connection's leases at once (Store.retireBroker).
        if (session.presenceId && !state.closing) await state.ctx.store.releaseLeases(session.presenceId);
      } catch (error) {
        state.ctx.log.error("ws.release_failed", { conn: session.connId, memberId: member.id, error });
      }
      if (registered && session.peer && !state.live.has(member.id) && !state.closing) {
        // Taken over by another broker: the stored row is the new owner's, so nothing is written.
        if (session.replaced) state.presence.release(session.peer);
        else await state.presence.disconnect(session.peer);
      }
    })();
    state.teardowns.set(member.id, done);
    await done;
    if (state.teardowns.get(member.id) === done) state.teardowns.delete(member.id);
  })();
  return session.teardown;
}
