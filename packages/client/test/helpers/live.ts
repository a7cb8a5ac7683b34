// Integration helpers: a real broker (startBroker on a temp SQLite store) plus members made through this package's HTTP calls.
import { afterAll, afterEach, beforeAll } from "vitest";
import { encodeInviteLink, type InvitePayload } from "@claudemesh/protocol";
import { generateKeypair, randomId, signInvite } from "@claudemesh/crypto";
import { startTestBroker, type TestBroker } from "../../../broker/test/helpers/broker.js";
import { BrokerClient, type BrokerClientOptions } from "../../src/broker-client.js";
import { createMesh, joinMesh } from "../../src/http.js";
import type { InboundMessage } from "../../src/types.js";

export { startTestBroker, type TestBroker };

export interface LiveMember {
  name: string;
  pubkey: string;
  secretKey: string;
  meshId: string;
  meshSlug: string;
  memberId: string;
}

export function uniqueSlug(prefix = "cl"): string {
  return `${prefix}-${randomId(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")}`;
}

/** An invite to `owner`'s mesh, signed offline by the owner (an admin). */
export function inviteLink(
  brokerUrl: string,
  owner: LiveMember,
  maxUses = 1,
): { link: string; payload: InvitePayload } {
  const payload = signInvite(
    {
      v: 1,
      mesh_id: owner.meshId,
      mesh_slug: owner.meshSlug,
      broker_url: brokerUrl,
      invite_id: randomId(12),
      role: "member",
      max_uses: maxUses,
      expires_at: Math.floor(Date.now() / 1000) + 3600,
      inviter_pubkey: owner.pubkey,
    },
    owner.secretKey,
  );
  return { link: encodeInviteLink(payload), payload };
}

/** Creates a mesh owned by `names[0]` and joins every other name through its own invite (all via src/http.ts). */
export async function meshWith(brokerUrl: string, names: readonly string[]): Promise<LiveMember[]> {
  const [ownerName = "owner", ...others] = names;
  const slug = uniqueSlug();
  const ownerKeys = generateKeypair();
  const created = await createMesh({ brokerUrl, name: slug, slug, ownerName, keypair: ownerKeys });
  const owner: LiveMember = {
    name: ownerName,
    pubkey: ownerKeys.publicKey,
    secretKey: ownerKeys.secretKey,
    meshId: created.meshId,
    meshSlug: slug,
    memberId: created.memberId,
  };
  const members = [owner];
  for (const name of others) members.push(await addMember(brokerUrl, owner, name));
  return members;
}

/** Joins one more member to `owner`'s mesh. */
export async function addMember(brokerUrl: string, owner: LiveMember, name: string): Promise<LiveMember> {
  const keys = generateKeypair();
  const joined = await joinMesh({
    link: inviteLink(brokerUrl, owner).link,
    keypair: keys,
    displayName: name,
  });
  return {
    name,
    pubkey: keys.publicKey,
    secretKey: keys.secretKey,
    meshId: joined.meshId,
    meshSlug: joined.meshSlug,
    memberId: joined.memberId,
  };
}

/** Fast reconnects for tests (the SPEC schedule is covered by the fake-timer unit tests). */
export const FAST: Partial<BrokerClientOptions> = { backoffMs: [50, 100, 200, 400] };

export function clientFor(
  brokerUrl: string,
  m: LiveMember,
  options: Partial<BrokerClientOptions> = FAST,
): BrokerClient {
  return new BrokerClient({
    brokerUrl,
    meshId: m.meshId,
    meshSlug: m.meshSlug,
    memberId: m.memberId,
    pubkey: m.pubkey,
    secretKey: m.secretKey,
    displayName: m.name,
    options,
  });
}

/** Collects "message" events of a client. */
export function collect(client: BrokerClient): InboundMessage[] {
  const messages: InboundMessage[] = [];
  client.on("message", (m) => messages.push(m));
  return messages;
}

/** Polls `predicate` every 10 ms until true or `timeoutMs` passes (bounded). */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5_000,
  what = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * One broker for a test file (started before all, stopped after all) and a `connect` whose clients
 * are closed after each test. Call at the top level of the file.
 */
export function liveBroker(): {
  readonly url: string;
  readonly broker: TestBroker;
  connect(member: LiveMember, options?: Partial<BrokerClientOptions>): Promise<BrokerClient>;
  /** Closes `client` after the test too (one made by hand). */
  track(client: BrokerClient): void;
  /** No longer closes `client` (the test closed it). */
  forget(client: BrokerClient): void;
} {
  let broker: TestBroker | undefined;
  const open: BrokerClient[] = [];
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await broker?.stop();
  });
  const started = (): TestBroker => {
    if (!broker) throw new Error("liveBroker: the broker is not started yet (use it inside a test)");
    return broker;
  };
  return {
    get url() {
      return started().url;
    },
    get broker() {
      return started();
    },
    track: (client) => void open.push(client),
    forget: (client) => {
      const i = open.indexOf(client);
      if (i >= 0) open.splice(i, 1);
    },
    async connect(member, options = FAST) {
      const client = clientFor(started().url, member, options);
      open.push(client);
      await client.connect({ timeoutMs: 5_000 });
      return client;
    },
  };
}
