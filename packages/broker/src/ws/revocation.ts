// Revocation on the WebSocket side (SPEC §2 POST /members/revoke): cut revoked connections (close 4003),
// catch a hello that raced the revocation, and a periodic store check. Sends of a revoked sender are
// refused by the enqueue write itself (store/sql/sender-guard.ts; handlers.ts answers and cuts).
import { CLOSE_CODES } from "@claudemesh/protocol";
import { teardown } from "./connection.js";
import { forEachChunk } from "./slices.js";
import type { Session } from "./session.js";
import type { HubState } from "./state.js";

/** A revocation notice is remembered this long, for a hello whose member read preceded the revocation. */
export const RECENT_REVOCATION_MS = 60_000;
/** At most this many recent revocations are remembered (oldest dropped first). */
export const MAX_RECENT_REVOCATIONS = 10_000;
/** Member ids per store read of the periodic check (one read per event-loop turn). */
export const REVOCATION_CHECK_CHUNK = 1_000;

export class RevocationWatch {
  /** Member id → when the notice arrived (insertion order is arrival order). */
  private readonly recent = new Map<string, number>();

  constructor(private readonly state: HubState) {}

  /**
   * A revocation notice (this broker's revoke route, another broker through the store, or the
   * periodic check): every connection of those members is closed with 4003 at once, and the
   * routing snapshots are dropped so nothing new is routed to them.
   */
  revoked(memberIds: readonly string[]): void {
    const now = this.state.ctx.clock.now();
    for (const id of memberIds) {
      this.recent.delete(id);
      this.recent.set(id, now);
    }
    this.prune(now);
    this.state.membership.retain(new Set());
    // A socket carries its member only once registered as that member's live connection (a
    // replaced one is torn down at once), so the live index finds every connection to cut.
    for (const id of memberIds) {
      const session = this.state.live.get(id);
      if (session && !session.closed) this.cut(session);
    }
  }

  /** True when a notice for this member arrived recently (a hello verified just before it must not register). */
  isRecentlyRevoked(memberId: string): boolean {
    const at = this.recent.get(memberId);
    return at !== undefined && this.state.ctx.clock.now() - at <= RECENT_REVOCATION_MS;
  }

  /** Closes a revoked member's connection: error frame, close 4003, teardown. */
  cut(session: Session): void {
    if (session.closed) return;
    this.state.ctx.metrics.inc("revoked_disconnects_total");
    this.state.ctx.log.info("ws.revoked_disconnect", { conn: session.connId, memberId: session.member?.id });
    session.sendError("revoked", "this member was revoked from the mesh; its connection is closed");
    session.close(CLOSE_CODES.revoked, "revoked");
    void teardown(this.state, session);
  }

  /**
   * The periodic check (liveness tick): store reads over the ids connected here, REVOCATION_CHECK_CHUNK
   * ids per read and one read per event-loop turn — a notice lost while a broker's LISTEN connection
   * was down, or a row revoked by hand, is caught within a tick.
   */
  async checkLive(): Promise<void> {
    // Routing snapshots of meshes nobody here uses any more are dropped on the way.
    this.state.membership.retain(this.state.live.meshIds);
    const ids = [...this.state.live.keys()];
    await forEachChunk(ids, REVOCATION_CHECK_CHUNK, async (chunk) => {
      const revoked = await this.state.ctx.store.revokedAmong(chunk);
      if (revoked.length > 0) this.revoked(revoked);
    });
  }

  private prune(now: number): void {
    for (const [id, at] of this.recent) {
      if (this.recent.size <= MAX_RECENT_REVOCATIONS && now - at <= RECENT_REVOCATION_MS) break;
      this.recent.delete(id);
    }
  }
}
