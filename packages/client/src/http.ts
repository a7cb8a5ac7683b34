// Signed HTTP calls to a broker (SPEC §2): create a mesh, redeem an invite, enroll an agent, hook status, revoke, health.
import {
  AgentEnrollResponseSchema,
  HealthResponseSchema,
  HookStatusResponseSchema,
  InviteError,
  JoinResponseSchema,
  MeshCreateResponseSchema,
  RevokeResponseSchema,
  decodeInviteLink,
  parseInvitePayload,
  type AgentEnrollRequest,
  type HealthResponse,
  type HookStatusRequest,
  type InvitePayload,
  type JoinRequest,
  type MeshCreateRequest,
  type RevokeRequest,
  type Role,
  type Status,
} from "@claudemesh/protocol";
import {
  signEnrollRequest,
  signJoin,
  signMeshCreate,
  signRevoke,
  signStatus,
  verifyInvite,
} from "@claudemesh/crypto";
import { ClientError } from "./errors.js";
import { callBroker, type HttpCallOptions } from "./http-request.js";
import { brokerUrls } from "./urls.js";

/**
 * An ed25519 identity as hex (SPEC §1): public key 64 chars, secretKey 128 chars. Accepts the
 * `{publicKey, secretKey}` shape of @claudemesh/crypto's generateKeypair and a `{pubkey, secretKey}` shape.
 */
export type Keypair = { publicKey: string; secretKey: string } | { pubkey: string; secretKey: string };

/** The 64-hex public key of either Keypair shape. */
export function pubkeyOf(keypair: Keypair): string {
  return "publicKey" in keypair ? keypair.publicKey : keypair.pubkey;
}

/** Options every HTTP helper takes: timeout, injectable fetch and clock. */
export interface HttpOptions extends Omit<HttpCallOptions, "token"> {
  /** Clock for signature timestamps (unix ms); default Date.now. */
  now?: () => number;
}

export interface CreateMeshArgs extends HttpOptions {
  brokerUrl: string;
  name: string;
  slug: string;
  ownerName: string;
  keypair: Keypair;
  /** Mesh-creation token when the broker requires one (SPEC §2 POST /meshes). */
  token?: string;
}

export interface CreateMeshResult {
  meshId: string;
  memberId: string;
}

/** POST /meshes: creates a mesh; the keypair becomes its first admin member. */
export async function createMesh(args: CreateMeshArgs): Promise<CreateMeshResult> {
  const { httpBase } = brokerUrls(args.brokerUrl);
  const { timestamp, signature } = signMeshCreate(
    args.slug,
    pubkeyOf(args.keypair),
    args.keypair.secretKey,
    args.now?.(),
  );
  const body: MeshCreateRequest = {
    name: args.name,
    slug: args.slug,
    owner_pubkey: pubkeyOf(args.keypair),
    owner_name: args.ownerName,
    timestamp,
    signature,
  };
  const res = await callBroker(
    {
      httpBase,
      method: "POST",
      path: "/meshes",
      body,
      schema: MeshCreateResponseSchema,
      what: "mesh create failed",
    },
    { ...args, token: args.token },
  );
  return { meshId: res.mesh_id, memberId: res.member_id };
}

export interface JoinMeshArgs extends HttpOptions {
  /** The `ic://join/…` link (one of link / payload is required). */
  link?: string;
  /** An already-decoded invite payload. */
  payload?: InvitePayload;
  keypair: Keypair;
  displayName: string;
  /** Talk to this broker instead of the invite's `broker_url` (e.g. behind a different address). */
  brokerUrl?: string;
}

export interface JoinMeshResult {
  meshId: string;
  memberId: string;
  role: Role;
  meshSlug: string;
  /** The name the broker admitted the member under (differs from the asked-for one when that is taken). */
  displayName: string;
  /** The broker the membership lives on (the invite's `broker_url` unless overridden). */
  brokerUrl: string;
}

function inviteToClientError(err: unknown): never {
  if (err instanceof InviteError) throw new ClientError(err.code, err.message, { cause: err });
  throw err;
}

/** Decodes and checks an invite locally (shape, expiry, signature) so a bad link fails before any network call. */
export function readInvite(input: { link?: string; payload?: InvitePayload }, nowMs?: number): InvitePayload {
  let payload: InvitePayload;
  try {
    if (input.link !== undefined) payload = decodeInviteLink(input.link, { now: nowMs });
    else if (input.payload !== undefined) payload = parseInvitePayload(input.payload);
    else throw new ClientError("invalid_argument", "joinMesh needs an invite link or payload");
  } catch (err) {
    inviteToClientError(err);
  }
  if (input.link === undefined && payload.expires_at * 1000 <= (nowMs ?? Date.now())) {
    const when = new Date(payload.expires_at * 1000).toISOString();
    throw new ClientError(
      "invite_expired",
      `invite expired at ${when}; ask an admin of "${payload.mesh_slug}" for a new one`,
    );
  }
  if (!verifyInvite(payload).ok) {
    throw new ClientError(
      "invite_invalid",
      `invite for "${payload.mesh_slug}" has an invalid signature — it was altered or truncated; ask for a fresh link`,
    );
  }
  return payload;
}

/** POST /join: redeems an invite for `keypair` (idempotent for an already-admitted pubkey). */
export async function joinMesh(args: JoinMeshArgs): Promise<JoinMeshResult> {
  const payload = readInvite(args, args.now?.());
  const brokerUrl = args.brokerUrl ?? payload.broker_url;
  const { httpBase } = brokerUrls(brokerUrl);
  const { timestamp, signature } = signJoin(
    payload.mesh_id,
    payload.invite_id,
    pubkeyOf(args.keypair),
    args.keypair.secretKey,
    args.now?.(),
  );
  const body: JoinRequest = {
    invite: args.link?.trim() ?? payload,
    pubkey: pubkeyOf(args.keypair),
    display_name: args.displayName,
    timestamp,
    signature,
  };
  const res = await callBroker(
    { httpBase, method: "POST", path: "/join", body, schema: JoinResponseSchema, what: "join failed" },
    args,
  );
  return {
    meshId: res.mesh_id,
    memberId: res.member_id,
    role: res.role,
    meshSlug: res.mesh_slug,
    displayName: res.display_name ?? args.displayName,
    brokerUrl,
  };
}

export interface EnrollAgentArgs extends HttpOptions {
  brokerUrl: string;
  meshId: string;
  /** The member the agent is enrolled under (signs as parent). */
  parent: Keypair;
  /** The agent's own identity (signs too, proving it holds the key). */
  agent: Keypair;
  agentName: string;
}

export interface EnrollAgentResult {
  memberId: string;
  displayName: string;
}

/** POST /agents: enrolls an agent peer under a member (SPEC §1); idempotent. */
export async function enrollAgent(args: EnrollAgentArgs): Promise<EnrollAgentResult> {
  const { httpBase } = brokerUrls(args.brokerUrl);
  // One timestamp covers both signatures (SPEC §2 POST /agents).
  const body: AgentEnrollRequest = signEnrollRequest(
    {
      meshId: args.meshId,
      parentPubkey: pubkeyOf(args.parent),
      agentPubkey: pubkeyOf(args.agent),
      agentName: args.agentName,
    },
    args.parent.secretKey,
    args.agent.secretKey,
    args.now?.(),
  );
  const res = await callBroker(
    {
      httpBase,
      method: "POST",
      path: "/agents",
      body,
      schema: AgentEnrollResponseSchema,
      what: "agent enroll failed",
    },
    args,
  );
  return { memberId: res.member_id, displayName: res.display_name };
}

export interface PostHookStatusArgs extends HttpOptions {
  brokerUrl: string;
  meshId: string;
  keypair: Keypair;
  status: Status;
  cwd: string;
  pid: number;
  sessionId?: string;
}

export type HookStatusResult = "applied" | "pending" | "ignored";

/** POST /hook/set-status: a Claude Code hook's status report (SPEC §2, §3 status model). */
export async function postHookStatus(args: PostHookStatusArgs): Promise<HookStatusResult> {
  const { httpBase } = brokerUrls(args.brokerUrl);
  const { timestamp, signature } = signStatus(
    args.meshId,
    pubkeyOf(args.keypair),
    args.status,
    args.keypair.secretKey,
    args.now?.(),
  );
  const body: HookStatusRequest = {
    mesh_id: args.meshId,
    pubkey: pubkeyOf(args.keypair),
    status: args.status,
    cwd: args.cwd,
    pid: args.pid,
    ...(args.sessionId === undefined ? {} : { session_id: args.sessionId }),
    timestamp,
    signature,
  };
  const res = await callBroker(
    {
      httpBase,
      method: "POST",
      path: "/hook/set-status",
      body,
      schema: HookStatusResponseSchema,
      what: "status hook failed",
    },
    args,
  );
  return res.result;
}

export interface RevokeMemberArgs extends HttpOptions {
  brokerUrl: string;
  meshId: string;
  /** Pubkey of the member or agent to revoke. */
  targetPubkey: string;
  /** Who signs: an admin of the mesh, the target itself (leave), or the target's parent member. */
  by: Keypair;
}

/**
 * POST /members/revoke (SPEC §2): revokes the target and its agents; idempotent.
 * Returns every pubkey the broker reports revoked (the target and its agents).
 */
export async function revokeMember(args: RevokeMemberArgs): Promise<string[]> {
  const { httpBase } = brokerUrls(args.brokerUrl);
  const body: RevokeRequest = signRevoke(
    args.meshId,
    args.targetPubkey,
    pubkeyOf(args.by),
    args.by.secretKey,
    args.now?.(),
  );
  const res = await callBroker(
    {
      httpBase,
      method: "POST",
      path: "/members/revoke",
      body,
      schema: RevokeResponseSchema,
      what: "revoke failed",
    },
    args,
  );
  return res.revoked;
}

/** GET /health: `{status:"ok"}` or, on 503, `{status:"degraded", db:"down"}` (returned, not thrown). */
export async function getHealth(brokerUrl: string, options: HttpOptions = {}): Promise<HealthResponse> {
  const { httpBase } = brokerUrls(brokerUrl);
  return callBroker(
    {
      httpBase,
      method: "GET",
      path: "/health",
      schema: HealthResponseSchema,
      acceptStatuses: [503],
      what: "health check failed",
    },
    options,
  );
}
