// zod schemas for every WebSocket frame of SPEC §3 and the primitives shared with the HTTP bodies (http-schemas.ts): the single source of truth for the wire.
import { z } from "zod";
import { ERROR_CODES } from "./errors.js";
import { displayNameProblem } from "./display-name.js";
import {
  MAX_CHANNEL_CHARS,
  MAX_GROUP_BODY_CIPHERTEXT_CHARS,
  MAX_GROUP_RECIPIENTS,
  MAX_NAME_CHARS,
  MAX_PEERS_PAGE,
  MAX_PID,
  MAX_SUMMARY_CHARS,
  PUBKEY_HEX_RE,
  SIGNATURE_HEX_RE,
} from "./constants.js";

// ---------------------------------------------------------------- primitives

/**
 * Free text a peer sends that the broker may store (names, cwd, summary, session and request ids).
 * PostgreSQL text cannot hold NUL (SQLite can), so NUL is refused here, as `malformed`, for every
 * store alike: validation, not the store, decides what is accepted.
 */
export function storable(schema: z.ZodString) {
  return schema.refine((value) => !value.includes("\u0000"), "must not contain NUL (\\u0000)");
}
/** Storable free text of `min`–`max` code units. */
export function textSchema(min: number, max: number) {
  return storable(z.string().min(min).max(max));
}
/** A process id: a non-negative 32-bit integer (the store's INTEGER column). */
export const PidSchema = z.number().int().nonnegative().max(MAX_PID, `must be at most ${MAX_PID}`);
/** A signed timestamp: Unix epoch milliseconds, a non-negative safe integer (zod's int is safe-only). */
export const TimestampMsSchema = z.number().int().nonnegative();

/** 32-byte ed25519 public key as 64 lowercase hex chars (SPEC §1). */
export const PubkeySchema = z.string().regex(PUBKEY_HEX_RE, "must be 64 lowercase hex chars");
/** 64-byte ed25519 signature as 128 lowercase hex chars. */
export const SignatureSchema = z.string().regex(SIGNATURE_HEX_RE, "must be 128 lowercase hex chars");
/** Standard-alphabet base64 with padding, as produced for nonces and ciphertexts (SPEC §4). */
// Linear form (no repeated group: V8 ran the grouped pattern at ~3 µs per 370-char ciphertext, on the
// broker's per-message path); with the length check in isBase64 it accepts exactly the same strings.
const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 with padding: alphabet, at most two trailing `=`, length a multiple of 4. */
function isBase64(value: string): boolean {
  return value.length % 4 === 0 && BASE64_RE.test(value);
}

/**
 * A 24-byte crypto_box nonce in base64: exactly 32 alphabet chars and no `=`. (32 chars that end
 * in padding would decode to 22 or 23 bytes, so the generic base64 check is not enough here.)
 */
export const NonceSchema = z
  .string()
  .length(32)
  .regex(/^[A-Za-z0-9+/]{32}$/, "must be base64 of exactly 24 bytes (32 chars, no padding)");
/** crypto_box ciphertext in base64: at least the 16-byte MAC. */
export const CiphertextSchema = z
  .string()
  .min(24)
  .refine(isBase64, "must be base64 (standard alphabet, padded to a multiple of 4)");
/** secretbox ciphertext of a group body in base64 (SPEC §4): the 16-byte MAC at least, at most the §7 cap. */
export const GroupCiphertextSchema = z
  .string()
  .min(24)
  .max(MAX_GROUP_BODY_CIPHERTEXT_CHARS, `must be at most ${MAX_GROUP_BODY_CIPHERTEXT_CHARS} base64 chars`)
  .refine(isBase64, "must be base64 (standard alphabet, padded to a multiple of 4)");
/**
 * A group message key sealed for one recipient: crypto_box_easy of the 32-byte key, so exactly
 * 48 bytes = 64 base64 chars, never padded.
 */
export const SealedKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9+/]{64}$/, "must be base64 of exactly 48 bytes (64 chars, no padding)");
/** Broker-assigned opaque id (mesh, member, message, presence). */
export const OpaqueIdSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, "must be an opaque id");
/** Client-chosen request id, echoed in the reply. */
export const RequestIdSchema = textSchema(1, 64);
/** Mesh slug: lowercase words joined by dashes. */
export const SlugSchema = z
  .string()
  .min(2)
  .max(40)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and inner dashes");
/**
 * Display / agent name. No `:` (it separates a mesh-slug prefix), no leading `#` or `*`
 * (they mean channel and broadcast targets), no control characters.
 */
export const DisplayNameSchema = z
  .string()
  .min(1)
  // Code units, a cheap bound before the per-character check (which counts characters).
  .max(MAX_NAME_CHARS * 2)
  .superRefine((name, ctx) => {
    // One rule for the CLI and the broker (display-name.ts): Unicode letters, NFC, no controls.
    const problem = displayNameProblem(name);
    if (problem !== null) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });
/** Channel name without its `#`. */
export const ChannelNameSchema = z
  .string()
  .min(1)
  .max(MAX_CHANNEL_CHARS)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, "must be lowercase letters, digits and . _ -");
export const PrioritySchema = z.enum(["now", "next", "low"]);
export const StatusSchema = z.enum(["idle", "working", "dnd"]);
export const StatusSourceSchema = z.enum(["hook", "manual", "jsonl"]);
export const RoleSchema = z.enum(["admin", "member"]);
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export const SummarySchema = textSchema(0, MAX_SUMMARY_CHARS);

export type Pubkey = z.infer<typeof PubkeySchema>;
export type Priority = z.infer<typeof PrioritySchema>;
export type Status = z.infer<typeof StatusSchema>;
export type StatusSource = z.infer<typeof StatusSourceSchema>;
export type Role = z.infer<typeof RoleSchema>;

/** `*` = every other member; `#name` = a channel; else a recipient pubkey. */
const FANOUT_TARGET_RE = /^(?:\*|#[a-z0-9][a-z0-9._-]{0,63})$/;

/** True when the target is a broadcast (`*`) or channel (`#name`) spec. */
export function isFanoutTarget(targetSpec: string): boolean {
  return FANOUT_TARGET_RE.test(targetSpec);
}

// ---------------------------------------------------------------- client → broker frames

/**
 * Hello (SPEC §3). pubkey/signature are plain strings here on purpose: the broker must check
 * the timestamp window *before* their shape (seed order), so shape is judged by the handshake.
 * meshId/memberId are opaque ids (no `|`), so the signed `${meshId}|${memberId}|…` string has
 * exactly one reading. The hello has no domain prefix (seed form), so a meshId starting with
 * `claudemesh-` is refused: `claudemesh-mesh-create|${slug}|${pubkey}|${ts}` would otherwise
 * also read as a hello, and a mesh-create signature would double as a hello signature.
 */
export const HelloSchema = z.object({
  type: z.literal("hello"),
  meshId: OpaqueIdSchema.refine((id) => !id.startsWith("claudemesh-"), "must not start with claudemesh-"),
  memberId: OpaqueIdSchema,
  pubkey: z.string().max(256),
  sessionId: textSchema(0, 128),
  pid: PidSchema,
  cwd: textSchema(0, 4096),
  timestamp: TimestampMsSchema,
  signature: z.string().max(512),
});

/** The body of a group message, encrypted once for all recipients (SPEC §4): secretbox under a fresh key. */
export const GroupBodyFieldsSchema = z.object({
  nonce: NonceSchema,
  ciphertext: GroupCiphertextSchema,
});

/** One recipient's copy of a group message key (SPEC §3 group send `keys`). */
export const GroupKeySchema = z.object({
  to: PubkeySchema,
  nonce: NonceSchema,
  sealedKey: SealedKeySchema,
});

/** This peer's sealed copy of a group message key, in a group push (the recipient is the reader). */
export const PushKeySchema = z.object({
  nonce: NonceSchema,
  sealedKey: SealedKeySchema,
});

/** Fields only a direct frame carries, and fields only a group frame carries (SPEC §3). */
const DIRECT_FIELDS = ["nonce", "ciphertext"] as const;
const GROUP_FIELDS = ["body", "sig", "keys"] as const;
const GROUP_PUSH_FIELDS = ["body", "sig", "key"] as const;

/**
 * Adds an issue for each `required` field missing and each `forbidden` field present, each at its
 * own path so the error a sender gets names the field actually at fault.
 */
function requireShape(
  frame: Record<string, unknown>,
  ctx: z.RefinementCtx,
  required: readonly string[],
  forbidden: readonly string[],
  kind: string,
): void {
  for (const key of required)
    if (frame[key] === undefined)
      ctx.addIssue({ code: "custom", path: [key], message: `required for ${kind}` });
  for (const key of forbidden)
    if (frame[key] !== undefined)
      ctx.addIssue({ code: "custom", path: [key], message: `not allowed in ${kind}` });
}

const TARGET_MESSAGE = "must be a 64-hex pubkey, * or #channel (lowercase letters, digits, . _ -)";

/**
 * A send (SPEC §3): direct (`targetSpec` = pubkey, with `nonce`+`ciphertext`) or group
 * (`*`/`#name`, with one `body`, its `sig`, and one sealed key per recipient in `keys`). One
 * object with a refinement because both share `type:"send"`.
 */
export const SendSchema = z
  .object({
    type: z.literal("send"),
    id: RequestIdSchema,
    targetSpec: z.string().min(1).max(80),
    priority: PrioritySchema,
    nonce: NonceSchema.optional(),
    ciphertext: CiphertextSchema.optional(),
    body: GroupBodyFieldsSchema.optional(),
    sig: SignatureSchema.optional(),
    keys: z.array(GroupKeySchema).min(1).max(MAX_GROUP_RECIPIENTS).optional(),
  })
  .superRefine((frame, ctx) => {
    if (isFanoutTarget(frame.targetSpec)) {
      requireShape(frame, ctx, GROUP_FIELDS, DIRECT_FIELDS, "* and #channel sends");
      if (frame.keys) {
        const seen = new Set(frame.keys.map((k) => k.to));
        if (seen.size !== frame.keys.length)
          ctx.addIssue({ code: "custom", path: ["keys"], message: "duplicate recipient" });
      }
    } else if (!PubkeySchema.safeParse(frame.targetSpec).success) {
      // Neither a pubkey nor a group spec: the shape checks would only add noise.
      ctx.addIssue({ code: "custom", path: ["targetSpec"], message: TARGET_MESSAGE });
    } else {
      requireShape(frame, ctx, DIRECT_FIELDS, GROUP_FIELDS, "direct sends");
    }
  });

export const ClientAckSchema = z.object({
  type: z.literal("client_ack"),
  messageIds: z.array(OpaqueIdSchema).min(1).max(1_000),
});

/**
 * Where a message stands for one recipient (SPEC §3), in forward order: `queued` (stored, not yet
 * acked by the recipient), `delivered` (client_ack), `shown` (in the agent's context), or one of the
 * two ends for an undelivered copy: `expired` (retention dropped it) and `revoked` (recipient removed).
 */
export const RECEIPT_STATES = ["queued", "delivered", "shown", "expired", "revoked"] as const;
export const ReceiptStateSchema = z.enum(RECEIPT_STATES);
export type ReceiptState = (typeof RECEIPT_STATES)[number];

/** The recipient's client reports that pushed messages are now in the agent's context (SPEC §3, §5). */
export const ReceiptFrameSchema = z.object({
  type: z.literal("receipt"),
  messageIds: z.array(OpaqueIdSchema).min(1).max(1_000),
  state: z.literal("shown"),
});

/** The sender asks where its messages are (SPEC §3); the broker answers with `message_status`. */
export const MessageStatusRequestSchema = z.object({
  type: z.literal("message_status"),
  id: RequestIdSchema,
  messageIds: z.array(OpaqueIdSchema).min(1).max(1_000),
});

/** Manual status (default) or the client's `jsonl` transcript reading (SPEC §3 status model). */
export const SetStatusSchema = z.object({
  type: z.literal("set_status"),
  status: StatusSchema,
  source: z.enum(["manual", "jsonl"]).optional(),
});

export const SetSummarySchema = z.object({
  type: z.literal("set_summary"),
  summary: SummarySchema,
});

/**
 * claudemesh extension (docs/PROTOCOL.md): a `peers` reply holds at most `limit` peers (default
 * DEFAULT_PEERS_PAGE) in join order; `after` is the `next` of the previous reply.
 */
export const ListPeersSchema = z.object({
  type: z.literal("list_peers"),
  id: RequestIdSchema,
  limit: z
    .number()
    .int("must be a whole number of peers")
    .min(1, "must be at least 1")
    .max(MAX_PEERS_PAGE, `must be at most ${MAX_PEERS_PAGE} (page through with after/next)`)
    .optional(),
  after: OpaqueIdSchema.optional(),
});

export const JoinChannelSchema = z.object({
  type: z.literal("join_channel"),
  name: ChannelNameSchema,
});

export const LeaveChannelSchema = z.object({
  type: z.literal("leave_channel"),
  name: ChannelNameSchema,
});

/** Every client frame, one discriminated union on `type`. */
export const ClientFrameSchema = z.discriminatedUnion("type", [
  HelloSchema,
  SendSchema,
  ClientAckSchema,
  SetStatusSchema,
  SetSummarySchema,
  ListPeersSchema,
  JoinChannelSchema,
  LeaveChannelSchema,
  ReceiptFrameSchema,
  MessageStatusRequestSchema,
]);

export type Hello = z.infer<typeof HelloSchema>;
export type GroupBody = z.infer<typeof GroupBodyFieldsSchema>;
export type GroupKey = z.infer<typeof GroupKeySchema>;
export type PushKey = z.infer<typeof PushKeySchema>;
export type Send = z.infer<typeof SendSchema>;
/** A group send as SendSchema accepts it for `*` / `#name`: body, sig and keys present, no nonce/ciphertext. */
export type GroupSend = Omit<Send, "nonce" | "ciphertext" | "body" | "sig" | "keys"> & {
  body: GroupBody;
  sig: string;
  keys: GroupKey[];
};
export type ClientAck = z.infer<typeof ClientAckSchema>;
export type SetStatus = z.infer<typeof SetStatusSchema>;
export type SetSummary = z.infer<typeof SetSummarySchema>;
export type ListPeers = z.infer<typeof ListPeersSchema>;
export type JoinChannel = z.infer<typeof JoinChannelSchema>;
export type LeaveChannel = z.infer<typeof LeaveChannelSchema>;
export type ReceiptFrame = z.infer<typeof ReceiptFrameSchema>;
export type MessageStatusRequest = z.infer<typeof MessageStatusRequestSchema>;
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type ClientFrameType = ClientFrame["type"];

// ---------------------------------------------------------------- broker → client frames

export const HelloAckSchema = z.object({
  type: z.literal("hello_ack"),
  presenceId: OpaqueIdSchema,
  memberDisplayName: z.string(),
});

export const AckSchema = z.object({
  type: z.literal("ack"),
  id: RequestIdSchema,
  messageId: OpaqueIdSchema,
  /** True when at least one recipient could not be pushed to right now (offline or gated). */
  queued: z.boolean(),
});

/**
 * One inbound message (SPEC §3): direct (`targetSpec` = this peer's pubkey, with
 * `nonce`+`ciphertext`) or group (`*`/`#name`, with the shared `body`, its `sig`, and this peer's
 * sealed `key`). One object with a refinement because both share `type:"push"`.
 */
export const PushSchema = z
  .object({
    type: z.literal("push"),
    messageId: OpaqueIdSchema,
    meshId: OpaqueIdSchema,
    senderPubkey: PubkeySchema,
    senderName: z.string(),
    targetSpec: z.string().min(1).max(80),
    priority: PrioritySchema,
    nonce: NonceSchema.optional(),
    ciphertext: CiphertextSchema.optional(),
    body: GroupBodyFieldsSchema.optional(),
    sig: SignatureSchema.optional(),
    key: PushKeySchema.optional(),
    /** ISO 8601 time the broker stored the message. */
    createdAt: z.string(),
  })
  .superRefine((frame, ctx) => {
    if (isFanoutTarget(frame.targetSpec))
      requireShape(frame, ctx, GROUP_PUSH_FIELDS, DIRECT_FIELDS, "* and #channel pushes");
    else if (!PubkeySchema.safeParse(frame.targetSpec).success)
      ctx.addIssue({ code: "custom", path: ["targetSpec"], message: TARGET_MESSAGE });
    else requireShape(frame, ctx, DIRECT_FIELDS, GROUP_PUSH_FIELDS, "direct pushes");
  });

export const PeerSchema = z.object({
  memberId: OpaqueIdSchema,
  pubkey: PubkeySchema,
  displayName: z.string(),
  role: RoleSchema,
  /** Pubkey of the member an agent peer is enrolled under; null for members. */
  parent: PubkeySchema.nullable(),
  status: StatusSchema,
  summary: z.string().nullable(),
  online: z.boolean(),
  /** ISO 8601; null when never seen. */
  lastSeenAt: z.string().nullable(),
  channels: z.array(ChannelNameSchema),
  /** Only shown to agents of the same member (SPEC §3). */
  cwd: z.string().optional(),
  /**
   * claudemesh extension (docs/PROTOCOL.md), on the viewer's own entry only: how many messages
   * queued to it its current status holds back (`next`/`low` while `working` or `dnd`), and the
   * status and the source that set it.
   */
  held: z
    .object({
      count: z.number().int().nonnegative(),
      status: StatusSchema,
      source: StatusSourceSchema,
    })
    .optional(),
});

export const PeersSchema = z.object({
  type: z.literal("peers"),
  id: RequestIdSchema,
  peers: z.array(PeerSchema),
  /** claudemesh extension: present when more peers follow; pass it as the next request's `after`. */
  next: OpaqueIdSchema.optional(),
});

/** One state change of one (message, recipient), pushed to the message's sender (SPEC §3). Metadata only. */
export const ReceiptPushSchema = z.object({
  type: z.literal("receipt"),
  messageId: OpaqueIdSchema,
  recipientPubkey: PubkeySchema,
  state: ReceiptStateSchema,
  /** ISO 8601 time the broker recorded this state. */
  at: z.string(),
});

/** Where one recipient's copy of a message stands. */
export const RecipientStatusSchema = z.object({
  pubkey: PubkeySchema,
  state: ReceiptStateSchema,
  /** ISO 8601 time the broker recorded this state. */
  at: z.string(),
});

/** One requested message: its recipients, or none when the broker knows no such message of the asker. */
export const MessageStatusEntrySchema = z.object({
  messageId: OpaqueIdSchema,
  recipients: z.array(RecipientStatusSchema),
});

/** Reply to `message_status`: one entry per requested id, in request order. */
export const MessageStatusReplySchema = z.object({
  type: z.literal("message_status"),
  id: RequestIdSchema,
  statuses: z.array(MessageStatusEntrySchema).max(1_000),
});

export const ErrorFrameSchema = z.object({
  type: z.literal("error"),
  code: ErrorCodeSchema,
  message: z.string(),
  id: RequestIdSchema.optional(),
  /** With `recipients_mismatch`: the pubkeys the group send's `keys` must address. */
  expected: z.array(PubkeySchema).optional(),
});

/** Every broker frame, one discriminated union on `type`. */
export const ServerFrameSchema = z.discriminatedUnion("type", [
  HelloAckSchema,
  AckSchema,
  PushSchema,
  PeersSchema,
  ReceiptPushSchema,
  MessageStatusReplySchema,
  ErrorFrameSchema,
]);

export type HelloAck = z.infer<typeof HelloAckSchema>;
export type Ack = z.infer<typeof AckSchema>;
export type Push = z.infer<typeof PushSchema>;
/** A direct push as PushSchema accepts it: nonce and ciphertext present, no group fields. */
export type DirectPush = Omit<Push, "nonce" | "ciphertext" | "body" | "sig" | "key"> & {
  nonce: string;
  ciphertext: string;
};
/** A group push as PushSchema accepts it for `*` / `#name`: body, sig and this peer's key. */
export type GroupPush = Omit<Push, "nonce" | "ciphertext" | "body" | "sig" | "key"> & {
  body: GroupBody;
  sig: string;
  key: PushKey;
};

/** True for a parsed push that carries a group message (its targetSpec is `*` or `#name`). */
export function isGroupPush(push: Push): push is Push & GroupPush {
  return isFanoutTarget(push.targetSpec);
}
export type Peer = z.infer<typeof PeerSchema>;
export type Peers = z.infer<typeof PeersSchema>;
export type ReceiptPush = z.infer<typeof ReceiptPushSchema>;
export type RecipientStatus = z.infer<typeof RecipientStatusSchema>;
export type MessageStatusEntry = z.infer<typeof MessageStatusEntrySchema>;
export type MessageStatusReply = z.infer<typeof MessageStatusReplySchema>;
export type ErrorFrame = z.infer<typeof ErrorFrameSchema>;
export type ServerFrame = z.infer<typeof ServerFrameSchema>;
