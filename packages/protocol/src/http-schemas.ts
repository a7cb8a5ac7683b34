// zod schemas for the HTTP bodies of SPEC §2 (requests and responses); the WebSocket frames and the shared primitives are in schemas.ts.
import { z } from "zod";
import { MAX_NAME_CHARS } from "./constants.js";
import {
  DisplayNameSchema,
  ErrorCodeSchema,
  OpaqueIdSchema,
  PidSchema,
  PubkeySchema,
  RoleSchema,
  SignatureSchema,
  SlugSchema,
  StatusSchema,
  TimestampMsSchema,
  storable,
  textSchema,
} from "./schemas.js";

export const MeshCreateRequestSchema = z.object({
  name: textSchema(1, MAX_NAME_CHARS),
  slug: SlugSchema,
  owner_pubkey: PubkeySchema,
  owner_name: DisplayNameSchema,
  timestamp: TimestampMsSchema,
  signature: SignatureSchema,
});

export const MeshCreateResponseSchema = z.object({
  ok: z.literal(true),
  mesh_id: OpaqueIdSchema,
  member_id: OpaqueIdSchema,
});

/** Invite payload carried inside `ic://join/<base64url(JSON)>` (SPEC §2 Invites). */
export const InvitePayloadSchema = z.object({
  v: z.literal(1),
  mesh_id: OpaqueIdSchema,
  mesh_slug: SlugSchema,
  broker_url: storable(z.string().regex(/^(?:https?|wss?):\/\/[^\s]+$/, "must be an http(s) or ws(s) URL")),
  invite_id: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, "must be a random url-safe id"),
  role: RoleSchema,
  max_uses: z.number().int().min(1).max(1_000_000),
  expires_at: z.number().int().positive(),
  inviter_pubkey: PubkeySchema,
  signature: SignatureSchema,
});

export const JoinRequestSchema = z.object({
  /** The `ic://join/…` link or its decoded payload. */
  invite: z.union([textSchema(1, 4096), InvitePayloadSchema]),
  pubkey: PubkeySchema,
  display_name: DisplayNameSchema,
  timestamp: TimestampMsSchema,
  signature: SignatureSchema,
});

export const JoinResponseSchema = z.object({
  ok: z.literal(true),
  mesh_id: OpaqueIdSchema,
  member_id: OpaqueIdSchema,
  role: RoleSchema,
  mesh_slug: SlugSchema,
  /**
   * claudemesh extension: the name the broker admitted the member under — the asked-for name, or
   * `name-2`, … when that name (or one that looks the same) is taken. Absent from older brokers.
   */
  display_name: z.string().optional(),
});

export const AgentEnrollRequestSchema = z.object({
  mesh_id: OpaqueIdSchema,
  parent_pubkey: PubkeySchema,
  agent_pubkey: PubkeySchema,
  agent_name: DisplayNameSchema,
  timestamp: TimestampMsSchema,
  parent_signature: SignatureSchema,
  agent_signature: SignatureSchema,
});

export const AgentEnrollResponseSchema = z.object({
  ok: z.literal(true),
  member_id: OpaqueIdSchema,
  display_name: z.string(),
});

export const HookStatusRequestSchema = z.object({
  mesh_id: OpaqueIdSchema,
  pubkey: PubkeySchema,
  status: StatusSchema,
  cwd: textSchema(0, 4096),
  pid: PidSchema,
  session_id: textSchema(0, 128).optional(),
  timestamp: TimestampMsSchema,
  signature: SignatureSchema,
});

export const HookStatusResponseSchema = z.object({
  ok: z.literal(true),
  /** `applied` to a live presence, `pending` (stashed for the session's connect), or `ignored` (dnd, stale). */
  result: z.enum(["applied", "pending", "ignored"]),
});

/** SPEC §2 POST /members/revoke: signed by `by_pubkey` (admin, the target itself, or the target's parent). */
export const RevokeRequestSchema = z.object({
  mesh_id: OpaqueIdSchema,
  target_pubkey: PubkeySchema,
  by_pubkey: PubkeySchema,
  timestamp: TimestampMsSchema,
  signature: SignatureSchema,
});

export const RevokeResponseSchema = z.object({
  ok: z.literal(true),
  /** Every pubkey revoked by this call or already revoked: the target and its agents. */
  revoked: z.array(PubkeySchema),
});

/** Discriminated on `status` so a bad body's error names the field (`db`, `version`) rather than "(root)". */
export const HealthResponseSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("ok"), db: z.literal("up"), version: z.string() }),
  z.object({ status: z.literal("degraded"), db: z.literal("down"), version: z.string().optional() }),
]);

export const HttpErrorBodySchema = z.object({
  ok: z.literal(false),
  error: z.object({ code: ErrorCodeSchema, message: z.string() }),
});

export type MeshCreateRequest = z.infer<typeof MeshCreateRequestSchema>;
export type MeshCreateResponse = z.infer<typeof MeshCreateResponseSchema>;
export type InvitePayload = z.infer<typeof InvitePayloadSchema>;
export type JoinRequest = z.infer<typeof JoinRequestSchema>;
export type JoinResponse = z.infer<typeof JoinResponseSchema>;
export type AgentEnrollRequest = z.infer<typeof AgentEnrollRequestSchema>;
export type AgentEnrollResponse = z.infer<typeof AgentEnrollResponseSchema>;
export type HookStatusRequest = z.infer<typeof HookStatusRequestSchema>;
export type HookStatusResponse = z.infer<typeof HookStatusResponseSchema>;
export type RevokeRequest = z.infer<typeof RevokeRequestSchema>;
export type RevokeResponse = z.infer<typeof RevokeResponseSchema>;
export type HealthResponse = z.infer<typeof HealthResponseSchema>;
export type HttpErrorBody = z.infer<typeof HttpErrorBodySchema>;
