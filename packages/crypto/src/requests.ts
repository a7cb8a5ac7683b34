// Signatures of the signed HTTP requests of SPEC §2: mesh-create, join, enroll, hook status and revoke.
import {
  canonicalEnroll,
  canonicalJoin,
  canonicalMeshCreate,
  canonicalRevoke,
  canonicalStatus,
  HELLO_SKEW_MS,
} from "@claudemesh/protocol";
import { requireCanonicalField, requirePubkeyHex } from "./check.js";
import { CryptoArgumentError } from "./errors.js";
import {
  MALFORMED,
  asRecord,
  signTimestamped,
  verifyTimestamped,
  type TimestampedSignature,
  type VerifyResult,
} from "./timestamped.js";

// ---------------------------------------------------------------- POST /meshes

/** The POST /meshes fields its signature covers (wire names). */
export interface MeshCreateSignatureFields {
  slug: string;
  owner_pubkey: string;
  timestamp: number;
  signature: string;
}

/** Signs `claudemesh-mesh-create|slug|owner_pubkey|timestamp` with the owner's secret key. */
export function signMeshCreate(
  slug: string,
  ownerPubkey: string,
  secretKey: string,
  now: number = Date.now(),
): TimestampedSignature {
  requireCanonicalField(slug, "slug");
  requirePubkeyHex(ownerPubkey, "ownerPubkey");
  return signTimestamped(
    (timestamp) => canonicalMeshCreate(slug, ownerPubkey, timestamp),
    { secretKey, signers: [ownerPubkey], mismatch: "is not the secret key of ownerPubkey" },
    now,
  );
}

/** Verifies a POST /meshes signature (same window and check order as the hello). */
export function verifyMeshCreate(
  fields: MeshCreateSignatureFields,
  now: number = Date.now(),
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const f = asRecord(fields);
  if (!f) return MALFORMED;
  return verifyTimestamped(
    {
      timestamp: f.timestamp,
      textFields: [f.slug],
      pubkeyFields: [f.owner_pubkey],
      signatures: [{ signature: f.signature, pubkey: f.owner_pubkey }],
      canonical: (timestamp) => canonicalMeshCreate(f.slug as string, f.owner_pubkey as string, timestamp),
    },
    now,
    skewMs,
  );
}

// ---------------------------------------------------------------- POST /join

/** The POST /join values its signature covers: mesh_id and invite_id come from the invite. */
export interface JoinSignatureFields {
  mesh_id: string;
  invite_id: string;
  pubkey: string;
  timestamp: number;
  signature: string;
}

/** Signs `claudemesh-join|mesh_id|invite_id|pubkey|timestamp` with the joiner's secret key. */
export function signJoin(
  meshId: string,
  inviteId: string,
  pubkey: string,
  secretKey: string,
  now: number = Date.now(),
): TimestampedSignature {
  requireCanonicalField(meshId, "meshId");
  requireCanonicalField(inviteId, "inviteId");
  requirePubkeyHex(pubkey, "pubkey");
  return signTimestamped(
    (timestamp) => canonicalJoin(meshId, inviteId, pubkey, timestamp),
    { secretKey, signers: [pubkey], mismatch: "is not the secret key of pubkey" },
    now,
  );
}

/** Verifies a POST /join signature by the joiner. */
export function verifyJoin(
  fields: JoinSignatureFields,
  now: number = Date.now(),
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const f = asRecord(fields);
  if (!f) return MALFORMED;
  return verifyTimestamped(
    {
      timestamp: f.timestamp,
      textFields: [f.mesh_id, f.invite_id],
      pubkeyFields: [f.pubkey],
      signatures: [{ signature: f.signature, pubkey: f.pubkey }],
      canonical: (timestamp) =>
        canonicalJoin(f.mesh_id as string, f.invite_id as string, f.pubkey as string, timestamp),
    },
    now,
    skewMs,
  );
}

// ---------------------------------------------------------------- POST /agents

/** What an agent enrollment binds together (SPEC §2 POST /agents). */
export interface EnrollFields {
  meshId: string;
  parentPubkey: string;
  agentPubkey: string;
  agentName: string;
}

/** The POST /agents body's signed part, as on the wire. */
export interface EnrollRequestFields {
  mesh_id: string;
  parent_pubkey: string;
  agent_pubkey: string;
  agent_name: string;
  timestamp: number;
  parent_signature: string;
  agent_signature: string;
}

/** The enroll canonical string for `f` at a given timestamp; one builder for both signers. */
const enrollCanonical =
  (f: EnrollFields) =>
  (timestamp: number): string =>
    canonicalEnroll(f.meshId, f.parentPubkey, f.agentPubkey, f.agentName, timestamp);

function requireEnrollFields(fields: unknown): EnrollFields {
  const f = asRecord(fields);
  if (!f) throw new CryptoArgumentError("fields", "must be an object");
  return {
    meshId: requireCanonicalField(f.meshId, "fields.meshId"),
    parentPubkey: requirePubkeyHex(f.parentPubkey, "fields.parentPubkey"),
    agentPubkey: requirePubkeyHex(f.agentPubkey, "fields.agentPubkey"),
    agentName: requireCanonicalField(f.agentName, "fields.agentName"),
  };
}

/** Builds the whole signed part of a POST /agents body, signed by both parent and agent at one timestamp. */
export function signEnrollRequest(
  fields: EnrollFields,
  parentSecretKey: string,
  agentSecretKey: string,
  now: number = Date.now(),
): EnrollRequestFields {
  const f = requireEnrollFields(fields);
  const signAs = (secretKey: string, secretKeyName: string, pubkeyName: string, pubkey: string) =>
    signTimestamped(
      enrollCanonical(f),
      { secretKey, secretKeyName, signers: [pubkey], mismatch: `is not the secret key of ${pubkeyName}` },
      now,
    );
  const parent = signAs(parentSecretKey, "parentSecretKey", "parentPubkey", f.parentPubkey);
  const agent = signAs(agentSecretKey, "agentSecretKey", "agentPubkey", f.agentPubkey);
  return {
    mesh_id: f.meshId,
    parent_pubkey: f.parentPubkey,
    agent_pubkey: f.agentPubkey,
    agent_name: f.agentName,
    timestamp: parent.timestamp,
    parent_signature: parent.signature,
    agent_signature: agent.signature,
  };
}

/** Verifies both signatures of a POST /agents body (parent's, then agent's). */
export function verifyEnrollRequest(
  fields: EnrollRequestFields,
  now: number = Date.now(),
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const f = asRecord(fields);
  if (!f) return MALFORMED;
  return verifyTimestamped(
    {
      timestamp: f.timestamp,
      textFields: [f.mesh_id, f.agent_name],
      pubkeyFields: [f.parent_pubkey, f.agent_pubkey],
      signatures: [
        { signature: f.parent_signature, pubkey: f.parent_pubkey },
        { signature: f.agent_signature, pubkey: f.agent_pubkey },
      ],
      canonical: (ts) =>
        canonicalEnroll(
          f.mesh_id as string,
          f.parent_pubkey as string,
          f.agent_pubkey as string,
          f.agent_name as string,
          ts,
        ),
    },
    now,
    skewMs,
  );
}

// ---------------------------------------------------------------- POST /hook/set-status

/** The POST /hook/set-status fields its signature covers (wire names). */
export interface StatusSignatureFields {
  mesh_id: string;
  pubkey: string;
  status: string;
  timestamp: number;
  signature: string;
}

/** Signs `claudemesh-status|mesh_id|pubkey|status|timestamp` with the peer's secret key. */
export function signStatus(
  meshId: string,
  pubkey: string,
  status: string,
  secretKey: string,
  now: number = Date.now(),
): TimestampedSignature {
  requireCanonicalField(meshId, "meshId");
  requirePubkeyHex(pubkey, "pubkey");
  requireCanonicalField(status, "status");
  return signTimestamped(
    (timestamp) => canonicalStatus(meshId, pubkey, status, timestamp),
    { secretKey, signers: [pubkey], mismatch: "is not the secret key of pubkey" },
    now,
  );
}

/** Verifies a POST /hook/set-status signature. */
export function verifyStatus(
  fields: StatusSignatureFields,
  now: number = Date.now(),
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const f = asRecord(fields);
  if (!f) return MALFORMED;
  return verifyTimestamped(
    {
      timestamp: f.timestamp,
      textFields: [f.mesh_id, f.status],
      pubkeyFields: [f.pubkey],
      signatures: [{ signature: f.signature, pubkey: f.pubkey }],
      canonical: (timestamp) =>
        canonicalStatus(f.mesh_id as string, f.pubkey as string, f.status as string, timestamp),
    },
    now,
    skewMs,
  );
}

// ---------------------------------------------------------------- POST /members/revoke

/** The POST /members/revoke fields its signature covers (wire names). */
export interface RevokeSignatureFields {
  mesh_id: string;
  target_pubkey: string;
  by_pubkey: string;
  timestamp: number;
  signature: string;
}

/** Builds the whole POST /members/revoke body: `claudemesh-revoke|mesh_id|target|by|timestamp` signed by `byPubkey`. */
export function signRevoke(
  meshId: string,
  targetPubkey: string,
  byPubkey: string,
  secretKey: string,
  now: number = Date.now(),
): RevokeSignatureFields {
  requireCanonicalField(meshId, "meshId");
  requirePubkeyHex(targetPubkey, "targetPubkey");
  requirePubkeyHex(byPubkey, "byPubkey");
  const signed = signTimestamped(
    (timestamp) => canonicalRevoke(meshId, targetPubkey, byPubkey, timestamp),
    { secretKey, signers: [byPubkey], mismatch: "is not the secret key of byPubkey" },
    now,
  );
  return {
    mesh_id: meshId,
    target_pubkey: targetPubkey,
    by_pubkey: byPubkey,
    timestamp: signed.timestamp,
    signature: signed.signature,
  };
}

/** Verifies a POST /members/revoke signature by `by_pubkey`. */
export function verifyRevoke(
  fields: RevokeSignatureFields,
  now: number = Date.now(),
  skewMs: number = HELLO_SKEW_MS,
): VerifyResult {
  const f = asRecord(fields);
  if (!f) return MALFORMED;
  return verifyTimestamped(
    {
      timestamp: f.timestamp,
      textFields: [f.mesh_id],
      pubkeyFields: [f.target_pubkey, f.by_pubkey],
      signatures: [{ signature: f.signature, pubkey: f.by_pubkey }],
      canonical: (timestamp) =>
        canonicalRevoke(f.mesh_id as string, f.target_pubkey as string, f.by_pubkey as string, timestamp),
    },
    now,
    skewMs,
  );
}
