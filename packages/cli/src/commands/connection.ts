// One short-lived BrokerClient connection as this machine's member of a mesh, for send, peers, inbox and status.
import type { BrokerClient } from "@claudemesh/client";
import { HELLO_ACK_TIMEOUT_MS } from "@claudemesh/protocol";
import type { Env, MeshEntry } from "../config/index.js";
import type { Io } from "../cli/io.js";

/** How long a one-shot command waits for the broker's hello_ack (SPEC §7: 5 s); CLAUDEMESH_CONNECT_TIMEOUT_MS overrides. */
export function connectTimeoutMs(env: Env): number {
  const raw = Number(env.CLAUDEMESH_CONNECT_TIMEOUT_MS);
  return Number.isInteger(raw) && raw > 0 ? raw : HELLO_ACK_TIMEOUT_MS;
}

/**
 * Connects as the member `mesh` records, runs `fn`, and always closes (which flushes
 * client_acks). A broker that is down fails at once via GET /health — with the client's
 * "cannot reach broker … is `claudemesh broker` running?" — rather than after the connect timeout.
 */
export async function withMemberClient<T>(
  mesh: MeshEntry,
  env: Env,
  io: Io,
  fn: (client: BrokerClient) => Promise<T>,
  /** Runs before connect, e.g. to attach listeners for events that fire as soon as the hello is acked. */
  beforeConnect?: (client: BrokerClient) => void,
): Promise<T> {
  const { BrokerClient, getHealth } = await import("@claudemesh/client");
  const timeoutMs = connectTimeoutMs(env);
  await getHealth(mesh.brokerUrl, { timeoutMs });
  const client = new BrokerClient({
    brokerUrl: mesh.brokerUrl,
    meshId: mesh.meshId,
    meshSlug: mesh.slug,
    memberId: mesh.memberId,
    pubkey: mesh.pubkey,
    secretKey: mesh.secretKey,
    displayName: mesh.displayName,
    pid: process.pid,
    cwd: io.cwd(),
  });
  // Problems after connect (e.g. an undecryptable push) are reported by the commands themselves;
  // a listener keeps them from being thrown as unhandled 'error' events.
  client.on("error", () => undefined);
  beforeConnect?.(client);
  try {
    await client.connect({ timeoutMs });
    return await fn(client);
  } finally {
    await client.close();
  }
}
