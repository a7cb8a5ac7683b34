// One short-lived BrokerClient connection as this machine's member of a mesh, for send, peers, inbox and status.
import type { BrokerClient, SocketFactory } from "@claudemesh/client";
import { HELLO_ACK_TIMEOUT_MS } from "@claudemesh/protocol";
import { updateConfig, type Env, type MeshEntry } from "../config/index.js";
import type { Io } from "../cli/io.js";

/** How long a one-shot command waits for the broker's hello_ack (SPEC §7: 5 s); CLAUDEMESH_CONNECT_TIMEOUT_MS overrides. */
export function connectTimeoutMs(env: Env): number {
  const raw = Number(env.CLAUDEMESH_CONNECT_TIMEOUT_MS);
  return Number.isInteger(raw) && raw > 0 ? raw : HELLO_ACK_TIMEOUT_MS;
}

/**
 * Wraps a socket factory so inbound `push` frames never reach the client. The client would
 * otherwise acknowledge them (SPEC §3 client_ack) and `send`, `peers` or `status` would silently
 * consume messages meant for `inbox`; unacknowledged, they are redelivered on the next connection.
 */
export function ignoringPushes(factory: SocketFactory): SocketFactory {
  return (url, handlers) =>
    factory(url, {
      ...handlers,
      onMessage(text) {
        if (isPushFrame(text)) return;
        handlers.onMessage(text);
      },
    });
}

function isPushFrame(text: string): boolean {
  // Cheap pre-check before parsing: only frames mentioning "push" can be one.
  if (!text.includes('"push"')) return false;
  try {
    return (JSON.parse(text) as { type?: unknown }).type === "push";
  } catch {
    return false;
  }
}

/**
 * Keeps config.json's name for the member equal to the one the broker admitted it under (hello_ack),
 * so `list` and `peers` agree — also for a membership saved before join stored the assigned name.
 */
function rememberAssignedName(env: Env, mesh: MeshEntry, assigned: string | undefined): void {
  if (assigned === undefined || assigned === mesh.displayName) return;
  updateConfig(env, (config) => ({
    ...config,
    meshes: config.meshes.map((m) =>
      m.slug === mesh.slug && m.pubkey === mesh.pubkey ? { ...m, displayName: assigned } : m,
    ),
  }));
}

export interface MemberClientOptions {
  /** Receive (and acknowledge) pushed messages; only `inbox` does. */
  receive?: boolean;
  /** Runs before connect, e.g. to attach listeners for events that fire as soon as the hello is acked. */
  beforeConnect?: (client: BrokerClient) => void;
}

/**
 * Connects as the member `mesh` records, runs `fn`, and always closes (which flushes
 * client_acks). Pushed messages are left for `inbox` unless `options.receive`. A broker that is down fails at once via GET /health — with the client's
 * "cannot reach broker … is `claudemesh broker` running?" — rather than after the connect timeout.
 */
export async function withMemberClient<T>(
  mesh: MeshEntry,
  env: Env,
  io: Io,
  fn: (client: BrokerClient) => Promise<T>,
  options: MemberClientOptions = {},
): Promise<T> {
  const { BrokerClient, getHealth, wsSocketFactory } = await import("@claudemesh/client");
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
    ...(options.receive ? {} : { options: { socketFactory: ignoringPushes(wsSocketFactory) } }),
  });
  // Problems after connect (e.g. an undecryptable push) are reported by the commands themselves;
  // a listener keeps them from being thrown as unhandled 'error' events.
  client.on("error", () => undefined);
  options.beforeConnect?.(client);
  try {
    await client.connect({ timeoutMs });
    rememberAssignedName(env, mesh, client.displayName);
    return await fn(client);
  } finally {
    await client.close();
  }
}
