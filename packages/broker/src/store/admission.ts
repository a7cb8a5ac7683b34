// The input, result and notice types of Store.admitHello: a hello's membership, replay, capacity,
// pending hook and presence takeover decided in one store round trip (SPEC §3 checks 4–6).
import type { MemberRow, PendingHookStatus, PresenceRow } from "./records.js";

export interface AdmitHelloInput {
  meshId: string;
  /** The member id the hello claims (checked against the member row of (meshId, pubkey)). */
  memberId: string;
  pubkey: string;
  /** The replay key as stored (core/replay.ts storedReplayKey), held until `replayExpiresAt`. */
  replayKey: string;
  replayExpiresAt: number;
  now: number;
  /** A stashed hook status received before this is stale: taken (deleted) but not returned. */
  pendingHookSince: number;
  /**
   * The presence row this connection writes: its connection columns always, its status and summary
   * unless `restore` is set and the stored row is still live (then the stored ones are kept).
   */
  presence: PresenceRow;
  /**
   * When the stored row counts as live (SPEC §3 Liveness, core/peers.ts isOnline / isHeld): online
   * with a heartbeat at or after `onlineSince` (or none), or dropped at or after `heldSince`. Null
   * when the broker already holds the peer's status (its own held peer): `presence` is written as is.
   */
  restore: { onlineSince: number; heldSince: number } | null;
  capacity: {
    /** The mesh connection cap (maxConnectionsPerMesh). */
    limit: number;
    /**
     * This broker's connections (and hellos in flight) in the mesh of identities other than this one:
     * the store adds the online rows of other live brokers (this identity's own never counts — a
     * connection that replaces it is not one more).
     */
    localOthers: number;
    /** A broker whose last beat is at or after this is live (now − brokerGoneAfterMs). */
    brokersSince: number;
  };
}

/** The connection an admission took over, on another broker or this one (from the stored row). */
export interface ReplacedPresence {
  brokerId: string | null;
  presenceId: string | null;
}

export type AdmitHelloResult =
  | {
      kind: "admitted";
      member: MemberRow;
      /** The row as written (stored status and summary restored when they were live). */
      presence: PresenceRow;
      /** A hook status stashed within `pendingHookSince`, now taken. */
      pendingHook: PendingHookStatus | null;
      /** The online connection this one replaced, per the stored row; null when there was none. */
      replaced: ReplacedPresence | null;
      /**
       * What waits for the member as of the admission: any undelivered delivery (leased or not),
       * any receipt of its messages not pushed yet. False lets the broker skip the first drain
       * round and receipt pull when no wake-up arrived since.
       */
      waiting: { deliveries: boolean; receipts: boolean };
    }
  | { kind: "unauthorized" | "revoked" | "replay" | "capacity" };

/**
 * "A newer connection of `memberId` took over": the broker holding connection `presenceId` closes it
 * with 4001 (SPEC §3 newest wins). `presenceId` null: an admission raced another one and could not
 * tell which connection it replaced; every broker keeps its connection only if the stored row names it.
 */
export interface Takeover {
  memberId: string;
  presenceId: string | null;
}

export type TakeoverListener = (takeovers: readonly Takeover[]) => void;
