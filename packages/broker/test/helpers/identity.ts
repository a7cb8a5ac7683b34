// Identities, meshes, invites, members and agents for tests — all made through real HTTP with real signatures.
import { encodeInviteLink, type InvitePayload, type Role } from "@claudemesh/protocol";
import {
  generateKeypair,
  randomId,
  signEnrollRequest,
  signInvite,
  signJoin,
  signMeshCreate,
} from "@claudemesh/crypto";
import { postJson } from "./http.js";

export interface Identity {
  name: string;
  pubkey: string;
  secretKey: string;
}

/** An admitted member or agent: identity plus the ids the broker gave it. */
export interface Member extends Identity {
  meshId: string;
  memberId: string;
}

export interface TestMesh {
  meshId: string;
  slug: string;
  owner: Member;
}

/** A fresh ed25519 identity (SPEC §1). */
export function makeIdentity(name: string): Identity {
  const kp = generateKeypair();
  return { name, pubkey: kp.publicKey, secretKey: kp.secretKey };
}

/** A unique slug per call so tests can share a store. */
export function uniqueSlug(prefix = "mesh"): string {
  return `${prefix}-${randomId(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")}`;
}

function expectOk<T>(what: string, res: { status: number; json: unknown }): T {
  const body = res.json as { ok?: boolean } | undefined;
  if (res.status !== 200 || !body?.ok)
    throw new Error(`${what} failed: ${res.status} ${JSON.stringify(res.json)}`);
  return body as T;
}

/** The body of a signed POST /meshes, for tests that want to tamper with it. */
export function meshCreateBody(owner: Identity, slug: string, now = Date.now()): Record<string, unknown> {
  const { timestamp, signature } = signMeshCreate(slug, owner.pubkey, owner.secretKey, now);
  return { name: slug, slug, owner_pubkey: owner.pubkey, owner_name: owner.name, timestamp, signature };
}

/** Creates a mesh owned by `owner` through POST /meshes. */
export async function createMesh(
  baseUrl: string,
  owner: Identity,
  options: { slug?: string; token?: string } = {},
): Promise<TestMesh> {
  const slug = options.slug ?? uniqueSlug();
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const res = expectOk<{ mesh_id: string; member_id: string }>(
    "POST /meshes",
    await postJson(baseUrl, "/meshes", meshCreateBody(owner, slug), headers),
  );
  return { meshId: res.mesh_id, slug, owner: { ...owner, meshId: res.mesh_id, memberId: res.member_id } };
}

export interface InviteOptions {
  role?: Role;
  maxUses?: number;
  /** Unix seconds; default one hour from now. */
  expiresAt?: number;
  brokerUrl?: string;
  meshId?: string;
  meshSlug?: string;
}

/** An invite signed by `inviter` (who should be an admin for the broker to accept it). */
export function makeInvite(
  mesh: TestMesh,
  inviter: Identity,
  options: InviteOptions = {},
): { payload: InvitePayload; link: string } {
  const payload = signInvite(
    {
      v: 1,
      mesh_id: options.meshId ?? mesh.meshId,
      mesh_slug: options.meshSlug ?? mesh.slug,
      broker_url: options.brokerUrl ?? "ws://127.0.0.1:7900/ws",
      invite_id: randomId(12),
      role: options.role ?? "member",
      max_uses: options.maxUses ?? 1,
      expires_at: options.expiresAt ?? Math.floor(Date.now() / 1000) + 3600,
      inviter_pubkey: inviter.pubkey,
    },
    inviter.secretKey,
  );
  return { payload, link: encodeInviteLink(payload) };
}

/** The body of a signed POST /join. */
export function joinBody(
  invite: InvitePayload | string,
  payload: InvitePayload,
  joiner: Identity,
  now = Date.now(),
) {
  const { timestamp, signature } = signJoin(
    payload.mesh_id,
    payload.invite_id,
    joiner.pubkey,
    joiner.secretKey,
    now,
  );
  return { invite, pubkey: joiner.pubkey, display_name: joiner.name, timestamp, signature };
}

/** Redeems an invite through POST /join. */
export async function joinMesh(
  baseUrl: string,
  invite: { payload: InvitePayload; link: string },
  joiner: Identity,
): Promise<Member & { role: Role }> {
  const res = expectOk<{ mesh_id: string; member_id: string; role: Role }>(
    "POST /join",
    await postJson(baseUrl, "/join", joinBody(invite.link, invite.payload, joiner)),
  );
  return { ...joiner, meshId: res.mesh_id, memberId: res.member_id, role: res.role };
}

/** The body of a signed POST /agents. */
export function enrollBody(parent: Member, agent: Identity, now = Date.now()) {
  return signEnrollRequest(
    { meshId: parent.meshId, parentPubkey: parent.pubkey, agentPubkey: agent.pubkey, agentName: agent.name },
    parent.secretKey,
    agent.secretKey,
    now,
  );
}

/** Enrolls `agent` under `parent` through POST /agents. */
export async function enrollAgent(baseUrl: string, parent: Member, agent: Identity): Promise<Member> {
  const res = expectOk<{ member_id: string; display_name: string }>(
    "POST /agents",
    await postJson(baseUrl, "/agents", enrollBody(parent, agent)),
  );
  return { ...agent, name: res.display_name, meshId: parent.meshId, memberId: res.member_id };
}

/** A mesh owned by the first name, with every other name joined as a member through its own invite. */
export async function createMeshWithMembers(
  baseUrl: string,
  names: readonly string[],
): Promise<{ mesh: TestMesh; members: Member[] }> {
  const [ownerName, ...others] = names;
  const mesh = await createMesh(baseUrl, makeIdentity(ownerName ?? "owner"));
  const members: Member[] = [mesh.owner];
  for (const name of others)
    members.push(await joinMesh(baseUrl, makeInvite(mesh, mesh.owner), makeIdentity(name)));
  return { mesh, members };
}
