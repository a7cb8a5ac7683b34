// The storage interface the broker core is written against; implemented once per adapter (SQLite, PostgreSQL).
// Its row, input and result types live in records.ts.
import type { Priority, Role } from "@claudemesh/protocol";
import type {
  MeshRow,
  MemberRow,
  NewMessage,
  EnqueueResult,
  StoredEnvelope,
  DeliveryRow,
  ClaimOptions,
  ReleaseGoneBrokersInput,
  ClaimBrokerEndpointInput,
  ReleasedBrokers,
  PresenceRow,
  PendingHookStatus,
  RedeemResult,
  RevokeResult,
  RevocationListener,
  AuditEntry,
  ReceiptChange,
  RecipientStatusRow,
  RecordReceiptsInput,
  DeliveryListener,
  LeasedDeliveryListener,
  HookNotice,
  HookAnswer,
  HookNoticeListener,
  HookAnswerListener,
} from "./records.js";
import type { AdmitHelloInput, AdmitHelloResult, TakeoverListener } from "./admission.js";
import type { Waiting } from "./sql/waiting.js";

export type * from "./records.js";
export type * from "./admission.js";
export type { Waiting } from "./sql/waiting.js";

/**
 * Every method is async; errors from an unreachable store surface as StoreUnavailableError.
 * Conflicts are reported through result values, not exceptions, where the caller branches on them.
 */
export interface Store {
  readonly kind: "sqlite" | "postgres";
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /** Cheap liveness probe for /health. Resolves false instead of throwing. */
  ping(): Promise<boolean>;
  close(): Promise<void>;

  // meshes and members
  /** Creates the mesh and its owner (an admin member) atomically; null when the slug is taken. */
  createMesh(input: {
    meshId: string;
    slug: string;
    name: string;
    ownerMemberId: string;
    ownerPubkey: string;
    ownerName: string;
    now: number;
  }): Promise<{ mesh: MeshRow; owner: MemberRow } | null>;
  getMesh(meshId: string): Promise<MeshRow | null>;
  getMember(meshId: string, pubkey: string): Promise<MemberRow | null>;
  getMemberById(memberId: string): Promise<MemberRow | null>;
  /** All members and agents of the mesh, revoked ones included (callers filter). */
  listMembers(meshId: string): Promise<MemberRow[]>;
  /**
   * Admits `pubkey` through invite `inviteId`: the use counter is claimed atomically so N concurrent
   * redemptions of a 1-use invite admit exactly one. `displayName` is made unique within the mesh.
   */
  redeemInvite(input: {
    meshId: string;
    inviteId: string;
    maxUses: number;
    memberId: string;
    pubkey: string;
    displayName: string;
    role: Role;
    now: number;
  }): Promise<RedeemResult>;
  /**
   * Enrolls (idempotently) an agent peer under a member. When `agentName` is taken by another
   * identity in the mesh a numeric suffix is added (`name-2`, …); the stored row is returned.
   */
  enrollAgent(input: {
    meshId: string;
    parentMemberId: string;
    memberId: string;
    agentPubkey: string;
    agentName: string;
    now: number;
    /**
     * Agents-per-member cap (SPEC §7): enrolling a new agent when the parent already has this many
     * active ones throws AgentLimitError (checked in the enrolment's transaction).
     */
    maxAgents?: number;
  }): Promise<MemberRow>;
  /**
   * Revokes a member and every agent enrolled under it, with revocation's effects (see revoke).
   * No authorization or last-admin check: for the broker itself and tests.
   */
  revokeMember(memberId: string, now: number): Promise<void>;
  /**
   * SPEC §2 POST /members/revoke in one transaction: authorizes `byPubkey` (admin, the target, or
   * its parent), refuses the last admin, revokes the target and its agents, writes a `revoked`
   * receipt for each undelivered copy to them and deletes those copies. After commit, revocation
   * listeners (every broker sharing the store) and receipt listeners are woken.
   */
  revoke(input: {
    meshId: string;
    targetPubkey: string;
    byPubkey: string;
    now: number;
  }): Promise<RevokeResult>;
  /**
   * Retires (revokes, with revocation's effects) active agents whose last presence heartbeat — or
   * enrolment, when they never connected — is before `seenBefore`. Returns the member ids retired.
   */
  retireIdleAgents(seenBefore: number, now: number): Promise<string[]>;
  /** Which of these member ids are revoked, directly or through their parent member. */
  revokedAmong(memberIds: readonly string[]): Promise<string[]>;
  /** Subscribes to revocations (this process and, on PostgreSQL, other brokers); returns an unsubscribe function. */
  onRevocations(listener: RevocationListener): () => void;

  // messages
  /**
   * Stores a batch of messages in one transaction (group commit); resolves once durable. A message
   * whose (mesh, sender, clientId) is already stored is skipped and listed in `duplicates`; one whose
   * sender (or its parent member) is revoked is refused in the same transaction and listed in `revoked`.
   */
  enqueueMessages(messages: readonly NewMessage[]): Promise<EnqueueResult>;
  /**
   * Claims up to `limit` undelivered deliveries for a recipient (no live lease, allowed priority),
   * in storage order, writing a lease. Concurrent claims never return the same delivery.
   */
  claimDeliveries(options: ClaimOptions): Promise<DeliveryRow[]>;
  /** Marks the recipient's deliveries delivered; returns how many changed. */
  markDelivered(recipientMemberId: string, messageIds: readonly string[], now: number): Promise<number>;
  /**
   * Drops the leases held by `leaseOwner` (only on these messages, when given) so those deliveries
   * can be handed out again at once; their recipients are woken here and on every broker.
   */
  releaseLeases(leaseOwner: string, messageIds?: readonly string[]): Promise<number>;
  /**
   * Earliest future lease expiry on the recipient's undelivered deliveries held by an owner other
   * than `exceptOwner`, or null. A connection that took over an identity uses it to re-drain when
   * leases of a connection that died with its broker (kill -9) run out (SPEC §3 Delivery guarantees).
   */
  earliestForeignLease(recipientMemberId: string, exceptOwner: string, now: number): Promise<number | null>;
  /**
   * What waits for each of these members (undelivered deliveries, receipts not pushed), read after
   * their hellos committed: a broker that is not woken by every write (PostgreSQL) asks this before
   * it skips a hello's first claim. Any number of ids (read in batches); unknown ids wait for nothing.
   */
  waitingMail(memberIds: readonly string[]): Promise<Map<string, Waiting>>;
  /** Count of undelivered deliveries for a recipient whose priority is not in `allowed` (held by its status). */
  countHeld(recipientMemberId: string, allowed: readonly Priority[]): Promise<number>;
  /** Count of undelivered deliveries for a recipient (any priority). */
  countPending(recipientMemberId: string): Promise<number>;
  /** Read-only: every envelope stored for `messageId` (one per recipient), e.g. to show it is ciphertext only. */
  storedEnvelopes(messageId: string): Promise<StoredEnvelope[]>;
  /**
   * Deletes undelivered deliveries created before `olderThan` (each leaving an `expired` receipt
   * stamped `now`) and delivered ones; returns count removed. Also drops replay keys expired
   * before `now` (sweepReplayKeys; not counted), so the broker's sweep timer bounds that table.
   */
  sweepMessages(olderThan: number, now?: number): Promise<number>;
  /**
   * Subscribes to new-delivery wake-ups (this process's enqueues; on PostgreSQL also other brokers'
   * enqueues for recipients online at a broker attached here); returns an unsubscribe function.
   */
  onDeliveries(listener: DeliveryListener): () => void;
  /**
   * Subscribes to deliveries other brokers stored leased to connections of a broker attached here
   * (NewDelivery.remoteLeaseUntil; PostgreSQL only); returns an unsubscribe function.
   */
  onLeasedDeliveries(listener: LeasedDeliveryListener): () => void;
  /**
   * Wakes the brokers that hold these recipients online now, other than this store's own: for a
   * wake-up addressed here for a recipient that is no longer connected here (its newer connection
   * is on another broker, whose admission the sender's snapshot did not see). No-op on SQLite.
   */
  forwardDeliveries(recipientMemberIds: readonly string[]): Promise<void>;

  // receipts (SPEC §3): forward-only per (message, recipient), kept for the retention window
  /**
   * One transaction: the recipient's undelivered copies among `delivered` ∪ `shown` become
   * delivered (lease cleared) with a receipt, and its delivered receipts among `shown` become
   * shown. Ids not addressed to this recipient, unknown or already further along change nothing.
   * Returns the changes made.
   */
  recordReceipts(input: RecordReceiptsInput): Promise<ReceiptChange[]>;
  /**
   * recordReceipts for many recipients in one transaction (acks of a broadcast arrive together from
   * up to a mesh's connection cap of recipients). Returns every change made, in no particular order.
   */
  recordReceiptsMany(inputs: readonly RecordReceiptsInput[]): Promise<ReceiptChange[]>;
  /**
   * Revocation (SPEC §2): every undelivered copy to these recipients gets a `revoked` receipt (the
   * caller deletes the deliveries afterwards). Returns how many receipts were written; their
   * senders are woken through onReceipts.
   */
  markRevokedReceipts(recipientMemberIds: readonly string[], now: number): Promise<number>;
  /** Claims up to `limit` of the sender's changes not pushed yet, oldest first, marking them pushed. */
  takeReceipts(senderMemberId: string, limit: number): Promise<ReceiptChange[]>;
  /**
   * Per requested id, where each recipient's copy stands — only for messages `senderMemberId` sent
   * (other ids are absent). At most `limit` recipient rows are read; `truncated` says more exist.
   */
  messageStatus(
    senderMemberId: string,
    messageIds: readonly string[],
    limit: number,
  ): Promise<{ statuses: Map<string, RecipientStatusRow[]>; truncated: boolean }>;
  /** Deletes receipts whose last change is older than `olderThan`; returns how many. */
  sweepReceipts(olderThan: number): Promise<number>;
  /** Subscribes to "these senders have receipts to pull" (cross-broker on PostgreSQL). */
  onReceipts(listener: DeliveryListener): () => void;

  // replay claims of signed requests (SPEC §2, §3 check 5), shared by every broker of the store
  /**
   * Records `key` until `expiresAt` (epoch ms). True when the claim is new (or took over a row that
   * expired before `now`); false when a live row holds it (a replay). Atomic: of concurrent claims
   * of one key exactly one gets true.
   */
  claimReplayKey(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Gives a claim back (its request failed for a reason that is not the client's). */
  releaseReplayKey(key: string): Promise<void>;
  /** Deletes replay keys that expired before `now`, in bounded steps; returns how many. */
  sweepReplayKeys(now: number): Promise<number>;

  // broker liveness (SPEC §3 "Leases die with their holder", §7 broker heartbeat)
  /** Records that `brokerId` is alive at `now` (its first beat inserts its row). */
  beatBroker(brokerId: string, now: number): Promise<void>;
  /** A broker stopping cleanly removes its row (after releasing its own leases). */
  removeBroker(brokerId: string): Promise<void>;
  /**
   * Releases every lease held by a gone broker (lease owners start with the broker id, see
   * sql/brokers.ts), marks its presences offline, deletes its row and wakes the recipients whose
   * deliveries became claimable, on every broker of the store. Gone: a beat older than
   * `staleBefore`; with `orphans`, also leases whose owner has no broker row at all.
   */
  releaseGoneBrokers(input: ReleaseGoneBrokersInput): Promise<ReleasedBrokers>;
  /**
   * Records this broker's endpoint and releases, like a gone broker, every other broker that
   * recorded the same endpoint (its predecessor on this host and port: gone, since this one holds
   * the port now), whatever its last beat.
   */
  claimBrokerEndpoint(input: ClaimBrokerEndpointInput): Promise<ReleasedBrokers>;
  /**
   * A graceful stop, once every connection of `brokerId` is closed: in one transaction, releases
   * every lease its connections held, marks its presence rows offline as of `now` and removes its
   * row; then wakes the released recipients on every broker. One statement set, whatever the number
   * of connections it had.
   */
  retireBroker(brokerId: string, now: number): Promise<ReleasedBrokers>;

  // the hello (SPEC §3 checks 4–6), one transaction and one round trip
  /**
   * Admits a hello whose signature verified, in the SPEC §3 order: the member row of (mesh, pubkey)
   * must match `memberId` (`unauthorized`) and not be revoked (`revoked`); the replay key must not be
   * held (`replay`); the mesh must be below its cap counting every live broker's connections
   * (`capacity`). Only then, atomically: the replay key is claimed (so a refused hello is never
   * remembered), the pending hook status taken and the presence row written (taking it over from
   * the connection it names). A takeover of another broker's connection notifies that broker
   * (onTakeovers). On PostgreSQL one statement; on SQLite one IMMEDIATE transaction.
   */
  admitHello(input: AdmitHelloInput): Promise<AdmitHelloResult>;
  /** Subscribes to takeovers of this broker's connections by admissions elsewhere; returns an unsubscribe function. */
  onTakeovers(listener: TakeoverListener): () => void;

  // presence, status, channels
  getPresence(memberId: string): Promise<PresenceRow | null>;
  listPresence(meshId: string): Promise<PresenceRow[]>;
  /** Inserts or replaces the presence/status row of a member (the broker computes the values). */
  upsertPresence(row: PresenceRow): Promise<void>;
  /**
   * The heartbeat: many rows in one transaction (multi-row statements), each written unless the
   * stored row names another connection that is newer (`connectedAt`). Returns the members whose
   * row such a newer connection took over (left as it is). A member listed twice keeps its last row.
   */
  upsertPresences(rows: readonly PresenceRow[]): Promise<string[]>;
  /** Marks every presence owned by `brokerId` offline (startup recovery and shutdown). */
  markBrokerPresencesOffline(brokerId: string, now: number): Promise<number>;
  stashPendingHook(entry: PendingHookStatus): Promise<void>;
  /** Removes and returns the pending hook status for (mesh, pubkey) if received at or after `notBefore`. */
  takePendingHook(meshId: string, pubkey: string, notBefore: number): Promise<PendingHookStatus | null>;

  // hooks for a peer connected to another broker (SPEC §3 status model)
  /**
   * Stashes `entry` like stashPendingHook and, in the same write, tells every broker of the store
   * (`onHookNotices`: this process's listeners after commit; PostgreSQL: a NOTIFY on the shared
   * channel) so the one holding the member applies it now. Returns the member's presence row read by
   * that write (null when it has none): the caller waits for an answer only if it names a live
   * holder that `reachesBroker`.
   */
  relayHookStatus(entry: PendingHookStatus, notice: HookNotice): Promise<PresenceRow | null>;
  /** Tells every broker again about a relayed hook (no stash): for a holder that missed the first notice. */
  noticeHook(notice: HookNotice): Promise<void>;
  /** Subscribes to relayed hooks (see relayHookStatus); returns an unsubscribe function. */
  onHookNotices(listener: HookNoticeListener): () => void;
  /** Tells the broker `answer.toBrokerId` what became of its relayed hook (PostgreSQL: its own channel). */
  answerHookStatus(answer: HookAnswer): Promise<void>;
  /** Subscribes to answers addressed to a broker attached to this store; returns an unsubscribe function. */
  onHookAnswers(listener: HookAnswerListener): () => void;
  /**
   * Whether notices and answers reach `brokerId`: on PostgreSQL every broker of the database; on
   * SQLite only brokers attached to this very store object (no cross-process notices).
   */
  reachesBroker(brokerId: string): boolean;
  /**
   * This store serves broker `brokerId`: wake-ups and hook answers addressed to it reach this store's
   * listeners (PostgreSQL: LISTEN on its own channel too). Call before it accepts connections.
   */
  attachBroker(brokerId: string): void;
  /**
   * Adds the member to the channel unless it is already in `maxChannels` (default
   * MAX_CHANNELS_PER_MEMBER) channels; false when the cap refused it (already a member: true).
   */
  joinChannel(meshId: string, channel: string, memberId: string, maxChannels?: number): Promise<boolean>;
  leaveChannel(meshId: string, channel: string, memberId: string): Promise<void>;
  listChannelMembers(meshId: string, channel: string): Promise<string[]>;
  /** channel names by member id, for list_peers. */
  listChannelsByMember(meshId: string): Promise<Map<string, string[]>>;
  /**
   * One page of list_peers (SPEC §3): up to `limit` active (non-revoked) members in join order
   * ((created_at, id)) after the member `after` (null: from the first), read on indexes. Null when
   * `after` is not a member of the mesh.
   */
  listPeersPage(meshId: string, page: { after: string | null; limit: number }): Promise<PeersPage | null>;

  // audit
  appendAudit(entry: AuditEntry): Promise<void>;
  listAudit(meshId: string, limit: number): Promise<AuditEntry[]>;
}

/** One list_peers page as stored: the members and, for exactly those, what their entries show. */
export interface PeersPage {
  members: MemberRow[];
  /** parent member id → its pubkey, for the agents on the page. */
  parentPubkeys: Map<string, string>;
  presence: PresenceRow[];
  channelsByMember: Map<string, string[]>;
  /** True when more active members follow the last one on the page. */
  more: boolean;
}

/** Thrown by enrollAgent when the parent already has `maxAgents` active agents (SPEC §7). */
export class AgentLimitError extends Error {
  override readonly name = "AgentLimitError";
  constructor(
    readonly maxAgents: number,
    readonly active: number,
  ) {
    super(`the member already has ${active} active agents (limit ${maxAgents})`);
  }
}

/** Thrown by adapters when the database cannot be reached; mapped to 503 / `storage_unavailable`. */
export class StoreUnavailableError extends Error {
  override readonly name = "StoreUnavailableError";
}
