// Presence and status of the peers this broker serves (SPEC §3 status model, Liveness): state, persistence, grace, working TTL.
import type { Status, StatusSource } from "@claudemesh/protocol";
import type { AdmitHelloInput, MemberRow, PresenceRow, Store, Takeover } from "../store/types.js";
import type { BrokerOptions, Clock, Logger } from "../context.js";
import { forEachChunk } from "./slices.js";
import {
  applyStatus,
  effectiveStatus,
  initialStatus,
  workingExpiresAt,
  type StatusRecord,
} from "../core/status.js";
import type { PeerViewTimings } from "../core/peers.js";

/** What this broker knows about one peer it serves now or held within the grace. */
export interface LocalPeer {
  member: MemberRow;
  /** Presence id of the live connection; null once the peer is offline. */
  presenceId: string | null;
  online: boolean;
  status: StatusRecord;
  summary: string | null;
  cwd: string | null;
  pid: number | null;
  sessionId: string | null;
  connectedAt: number | null;
  lastSeenAt: number | null;
  disconnectedAt: number | null;
  graceTimer: NodeJS.Timeout | null;
  workingTimer: NodeJS.Timeout | null;
  /** Coalesced presence write: at most one upsert in flight, the latest state wins. */
  writing: Promise<void> | null;
  dirty: boolean;
}

export interface PresenceEvents {
  /** The peer's status now lets queued `next`/`low` messages through (it became idle). */
  onBecameIdle(peer: LocalPeer): void;
  /** The grace ran out without a reconnect: the peer has left. */
  onLeft(peer: LocalPeer): void;
  /**
   * The heartbeat found the stored row of these connections owned by a newer one (a hello on
   * another broker whose `replaced` notice never arrived here): they are to close as replaced.
   */
  onTakenOver(takeovers: readonly Takeover[]): void;
}

export type StatusOutcome = "applied" | "ignored";

export function viewTimings(options: BrokerOptions): PeerViewTimings {
  return {
    statusFreshMs: options.statusFreshMs,
    workingTtlMs: options.workingTtlMs,
    presenceGraceMs: options.presenceGraceMs,
    // Live rows are re-written every ping interval (heartbeat); one that missed two beats past the
    // dead-peer window comes from a broker that died without marking its presences offline.
    staleOnlineMs: options.deadAfterMs + 2 * options.pingIntervalMs,
  };
}

/** Presence rows per heartbeat write (one multi-row upsert statement; one write per event-loop turn). */
export const HEARTBEAT_CHUNK = 100;

/**
 * Owns the LocalPeer records. Every change goes through here so that the persisted row (read by
 * list_peers on every broker) and the in-memory state never disagree for long.
 */
export class PresenceBook {
  private readonly peers = new Map<string, LocalPeer>();

  constructor(
    private readonly deps: {
      store: Store;
      options: BrokerOptions;
      clock: Clock;
      log: Logger;
      brokerId: string;
    },
    private readonly events: PresenceEvents,
  ) {}

  get(memberId: string): LocalPeer | undefined {
    return this.peers.get(memberId);
  }

  all(): IterableIterator<LocalPeer> {
    return this.peers.values();
  }

  /**
   * What a hello of `memberId` writes through Store.admitHello: the connection's columns, and the
   * status and summary of the peer when this broker holds it (live here or within its grace),
   * written as they are. Otherwise the store keeps a stored row's status and summary while that row
   * is live — online, or held within the grace on another broker or before a restart — and starts
   * an idle peer otherwise (SPEC §3 Liveness: a reconnect within the grace is seamless).
   */
  admission(
    memberId: string,
    session: { presenceId: string; cwd: string; pid: number; sessionId: string },
    now: number,
  ): Pick<AdmitHelloInput, "presence" | "restore"> {
    const held = this.peers.get(memberId);
    const timings = this.timings();
    const status = held ? effectiveStatus(held.status, now, timings) : initialStatus(now);
    return {
      presence: {
        memberId,
        presenceId: session.presenceId,
        brokerId: this.deps.brokerId,
        sessionId: session.sessionId,
        pid: session.pid,
        cwd: session.cwd,
        online: true,
        connectedAt: now,
        lastSeenAt: now,
        disconnectedAt: null,
        status: status.status,
        statusSource: status.source,
        statusAt: status.at,
        summary: held ? held.summary : null,
      },
      restore: held
        ? null
        : { onlineSince: now - timings.staleOnlineMs, heldSince: now - timings.presenceGraceMs },
    };
  }

  /**
   * Marks `member` connected as `row` says — the row its admission wrote (synchronously, so the
   * caller decides atomically who is live). The status reads through the working TTL; when that
   * flipped it, the row is brought up to date.
   */
  connect(member: MemberRow, row: PresenceRow): LocalPeer {
    const now = this.deps.clock.now();
    let peer = this.peers.get(member.id);
    if (!peer) {
      peer = this.blank(member);
      this.peers.set(member.id, peer);
    }
    if (peer.graceTimer) clearTimeout(peer.graceTimer);
    peer.graceTimer = null;
    peer.member = member;
    peer.presenceId = row.presenceId;
    peer.online = true;
    peer.cwd = row.cwd;
    peer.pid = row.pid;
    peer.sessionId = row.sessionId;
    peer.connectedAt = row.connectedAt;
    peer.lastSeenAt = row.lastSeenAt;
    peer.disconnectedAt = null;
    const stored: StatusRecord = { status: row.status, source: row.statusSource, at: row.statusAt };
    peer.status = effectiveStatus(stored, now, this.timings());
    peer.summary = row.summary;
    this.armWorkingTimer(peer);
    if (peer.status !== stored) void this.persist(peer);
    return peer;
  }

  /**
   * A newer connection on another broker took the peer over (newest wins across brokers): it is
   * dropped here without a write — the stored row is the new owner's now.
   */
  release(peer: LocalPeer): void {
    if (peer.graceTimer) clearTimeout(peer.graceTimer);
    if (peer.workingTimer) clearTimeout(peer.workingTimer);
    peer.graceTimer = peer.workingTimer = null;
    peer.online = false;
    peer.presenceId = null;
    if (this.peers.get(peer.member.id) !== peer) return;
    this.peers.delete(peer.member.id);
    this.events.onLeft(peer);
  }

  /** The socket went away: the peer is held offline for the grace, then it has left. */
  disconnect(peer: LocalPeer): Promise<void> {
    const now = this.deps.clock.now();
    peer.online = false;
    peer.presenceId = null;
    peer.disconnectedAt = now;
    if (peer.workingTimer) clearTimeout(peer.workingTimer);
    peer.workingTimer = null;
    if (peer.graceTimer) clearTimeout(peer.graceTimer);
    peer.graceTimer = setTimeout(() => this.leave(peer), this.deps.options.presenceGraceMs);
    return this.persist(peer);
  }

  /**
   * Applies a status from `source` under the SPEC §3 rules (see core/status.ts). Returns whether it
   * took effect; a change that lets more priorities through wakes the peer's delivery.
   */
  setStatus(
    peer: LocalPeer,
    status: Status,
    source: StatusSource,
    at = this.deps.clock.now(),
  ): StatusOutcome {
    const before = effectiveStatus(peer.status, at, this.timings());
    const decision = applyStatus(peer.status, { status, source, at }, this.timings());
    if (!decision.accepted) {
      this.deps.log.debug("ws.status_ignored", {
        memberId: peer.member.id,
        status,
        source,
        reason: decision.reason,
      });
      return "ignored";
    }
    peer.status = decision.record;
    this.armWorkingTimer(peer);
    void this.persist(peer);
    if (before.status !== "idle" && decision.record.status === "idle") this.events.onBecameIdle(peer);
    return "applied";
  }

  setSummary(peer: LocalPeer, summary: string): void {
    peer.summary = summary.trim() === "" ? null : summary;
    void this.persist(peer);
  }

  /** Records activity (any frame or pong); written out with the next heartbeat. */
  touch(peer: LocalPeer, now: number): void {
    peer.lastSeenAt = now;
  }

  /** The row this broker would store for `peer` now. */
  toRow(peer: LocalPeer): PresenceRow {
    return {
      memberId: peer.member.id,
      presenceId: peer.presenceId,
      brokerId: this.deps.brokerId,
      sessionId: peer.sessionId,
      pid: peer.pid,
      cwd: peer.cwd,
      online: peer.online,
      connectedAt: peer.connectedAt,
      lastSeenAt: peer.lastSeenAt,
      disconnectedAt: peer.disconnectedAt,
      status: peer.status.status,
      statusSource: peer.status.source,
      statusAt: peer.status.at,
      summary: peer.summary,
    };
  }

  /** Resolves once the state already handed to persist() has been written (no extra write). */
  written(peer: LocalPeer): Promise<void> {
    return peer.writing ?? Promise.resolve();
  }

  /** Writes the latest state of `peer`; concurrent calls coalesce and the last state always lands. */
  persist(peer: LocalPeer): Promise<void> {
    peer.dirty = true;
    if (!peer.writing) {
      peer.writing = (async () => {
        try {
          while (peer.dirty) {
            peer.dirty = false;
            await this.deps.store.upsertPresence(this.toRow(peer));
          }
        } catch (error) {
          this.deps.log.error("ws.presence_write_failed", { memberId: peer.member.id, error });
        } finally {
          peer.writing = null;
        }
      })();
    }
    return peer.writing;
  }

  /**
   * Heartbeat: re-writes every online peer so other brokers can tell live rows from a dead broker's.
   * Batched (one store call per HEARTBEAT_CHUNK peers, not one per peer) and sliced: one chunk per
   * event-loop turn, so a synchronous store (SQLite) never holds the loop for every peer at once.
   */
  async heartbeat(): Promise<void> {
    const online = [...this.peers.values()].filter((peer) => peer.online);
    await forEachChunk(online, HEARTBEAT_CHUNK, (chunk) => this.beat(chunk));
  }

  /**
   * One heartbeat chunk. Peers are re-checked now (one may have gone offline since the tick began);
   * a peer with a write running stores its latest row through that write anyway. While the chunk
   * is in flight it counts as each peer's running write, so a change made meanwhile (persist) is
   * written after it and a late heartbeat row never overwrites a newer one.
   */
  private async beat(candidates: readonly LocalPeer[]): Promise<void> {
    const due = candidates.filter((peer) => peer.online && !peer.writing);
    if (due.length === 0) return;
    const rows = due.map((peer) => {
      peer.dirty = false;
      return this.toRow(peer);
    });
    const written = this.deps.store.upsertPresences(rows).then(
      (taken) => {
        if (taken.length === 0) return;
        const ids = new Set(taken);
        this.events.onTakenOver(
          rows
            .filter((row) => ids.has(row.memberId))
            .map((row) => ({ memberId: row.memberId, presenceId: row.presenceId })),
        );
      },
      (error: unknown) => {
        this.deps.log.error("ws.presence_heartbeat_failed", { peers: rows.length, error });
      },
    );
    for (const peer of due) {
      peer.writing = (async () => {
        await written;
        peer.writing = null;
        if (peer.dirty) await this.persist(peer);
      })();
    }
    await written;
  }

  /**
   * Graceful shutdown: marks every peer offline here and lets the writes already asked for finish
   * (a status or summary not stored yet is written with the peer offline). The rows of the peers
   * with nothing left to write are marked offline by the store in one statement afterwards
   * (Store.retireBroker), not one write per peer.
   */
  async closeAll(): Promise<void> {
    const now = this.deps.clock.now();
    const writes: Promise<void>[] = [];
    for (const peer of this.peers.values()) {
      if (peer.graceTimer) clearTimeout(peer.graceTimer);
      if (peer.workingTimer) clearTimeout(peer.workingTimer);
      peer.graceTimer = peer.workingTimer = null;
      if (peer.online) {
        peer.online = false;
        peer.presenceId = null;
        peer.disconnectedAt = now;
      }
      if (peer.dirty || peer.writing) writes.push(this.persist(peer));
    }
    await Promise.all(writes);
  }

  private leave(peer: LocalPeer): void {
    peer.graceTimer = null;
    if (peer.online || this.peers.get(peer.member.id) !== peer) return;
    this.peers.delete(peer.member.id);
    // A peer that left starts over: its status and summary described a session that is gone.
    peer.status = initialStatus(this.deps.clock.now());
    peer.summary = null;
    peer.cwd = null;
    peer.pid = null;
    peer.sessionId = null;
    void this.persist(peer);
    this.deps.log.debug("ws.peer_left", { memberId: peer.member.id });
    this.events.onLeft(peer);
  }

  /** Flips an expired `working` to idle when its TTL passes, so gated messages drain without a poll. */
  private armWorkingTimer(peer: LocalPeer): void {
    if (peer.workingTimer) clearTimeout(peer.workingTimer);
    peer.workingTimer = null;
    const expiresAt = workingExpiresAt(peer.status, this.timings());
    if (expiresAt === null || !peer.online) return;
    const record = peer.status;
    peer.workingTimer = setTimeout(
      () => {
        peer.workingTimer = null;
        if (peer.status !== record) return;
        const now = Math.max(this.deps.clock.now(), expiresAt);
        peer.status = effectiveStatus(record, now, this.timings());
        if (peer.status.status === "idle") {
          void this.persist(peer);
          this.events.onBecameIdle(peer);
        } else {
          this.armWorkingTimer(peer);
        }
      },
      Math.max(0, expiresAt - this.deps.clock.now()),
    );
  }

  private timings(): PeerViewTimings {
    return viewTimings(this.deps.options);
  }

  private blank(member: MemberRow): LocalPeer {
    return {
      member,
      presenceId: null,
      online: false,
      status: initialStatus(this.deps.clock.now()),
      summary: null,
      cwd: null,
      pid: null,
      sessionId: null,
      connectedAt: null,
      lastSeenAt: null,
      disconnectedAt: null,
      graceTimer: null,
      workingTimer: null,
      writing: null,
      dirty: false,
    };
  }
}
