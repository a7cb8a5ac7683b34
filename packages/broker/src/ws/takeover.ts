// Newest wins across brokers (SPEC §3): a newer connection of an identity admitted on another broker
// of the store closes this broker's older one with 4001 (Store.onTakeovers).
import { CLOSE_CODES } from "@claudemesh/protocol";
import type { Takeover } from "../store/types.js";
import { teardown } from "./connection.js";
import type { Session } from "./session.js";
import type { HubState } from "./state.js";

/**
 * A notice is kept this long for a connection whose admission committed before the notice arrived
 * but is not registered yet (the notice and the admission's answer travel on different connections).
 */
export const RECENT_TAKEOVER_MS = 60_000;
/** At most this many recent notices are kept (oldest dropped first). */
export const MAX_RECENT_TAKEOVERS = 10_000;

export class TakeoverWatch {
  /** Member id → the notices received for it (insertion order is arrival order). */
  private readonly recent = new Map<string, { takeover: Takeover; at: number }[]>();

  constructor(private readonly state: HubState) {}

  /** Notices from the store: each one closes the connection it names, now or when it registers. */
  received(takeovers: readonly Takeover[]): void {
    const now = this.state.ctx.clock.now();
    for (const takeover of takeovers) {
      const list = this.recent.get(takeover.memberId) ?? [];
      this.recent.delete(takeover.memberId);
      this.recent.set(takeover.memberId, [...list, { takeover, at: now }]);
      const session = this.state.live.get(takeover.memberId);
      if (session) this.apply(session, takeover);
    }
    this.prune(now);
  }

  /** A connection just registered: a notice that arrived before it was registered applies now. */
  registered(session: Session): void {
    const memberId = session.member?.id;
    if (memberId === undefined) return;
    const now = this.state.ctx.clock.now();
    for (const { takeover, at } of this.recent.get(memberId) ?? [])
      if (now - at <= RECENT_TAKEOVER_MS) this.apply(session, takeover);
  }

  private apply(session: Session, takeover: Takeover): void {
    if (session.closed) return;
    if (takeover.presenceId !== null) {
      if (session.presenceId === takeover.presenceId) this.close(session);
      return;
    }
    // The admission raced another one and could not say which it replaced: the stored row names
    // the connection that won; any other is closed.
    void this.keepIfStored(session);
  }

  private async keepIfStored(session: Session): Promise<void> {
    const member = session.member!;
    try {
      const row = await this.state.ctx.store.getPresence(member.id);
      if (this.state.live.get(member.id) !== session || session.closed) return;
      if (row && row.presenceId !== session.presenceId) this.close(session);
    } catch (error) {
      this.state.ctx.log.warn("ws.takeover_check_failed", { memberId: member.id, error });
    }
  }

  /** Closes the older connection like a local replacement; its teardown leaves the row to the new owner. */
  private close(session: Session): void {
    const { metrics, log } = this.state.ctx;
    session.replaced = true;
    metrics.inc("connections_taken_over_total");
    log.debug("ws.taken_over", { conn: session.connId, memberId: session.member?.id });
    session.close(CLOSE_CODES.replaced, "replaced: a newer connection of this identity took over");
    void teardown(this.state, session);
  }

  private prune(now: number): void {
    let total = 0;
    for (const list of this.recent.values()) total += list.length;
    for (const [memberId, list] of this.recent) {
      if (total <= MAX_RECENT_TAKEOVERS && now - list[list.length - 1]!.at <= RECENT_TAKEOVER_MS) break;
      this.recent.delete(memberId);
      total -= list.length;
    }
  }
}
