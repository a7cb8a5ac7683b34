// In-memory membership snapshots per mesh, so routing a send costs no store round trip.
import type { Store } from "../store/types.js";
import { buildMembership, type MeshMembership } from "../core/routing.js";
import type { Clock } from "../context.js";

/**
 * How long a snapshot is trusted. Members join, enroll and get revoked through HTTP routes (possibly
 * on another broker), and the store has no wake-up for those, so a snapshot lives briefly; a send
 * that does not match a snapshot re-reads it once before it is refused (see hub routing), so a
 * newcomer is never refused because of the cache, and a revoked member stops receiving within this.
 */
export const MEMBERSHIP_TTL_MS = 2_000;

interface Entry {
  snapshot: MeshMembership;
  loadedAt: number;
}

export class MembershipCache {
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<MeshMembership>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ttlMs = MEMBERSHIP_TTL_MS,
  ) {}

  /** The snapshot when it is still fresh; undefined when it must be (re)loaded. */
  peek(meshId: string): MeshMembership | undefined {
    const entry = this.entries.get(meshId);
    if (!entry || this.clock.now() - entry.loadedAt > this.ttlMs) return undefined;
    return entry.snapshot;
  }

  /** A fresh snapshot; concurrent loads of one mesh share a single pair of store reads. */
  async get(meshId: string): Promise<MeshMembership> {
    return this.peek(meshId) ?? this.load(meshId);
  }

  /** Re-reads the mesh now (after a miss, or for the periodic revocation check). */
  load(meshId: string): Promise<MeshMembership> {
    const pending = this.loading.get(meshId);
    if (pending) return pending;
    const started = this.clock.now();
    const promise = Promise.all([this.store.listMembers(meshId), this.store.listChannelsByMember(meshId)])
      .then(([members, channels]) => {
        const snapshot = buildMembership(meshId, members, channels);
        this.entries.set(meshId, { snapshot, loadedAt: started });
        return snapshot;
      })
      .finally(() => this.loading.delete(meshId));
    this.loading.set(meshId, promise);
    return promise;
  }

  /**
   * `join_channel` under the per-member channel cap (SPEC §7, default 64): false when the member is
   * already in `maxChannels` other channels. The store counts and inserts in one statement.
   */
  async join(meshId: string, channel: string, memberId: string, maxChannels: number): Promise<boolean> {
    const joined = await this.store.joinChannel(meshId, channel, memberId, maxChannels);
    this.invalidate(meshId);
    return joined;
  }

  async leave(meshId: string, channel: string, memberId: string): Promise<void> {
    await this.store.leaveChannel(meshId, channel, memberId);
    this.invalidate(meshId);
  }

  /** Forgets a mesh (after a local join/leave, so the next send sees the change). */
  invalidate(meshId: string): void {
    this.entries.delete(meshId);
  }

  /** Drops snapshots of meshes nobody on this broker uses any more (`meshIds.has` says who is used). */
  retain(meshIds: Pick<ReadonlySet<string>, "has">): void {
    for (const meshId of this.entries.keys()) if (!meshIds.has(meshId)) this.entries.delete(meshId);
  }
}
