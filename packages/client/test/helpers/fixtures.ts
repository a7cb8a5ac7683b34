// Shared unit-test fixtures: identities, peers, pushes and a BrokerClient wired to a FakeNetwork.
import { encryptDirect, generateKeypair, openGroup, sealGroup } from "@claudemesh/crypto";
import { isFanoutTarget, type GroupSend, type Peer, type Push } from "@claudemesh/protocol";
import { BrokerClient, type BrokerClientOptions } from "../../src/broker-client.js";
import { FakeNetwork, type FakeSocket } from "./fake-socket.js";

export const MESH_ID = "mesh_1";
export const MESH_SLUG = "team";

export interface Identity {
  pubkey: string;
  secretKey: string;
}

export function identity(): Identity {
  const kp = generateKeypair();
  return { pubkey: kp.publicKey, secretKey: kp.secretKey };
}

export function peer(who: Identity | string, displayName: string, channels: string[] = []): Peer {
  return {
    memberId: `m_${displayName.replace(/[^A-Za-z0-9]/g, "")}`,
    pubkey: typeof who === "string" ? who : who.pubkey,
    displayName,
    role: "member",
    parent: null,
    status: "idle",
    summary: null,
    online: true,
    lastSeenAt: null,
    channels,
  };
}

let pushCounter = 0;

/** A push of `text` from `sender` to `recipientPubkey`, encrypted for real. */
export function makePush(
  sender: Identity,
  recipientPubkey: string,
  text: string,
  overrides: Partial<Push> = {},
): Push {
  pushCounter += 1;
  const targetSpec = overrides.targetSpec ?? recipientPubkey;
  return {
    type: "push",
    messageId: `msg_${pushCounter}`,
    meshId: MESH_ID,
    senderPubkey: sender.pubkey,
    senderName: "bob",
    targetSpec,
    priority: "next",
    ...sealedFields(sender, recipientPubkey, text, targetSpec),
    createdAt: "2025-01-02T03:04:05.000Z",
    ...overrides,
  };
}

/** Direct box fields, or for `*` / `#name` the group body, sig and this recipient's sealed key (SPEC §4). */
function sealedFields(sender: Identity, recipientPubkey: string, text: string, targetSpec: string) {
  if (!isFanoutTarget(targetSpec)) return encryptDirect(text, recipientPubkey, sender.secretKey);
  const { body, sig, keys } = sealGroup(text, [recipientPubkey], sender.secretKey, MESH_ID, targetSpec);
  const { to: _to, ...key } = keys[0]!;
  return { body, sig, key };
}

/** Opens the group `send` frame `frame` written by `sender` as `recipient` would receive it; null when it does not open. */
export function openSentGroup(
  frame: Record<string, unknown> | undefined,
  sender: Identity,
  recipient: Identity,
): string | null {
  const send = frame as unknown as GroupSend | undefined;
  const entry = send?.keys.find((k) => k.to === recipient.pubkey);
  if (!send || !entry) return null;
  const { to: _to, ...key } = entry;
  return openGroup(
    {
      meshId: MESH_ID,
      targetSpec: send.targetSpec,
      senderPubkey: sender.pubkey,
      body: send.body,
      sig: send.sig,
      key,
    },
    recipient.secretKey,
  );
}

export function newClient(
  self: Identity,
  net: FakeNetwork,
  options: Partial<BrokerClientOptions> = {},
): BrokerClient {
  return new BrokerClient({
    brokerUrl: "http://127.0.0.1:7900",
    meshId: MESH_ID,
    meshSlug: MESH_SLUG,
    memberId: "mem_self",
    pubkey: self.pubkey,
    secretKey: self.secretKey,
    displayName: "alice",
    sessionId: "sess-1",
    pid: 4242,
    cwd: "/work/project",
    options: { socketFactory: net.factory, ...options },
  });
}

/** Completes the handshake on `socket` (open + hello_ack). */
export function handshake(socket: FakeSocket, displayName = "alice"): void {
  socket.open();
  socket.receive({
    type: "hello_ack",
    presenceId: `pres_${socket.openedAt}`,
    memberDisplayName: displayName,
  });
}

/** A client that is connected (state open) on a fresh FakeNetwork. */
export async function connected(
  self: Identity,
  options: Partial<BrokerClientOptions> = {},
): Promise<{ client: BrokerClient; net: FakeNetwork; socket: FakeSocket }> {
  const net = new FakeNetwork();
  const client = newClient(self, net, options);
  const ready = client.connect();
  handshake(net.last);
  await ready;
  return { client, net, socket: net.last };
}

/** Lets queued microtasks and zero-delay timers (setImmediate ack batches) run under fake timers. */
export async function tick(ms = 0): Promise<void> {
  const { vi } = await import("vitest");
  await vi.advanceTimersByTimeAsync(ms);
}
