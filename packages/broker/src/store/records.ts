// The rows, inputs, results and listener types of the storage interface (types.ts), shared by both adapters.
import type { Priority, ReceiptState, Role, Status, StatusSource } from "@claudemesh/protocol";

export interface MeshRow {
  id: string;
  slug: string;
  name: string;
  ownerMemberId: string;
  createdAt: number;
}

export interface MemberRow {
  id: string;
  meshId: string;
  pubkey: string;
  displayName: string;
  role: Role;
  /** Member id this agent peer is enrolled under; null for members. */
  parentMemberId: string | null;
  createdAt: number;
  /** Epoch ms of revocation (directly or through the parent); null when active. */
  revokedAt: number | null;
}

/**
 * The shared part of a group message (SPEC §4 revision 2: `*` / `#name`): the body encrypted once
 * under a random key, and the sender's signature over the group canonical string. Stored once per
 * message (table message_bodies), never per recipient.
 */
export interface GroupBody {
  nonce: string;
  ciphertext: string;
  sig: string;
}

/**
 * One recipient's copy of a stored message: the broker only ever holds ciphertext. For a direct
 * message `nonce`/`ciphertext` are the message box; for a group message (NewMessage.body set) they
 * are this recipient's sealed key (`key.nonce`, `key.sealedKey`), a few dozen bytes.
 */
export interface NewDelivery {
  recipientMemberId: string;
  nonce: string;
  ciphertext: string;
  /**
   * Stored already leased to this connection: the broker pushes it from memory right after commit
   * (local fast path, no claim). Such deliveries wake no listener.
   */
  lease?: { owner: string; until: number };
  /**
   * PostgreSQL: when the recipient's presence row shows it online and idle on another broker, the
   * row is stored leased until this time to that connection, and that broker is sent the row
   * itself (onLeasedDeliveries), so it pushes without a claim. Only for deliveries whose row fits a
   * NOTIFY payload (REMOTE_LEASE_MAX_BYTES); ignored where brokers cannot notify each other.
   */
  remoteLeaseUntil?: number;
}

/** One accepted `send`: a message id shared by its deliveries (one per recipient). */
export interface NewMessage {
  messageId: string;
  meshId: string;
  senderMemberId: string;
  targetSpec: string;
  priority: Priority;
  createdAt: number;
  deliveries: NewDelivery[];
  /** Group messages only: the body and signature, stored once; each delivery then holds a sealed key. */
  body?: GroupBody;
  /**
   * The sender's send id (SPEC §3: the idempotency key). When the store already holds this
   * (mesh, sender, clientId) within retention, nothing is stored and the message is reported as a
   * duplicate of the stored one.
   */
  clientId?: string;
  /** Set by the group committer when the store reported this message a duplicate: the stored message id. */
  duplicateOf?: string;
  /**
   * Set by the group committer when the store refused the message because its sender (or the
   * sender's parent member) is revoked: nothing of it was stored (SPEC §2).
   */
  senderRevoked?: boolean;
}

/** What enqueueMessages did beyond storing. */
export interface EnqueueResult {
  /** Message id of each duplicate in the batch (never stored) → the message id stored under its key. */
  duplicates: Map<string, string>;
  /**
   * Message ids of the batch refused because the sender's member row, or its parent's, is revoked
   * (checked in the enqueue transaction itself; nothing of them is stored, send ids included).
   */
  revoked: Set<string>;
}

/** What the store holds for one recipient of a message: routing metadata and the opaque box (SPEC §4). */
export interface StoredEnvelope {
  messageId: string;
  targetSpec: string;
  priority: string;
  /** Direct: the message box. Group: this recipient's sealed key (nonce, sealedKey). */
  nonce: string;
  ciphertext: string;
  /** Group messages: the one stored body and signature; null for a direct (or pre-revision-2 fan-out) copy. */
  body: GroupBody | null;
}

/** A delivery as handed to the routing layer for a push. */
export interface DeliveryRow {
  /** Storage order; per-sender FIFO follows it. */
  seq: number;
  messageId: string;
  meshId: string;
  senderMemberId: string;
  senderPubkey: string;
  senderName: string;
  recipientMemberId: string;
  targetSpec: string;
  priority: Priority;
  /** Direct: the message box. Group: this recipient's sealed key. */
  nonce: string;
  ciphertext: string;
  /**
   * Group messages: the shared body and signature (pushed in the group form). Null for direct
   * messages and for fan-out copies queued before migration 8, which are pushed in the direct form.
   */
  body: GroupBody | null;
  createdAt: number;
}

export interface ClaimOptions {
  recipientMemberId: string;
  /** Only these priorities may be claimed now (status gating, SPEC §3). */
  priorities: readonly Priority[];
  /** Opaque owner written on the lease, e.g. the presence id; used by releaseLeases. */
  leaseOwner: string;
  now: number;
  leaseMs: number;
  limit: number;
  /**
   * Per-sender order behind other owners' live leases (SPEC §3): skip a sender's deliveries that
   * come after one of its deliveries still leased to someone else (a connection of a broker that
   * died, not yet released). Costs one read of the recipient's live leases, so the drain asks for it
   * only while earliestForeignLease reports such a lease.
   */
  behindForeignLeases?: boolean;
}

export interface ReleaseGoneBrokersInput {
  selfBrokerId: string;
  staleBefore: number;
  now: number;
  /** Start-up: also drop leases whose owner belongs to no broker row (sql/brokers.ts). */
  orphans?: boolean;
}

export interface ClaimBrokerEndpointInput {
  selfBrokerId: string;
  /** Where this broker listens: host name, bound address and port (ws/broker-heartbeat.ts). */
  endpoint: string;
  now: number;
}

/** What a release freed: the brokers found gone, and the recipients woken for their deliveries. */
export interface ReleasedBrokers {
  brokers: string[];
  recipients: string[];
}

export interface PresenceRow {
  memberId: string;
  presenceId: string | null;
  brokerId: string | null;
  sessionId: string | null;
  pid: number | null;
  cwd: string | null;
  online: boolean;
  connectedAt: number | null;
  lastSeenAt: number | null;
  /** When the socket dropped; the peer is listed offline-held until this + grace. */
  disconnectedAt: number | null;
  status: Status;
  statusSource: StatusSource;
  statusAt: number;
  summary: string | null;
}

export interface PendingHookStatus {
  meshId: string;
  pubkey: string;
  status: Status;
  cwd: string;
  pid: number;
  sessionId: string | null;
  receivedAt: number;
}

export type RedeemResult =
  | { kind: "joined"; member: MemberRow }
  /** The pubkey was already an active member: idempotent, no use consumed. */
  | { kind: "existing"; member: MemberRow }
  | { kind: "exhausted" }
  /**
   * The pubkey belongs to a revoked member of this mesh: a revoked identity cannot rejoin with the
   * same key (no use consumed). Maps to 403 `revoked`; the person must join with a new key.
   */
  | { kind: "revoked" };

/** Outcome of a revocation request (SPEC §2 POST /members/revoke); see Store.revoke. */
export type RevokeResult =
  | {
      kind: "revoked";
      target: MemberRow;
      /** The target and its agents, revoked now or before (the wire's `revoked` list). */
      revoked: { memberId: string; pubkey: string }[];
      /** Member ids this call revoked (empty when it was a repeat). */
      newlyRevoked: string[];
      /** Senders whose queued messages to a revoked key got a `revoked` receipt. */
      receiptSenders: string[];
      deletedDeliveries: number;
    }
  | { kind: "not_found"; what: "mesh" | "target" }
  /** `by_pubkey` is not a member of the mesh. */
  | { kind: "unauthorized" }
  /** `by_pubkey` was itself revoked. */
  | { kind: "by_revoked" }
  /** `by_pubkey` is neither an admin, nor the target, nor the target's parent. */
  | { kind: "forbidden" }
  /** The target is the mesh's last admin and other members remain. */
  | { kind: "last_admin"; otherMembers: number };

/** Wake-up from the store: these member ids were revoked (cross-broker on PostgreSQL). */
export type RevocationListener = (memberIds: readonly string[]) => void;

export interface AuditEntry {
  meshId: string | null;
  /** e.g. "mesh.create", "member.join", "agent.enroll", "member.revoke", "hello.reject". Metadata only. */
  action: string;
  actorPubkey: string | null;
  /** Small JSON-able metadata: never plaintext, ciphertext, keys or tokens. */
  detail: Record<string, string | number | boolean | null>;
  at: number;
}

/** One (message, recipient) state change, reported to the message's sender (SPEC §3 receipts). */
export interface ReceiptChange {
  messageId: string;
  meshId: string;
  senderMemberId: string;
  recipientMemberId: string;
  recipientPubkey: string;
  state: Exclude<ReceiptState, "queued">;
  /** Epoch ms the state was recorded. */
  at: number;
  /** The state it left, when known (recordReceipts): `queued` means the copy was delivered just now. */
  from?: "queued" | "delivered";
}

/** Where one recipient's copy of a message stands (message_status). */
export interface RecipientStatusRow {
  recipientPubkey: string;
  state: ReceiptState;
  at: number;
}

export interface RecordReceiptsInput {
  recipientMemberId: string;
  /** Acknowledged by the recipient (client_ack): queued → delivered. */
  delivered: readonly string[];
  /** In the recipient agent's context: queued or delivered → shown (a shown copy is delivered too). */
  shown: readonly string[];
  now: number;
  /**
   * Senders the caller pushes the returned changes to itself (connected to this broker): their
   * changes are stored as notified. Every other sender's changes wait for a pull (takeReceipts),
   * and the store wakes onReceipts listeners for them after commit.
   */
  pushTo?: ReadonlySet<string>;
  /** The recipient's pubkey when the caller knows it (saves a read). */
  recipientPubkey?: string;
}

/**
 * Wake-up from the store: new deliveries are waiting for these recipients (cross-broker on
 * PostgreSQL). `addressed`: another broker sent it to this broker alone, because it saw these
 * recipients online here (a recipient no longer connected here is then worth `forwardDeliveries`).
 */
export type DeliveryListener = (recipientMemberIds: readonly string[], addressed: boolean) => void;

/** A delivery another broker stored already leased to a connection of this broker (NewDelivery.remoteLeaseUntil). */
export interface LeasedDelivery extends DeliveryRow {
  leaseOwner: string;
  leaseUntil: number;
}

/**
 * Rows stored leased to a connection held here: push each (and keep the lease), or give the lease
 * back (`releaseLeases` with its message ids) when it cannot be pushed now.
 */
export type LeasedDeliveryListener = (deliveries: readonly LeasedDelivery[]) => void;

/**
 * "A hook status for this member is stashed" (POST /hook/set-status for a peer not connected to the
 * broker that received it), told to every broker of the store. The broker holding the member takes
 * the stashed entry (`takePendingHook`, so it is applied once) and answers. Metadata only.
 */
export interface HookNotice {
  /** Ties the answer to the waiting request. */
  requestId: string;
  /** The broker waiting for the answer. */
  fromBrokerId: string;
  memberId: string;
  meshId: string;
  pubkey: string;
  status: Status;
  /** When the hook was received (its `receivedAt`). */
  at: number;
}

/** What the broker holding the member did with a relayed hook (the wire's `result`). */
export interface HookAnswer {
  requestId: string;
  /** The broker that waits for it (HookNotice.fromBrokerId). */
  toBrokerId: string;
  result: "applied" | "ignored" | "pending";
}

export type HookNoticeListener = (notice: HookNotice) => void;
export type HookAnswerListener = (answer: HookAnswer) => void;
