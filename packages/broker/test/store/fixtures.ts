// Builders for store tests: unique ids, meshes, members and messages.
import { randomBytes, randomUUID } from "node:crypto";
import type { Priority } from "@claudemesh/protocol";
import type { MemberRow, MeshRow, NewMessage, PresenceRow, Store } from "../../src/store/index.js";

export const T0 = 1_700_000_000_000;

export function pubkey(): string {
  return randomBytes(32).toString("hex");
}

export function id(prefix: string): string {
  return `${prefix}_${randomUUID()}`;
}

export interface MeshFixture {
  mesh: MeshRow;
  owner: MemberRow;
}

export async function makeMesh(store: Store, ownerName = "alice"): Promise<MeshFixture> {
  const meshId = id("mesh");
  const created = await store.createMesh({
    meshId,
    slug: `slug-${meshId.slice(-12)}`,
    name: "Test mesh",
    ownerMemberId: id("mem"),
    ownerPubkey: pubkey(),
    ownerName,
    now: T0,
  });
  if (!created) throw new Error("fixture: createMesh returned null");
  return created;
}

/** Admits a new member through a fresh single-use invite. */
export async function addMember(store: Store, meshId: string, name: string, now = T0): Promise<MemberRow> {
  const result = await store.redeemInvite({
    meshId,
    inviteId: id("inv"),
    maxUses: 1,
    memberId: id("mem"),
    pubkey: pubkey(),
    displayName: name,
    role: "member",
    now,
  });
  if (result.kind !== "joined") throw new Error(`fixture: redeem returned ${result.kind}`);
  return result.member;
}

export function message(
  meshId: string,
  sender: string,
  recipients: readonly string[],
  options: { priority?: Priority; createdAt?: number; messageId?: string; targetSpec?: string } = {},
): NewMessage {
  return {
    messageId: options.messageId ?? id("msg"),
    meshId,
    senderMemberId: sender,
    targetSpec: options.targetSpec ?? (recipients.length === 1 ? "direct" : "*"),
    priority: options.priority ?? "next",
    createdAt: options.createdAt ?? T0,
    deliveries: recipients.map((recipientMemberId) => ({
      recipientMemberId,
      nonce: randomBytes(24).toString("base64"),
      ciphertext: randomBytes(48).toString("base64"),
    })),
  };
}

export function presence(memberId: string, overrides: Partial<PresenceRow> = {}): PresenceRow {
  return {
    memberId,
    presenceId: id("pres"),
    brokerId: "broker-a",
    sessionId: "session-1",
    pid: 4242,
    cwd: "/home/dev/project",
    online: true,
    connectedAt: T0,
    lastSeenAt: T0 + 5,
    disconnectedAt: null,
    status: "idle",
    statusSource: "manual",
    statusAt: T0,
    summary: "refactoring the parser",
    ...overrides,
  };
}

/**
 * Marks one member row revoked without any notice or effect (as a hand edit of the store would):
 * its agents' rows stay as they are, so only the parent's revocation applies to them.
 */
export async function revokeRowByHand(store: Store, memberId: string, at: number): Promise<void> {
  const sql = store as unknown as {
    transaction<T>(op: () => Generator<unknown, T, unknown>): Promise<T>;
  };
  await sql.transaction(function* () {
    return yield {
      sql: "UPDATE members SET revoked_at = ? WHERE id = ?",
      params: [at, memberId],
      want: "changes",
    };
  });
}
