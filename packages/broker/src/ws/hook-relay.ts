// Hook statuses (POST /hook/set-status, SPEC §3 status model) for a peer connected to another broker:
// stashed and relayed through the store to every broker; the one holding the peer takes the stashed
// entry (so it is applied once: not again on the next connect), applies it through the same path as
// a local hook and answers; the broker that received the hook waits for that answer.
import type { HookStatusRequest, Status } from "@claudemesh/protocol";
import type { HookResult } from "../hub-api.js";
import type { HookAnswer, HookNotice, MemberRow } from "../store/types.js";
import { cryptoLib } from "../crypto.js";
import { isOnline } from "../core/peers.js";
import { viewTimings } from "./presence.js";
import type { Session } from "./session.js";
import type { HubState } from "./state.js";

/**
 * How long the broker that received a hook waits for the holding broker's answer (SPEC: a hook
 * reaches a peer connected anywhere within 1 s); without one the answer is `pending` — the entry
 * stays stashed for the peer's next connect unless the holder took it meanwhile.
 */
export const HOOK_ANSWER_TIMEOUT_MS = 1_000;
/**
 * Without an answer the notice is sent again this often (no second stash) until the timeout: a
 * holder whose hello was registering its session, or whose LISTEN was reconnecting, missed it.
 */
export const HOOK_RENOTICE_MS = 250;
/** Most relayed results remembered (see HookRelay.applied). */
const MAX_REMEMBERED = 10_000;

/**
 * A hook status for a session registered here, through one path whether it came over this broker's
 * HTTP or from another broker: applied to the peer (`applied` once the presence row is written, so
 * peers on other brokers read it; `ignored` under the status rules, e.g. dnd), or kept for a hello
 * still completing (`pending`, applied right after it; the newest kept hook wins).
 */
export async function applyHookToSession(
  state: HubState,
  session: Session,
  status: Status,
  at: number,
): Promise<HookResult> {
  const peer = session.peer;
  if (peer) {
    const outcome = state.presence.setStatus(peer, status, "hook", at);
    if (outcome === "applied") await state.presence.written(peer);
    return outcome;
  }
  if (!session.earlyHook || session.earlyHook.at <= at) session.earlyHook = { status, at };
  return "pending";
}

export class HookRelay {
  /** Request id → resolves the HTTP request waiting for the holder's answer. */
  private readonly waiting = new Map<string, (result: HookResult) => void>();
  /**
   * Member id → the relayed entry this broker last took and its result. A notice whose entry is gone
   * because an earlier notice took a newer entry (newest wins in the stash) is answered with it.
   */
  private readonly applied = new Map<string, { at: number; result: HookResult; takenAt: number }>();

  constructor(private readonly state: HubState) {}

  /**
   * Stashes and relays a hook for `member`, not registered here. `applied` / `ignored` when the
   * broker holding it answered within HOOK_ANSWER_TIMEOUT_MS; `pending` when it is online nowhere
   * (applied on its next connect) or no answer came.
   */
  async relay(member: MemberRow, request: HookStatusRequest, now: number): Promise<HookResult> {
    const { store, brokerId, options, log } = this.state.ctx;
    const notice: HookNotice = {
      requestId: cryptoLib().randomId(),
      fromBrokerId: brokerId,
      memberId: member.id,
      meshId: member.meshId,
      pubkey: member.pubkey,
      status: request.status,
      at: now,
    };
    // Registered before the write: an answer may arrive before the write's own reply.
    let result: HookResult | null = null;
    const answered = new Promise<HookResult>((resolve) =>
      this.waiting.set(notice.requestId, (r) => {
        result = r;
        resolve(r);
      }),
    );
    const timers: NodeJS.Timeout[] = [];
    try {
      const entry = {
        meshId: request.mesh_id,
        pubkey: request.pubkey,
        status: request.status,
        cwd: request.cwd,
        pid: request.pid,
        sessionId: request.session_id ?? null,
        receivedAt: now,
      };
      const holder = await store.relayHookStatus(entry, notice);
      const holderBroker = holder?.brokerId ?? null;
      const elsewhere =
        holder !== null &&
        holderBroker !== null &&
        holderBroker !== brokerId &&
        isOnline(holder, now, viewTimings(options)) &&
        store.reachesBroker(holderBroker);
      if (!elsewhere) return "pending";
      const timeout = new Promise<HookResult>((resolve) => {
        timers.push(setTimeout(() => resolve("pending"), HOOK_ANSWER_TIMEOUT_MS));
      });
      // Bounded: at most HOOK_ANSWER_TIMEOUT_MS / HOOK_RENOTICE_MS repeats, none after an answer.
      for (let at = HOOK_RENOTICE_MS; at < HOOK_ANSWER_TIMEOUT_MS; at += HOOK_RENOTICE_MS) {
        timers.push(
          setTimeout(() => {
            if (result !== null) return;
            store.noticeHook(notice).catch((error: unknown) => {
              log.warn("ws.hook_renotice_failed", { memberId: member.id, error });
            });
          }, at),
        );
      }
      return await Promise.race([answered, timeout]);
    } finally {
      for (const timer of timers) clearTimeout(timer);
      this.waiting.delete(notice.requestId);
    }
  }

  /** An answer from the holding broker (or this one) to a relay of ours. */
  answered(answer: HookAnswer): void {
    if (answer.toBrokerId !== this.state.ctx.brokerId) return;
    this.waiting.get(answer.requestId)?.(answer.result);
  }

  /**
   * A hook relayed by some broker (this one included). Only the broker with the member registered
   * acts: it takes the stashed entry — of brokers and hellos racing for it exactly one gets it — applies
   * it and answers. Every other broker ignores the notice.
   *
   * A hello racing the relay: one that registers its session (`live`) before it takes the stashed
   * entry finds the entry itself when the notice came too early; one that takes the entry first
   * and registers later gets the repeated notice (HOOK_RENOTICE_MS) once registered.
   */
  async noticed(notice: HookNotice): Promise<void> {
    const { store, clock, options, log } = this.state.ctx;
    const session = this.state.live.get(notice.memberId);
    const member = session?.member;
    if (!session || !member || member.meshId !== notice.meshId || member.pubkey !== notice.pubkey) return;
    try {
      const now = clock.now();
      const entry = await store.takePendingHook(member.meshId, member.pubkey, now - options.pendingHookMs);
      let result: HookResult;
      if (entry) {
        // A session that closed meanwhile still has its peer record (held for the grace).
        result = await applyHookToSession(this.state, session, entry.status, entry.receivedAt);
        this.remember(member.id, entry.receivedAt, result, now);
      } else {
        // Taken by this session's hello (applied on connect) or by a notice for a newer hook.
        const last = this.applied.get(member.id);
        result = last && last.at >= notice.at ? last.result : "pending";
      }
      await store.answerHookStatus({ requestId: notice.requestId, toBrokerId: notice.fromBrokerId, result });
    } catch (error) {
      log.warn("ws.hook_relay_failed", { memberId: notice.memberId, error });
    }
  }

  private remember(memberId: string, at: number, result: HookResult, now: number): void {
    this.applied.delete(memberId);
    this.applied.set(memberId, { at, result, takenAt: now });
    // Oldest first (insertion order): entries past the pending window can no longer be asked about.
    for (const [id, entry] of this.applied) {
      if (this.applied.size <= MAX_REMEMBERED && now - entry.takenAt <= this.state.ctx.options.pendingHookMs)
        break;
      this.applied.delete(id);
    }
  }
}
