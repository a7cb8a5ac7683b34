// Canonical strings that get signed (SPEC §2, §3). Every builder is the only place its format lives.

/** The seed's exact hello form (SPEC §3): `${meshId}|${memberId}|${pubkey}|${timestamp}` — no domain prefix. */
export function canonicalHello(meshId: string, memberId: string, pubkey: string, timestamp: number): string {
  return `${meshId}|${memberId}|${pubkey}|${timestamp}`;
}

/** `claudemesh-mesh-create|${slug}|${owner_pubkey}|${timestamp}` (SPEC §2 POST /meshes). */
export function canonicalMeshCreate(slug: string, ownerPubkey: string, timestamp: number): string {
  return `claudemesh-mesh-create|${slug}|${ownerPubkey}|${timestamp}`;
}

/** `claudemesh-join|${mesh_id}|${invite_id}|${pubkey}|${timestamp}` (SPEC §2 POST /join), signed by the joiner. */
export function canonicalJoin(meshId: string, inviteId: string, pubkey: string, timestamp: number): string {
  return `claudemesh-join|${meshId}|${inviteId}|${pubkey}|${timestamp}`;
}

/**
 * `claudemesh-enroll|${mesh_id}|${parent_pubkey}|${agent_pubkey}|${agent_name}|${timestamp}`
 * (SPEC §2 POST /agents), signed by both the parent member and the agent.
 */
export function canonicalEnroll(
  meshId: string,
  parentPubkey: string,
  agentPubkey: string,
  agentName: string,
  timestamp: number,
): string {
  return `claudemesh-enroll|${meshId}|${parentPubkey}|${agentPubkey}|${agentName}|${timestamp}`;
}

/** Fields of an invite that its signature covers (SPEC §2 Invites). */
export interface InviteSignedFields {
  mesh_id: string;
  invite_id: string;
  role: string;
  max_uses: number;
  expires_at: number;
  inviter_pubkey: string;
}

/** `claudemesh-invite|v1|${mesh_id}|${invite_id}|${role}|${max_uses}|${expires_at}|${inviter_pubkey}`. */
export function canonicalInvite(f: InviteSignedFields): string {
  return `claudemesh-invite|v1|${f.mesh_id}|${f.invite_id}|${f.role}|${f.max_uses}|${f.expires_at}|${f.inviter_pubkey}`;
}

/** `claudemesh-status|${mesh_id}|${pubkey}|${status}|${timestamp}` (SPEC §2 POST /hook/set-status). */
export function canonicalStatus(meshId: string, pubkey: string, status: string, timestamp: number): string {
  return `claudemesh-status|${meshId}|${pubkey}|${status}|${timestamp}`;
}

/**
 * `claudemesh-revoke|${mesh_id}|${target_pubkey}|${by_pubkey}|${timestamp}` (SPEC §2 POST /members/revoke),
 * signed by `by_pubkey` (an admin, the target itself for `leave`, or the target's parent member).
 */
export function canonicalRevoke(
  meshId: string,
  targetPubkey: string,
  byPubkey: string,
  timestamp: number,
): string {
  return `claudemesh-revoke|${meshId}|${targetPubkey}|${byPubkey}|${timestamp}`;
}

/**
 * `claudemesh-group|v1|${meshId}|${targetSpec}|${body.nonce}|${hex(crypto_generichash(32, ciphertextBytes))}`
 * (SPEC §4), signed once by the sender of a broadcast or channel message. The caller hashes the
 * decoded ciphertext bytes (this package does no crypto) and passes the 64 lowercase hex chars.
 */
export function canonicalGroup(
  meshId: string,
  targetSpec: string,
  bodyNonce: string,
  ciphertextHashHex: string,
): string {
  return `claudemesh-group|v1|${meshId}|${targetSpec}|${bodyNonce}|${ciphertextHashHex}`;
}
