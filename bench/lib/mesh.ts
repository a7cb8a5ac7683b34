// Creates a mesh with N members on a running broker through its real HTTP API (signed requests, invite, joins).
import { encodeInviteLink, type InvitePayload } from "@claudemesh/protocol";
import { generateKeypair, randomId, signInvite, signJoin, signMeshCreate } from "@claudemesh/crypto";

export interface BenchIdentity {
  meshId: string;
  memberId: string;
  pubkey: string;
  secretKey: string;
  name: string;
}

async function post<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T & { ok?: boolean };
  if (!response.ok || json.ok === false)
    throw new Error(`${url} → ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates a mesh (owner = first identity) and joins `count - 1` more members through one invite. */
export async function createBenchMesh(httpUrl: string, count: number): Promise<BenchIdentity[]> {
  const owner = generateKeypair();
  const slug = `bench-${randomId(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")}`;
  const created = signMeshCreate(slug, owner.publicKey, owner.secretKey);
  const mesh = await post<{ mesh_id: string; member_id: string }>(`${httpUrl}/meshes`, {
    name: slug,
    slug,
    owner_pubkey: owner.publicKey,
    owner_name: "peer-0",
    ...created,
  });
  const identities: BenchIdentity[] = [
    {
      meshId: mesh.mesh_id,
      memberId: mesh.member_id,
      pubkey: owner.publicKey,
      secretKey: owner.secretKey,
      name: "peer-0",
    },
  ];
  if (count <= 1) return identities;
  const invite: InvitePayload = signInvite(
    {
      v: 1,
      mesh_id: mesh.mesh_id,
      mesh_slug: slug,
      broker_url: httpUrl,
      invite_id: randomId(12),
      role: "member",
      max_uses: count,
      expires_at: Math.floor(Date.now() / 1000) + 3600,
      inviter_pubkey: owner.publicKey,
    },
    owner.secretKey,
  );
  const link = encodeInviteLink(invite);
  for (let i = 1; i < count; i++) {
    const keys = generateKeypair();
    const name = `peer-${i}`;
    const signed = signJoin(mesh.mesh_id, invite.invite_id, keys.publicKey, keys.secretKey);
    const joined = await post<{ member_id: string }>(`${httpUrl}/join`, {
      invite: link,
      pubkey: keys.publicKey,
      display_name: name,
      ...signed,
    });
    identities.push({
      meshId: mesh.mesh_id,
      memberId: joined.member_id,
      pubkey: keys.publicKey,
      secretKey: keys.secretKey,
      name,
    });
  }
  return identities;
}
