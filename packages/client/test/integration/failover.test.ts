// Failover behind a load balancer: two broker processes on one PostgreSQL database, clients reaching them through a
// TCP balancer. Broker one goes away — killed with SIGKILL, or stopped with SIGTERM — while it holds leases on
// pushes bob never acknowledged; its peers reconnect through the balancer to broker two and get every acked
// message exactly once and in order; a peer that cannot come back is listed offline.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BrokerClient } from "../../src/broker-client.js";
import type { InboundMessage, SendResult } from "../../src/types.js";
import { ensureBrokerBuilt, spawnBroker, type BrokerProcess } from "../../../broker/test/helpers/process.js";
import { PG_URL, postgresTarget } from "../../../broker/test/helpers/stores.js";
import { clientFor, FAST, meshWith, waitFor } from "../helpers/live.js";
import { startTcpBalancer, type TcpBalancer } from "../helpers/tcp-balancer.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

/**
 * Beats every 200 ms. A 10 min claim lease, so the pushes broker one leased cannot come back by lease
 * expiry within a test — only by a release. Presence staleness (deadAfterMs + 2 × pingIntervalMs = 135 s)
 * stays at its default, so a peer listed offline within a test was marked so by a release too.
 */
const BASE_ENV = {
  CLAUDEMESH_LOG_LEVEL: "info",
  CLAUDEMESH_BROKER_HEARTBEAT_MS: "200",
  CLAUDEMESH_CLAIM_LEASE_MS: "600000",
};

function logged(proc: BrokerProcess, event: string): Array<Record<string, unknown>> {
  return proc.logs
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry.event === event);
}

/** The broker id a process logged at start (`broker.started`). */
function brokerIdOf(proc: BrokerProcess): string {
  const id = logged(proc, "broker.started")[0]?.brokerId;
  if (typeof id !== "string") throw new Error(`no broker.started line in:\n${proc.logs.join("\n")}`);
  return id;
}

/** True once `proc` logged that its heartbeat released the leases of `goneBrokerId`. */
function released(proc: BrokerProcess, goneBrokerId: string): boolean {
  return logged(proc, "broker.gone_released").some(
    (entry) => Array.isArray(entry.brokers) && entry.brokers.includes(goneBrokerId),
  );
}

interface Scene {
  one: BrokerProcess;
  two: BrokerProcess;
  balancer: TcpBalancer;
  alice: BrokerClient;
  bob: BrokerClient;
  carol: BrokerClient;
  bobPubkey: string;
  /** From now on bob's sink accepts what it is given. */
  accept(): void;
  accepted: InboundMessage[];
  refused: Set<string>;
  online(viewer: BrokerClient): Promise<Record<string, boolean>>;
}

/**
 * Two brokers, a balancer in front (broker one first), a mesh of alice, bob and carol. alice and bob go
 * through the balancer; carol connects to broker one directly, so once it is gone she cannot return.
 * bob's sink refuses every message until accept(): broker one pushes them (leasing them to bob's
 * connection) and never sees a client_ack.
 */
async function scene(env: Record<string, string>): Promise<Scene> {
  const store = await postgresTarget();
  cleanups.push(() => store.cleanup());
  const one = await spawnBroker(store.target, { env });
  cleanups.push(() => one.kill());
  const two = await spawnBroker(store.target, { env });
  cleanups.push(() => two.kill());
  const balancer = await startTcpBalancer([one.port, two.port]);
  cleanups.push(() => balancer.close());

  const [aliceId, bobId, carolId] = await meshWith(balancer.url, ["alice", "bob", "carol"]);
  if (!aliceId || !bobId || !carolId) throw new Error("setup");
  let accepting = false;
  const refused = new Set<string>();
  const accepted: InboundMessage[] = [];
  const sink = (message: InboundMessage): void => {
    if (!accepting) {
      refused.add(message.text);
      throw new Error("not yet");
    }
    accepted.push(message);
  };
  const alice = clientFor(balancer.url, aliceId);
  const bob = clientFor(balancer.url, bobId, { ...FAST, inboundSink: sink });
  const carol = clientFor(one.url, carolId);
  for (const client of [alice, bob, carol]) {
    client.on("error", () => undefined); // handoff_failed while bob refuses; reconnect failures for carol
    cleanups.push(() => client.close());
  }
  await Promise.all([alice, bob, carol].map((c) => c.connect({ timeoutMs: 10_000 })));
  return {
    one,
    two,
    balancer,
    alice,
    bob,
    carol,
    bobPubkey: bobId.pubkey,
    accept: () => (accepting = true),
    accepted,
    refused,
    online: async (viewer) =>
      Object.fromEntries((await viewer.listPeers()).map((p) => [p.displayName, p.online])),
  };
}

const BEFORE = 20;
const AFTER = 5;
const TEXTS = Array.from({ length: BEFORE + AFTER }, (_, i) => `msg ${String(i).padStart(2, "0")}`);

/** alice sends BEFORE messages (all acked, all pushed to bob on broker one and left unacknowledged). */
async function sendBefore(s: Scene): Promise<SendResult[]> {
  expect(new Set(s.balancer.routed)).toEqual(new Set([s.one.port])); // everything went to broker one so far
  expect(await s.online(s.alice)).toEqual({ alice: true, bob: true, carol: true });
  const acked: SendResult[] = [];
  for (const text of TEXTS.slice(0, BEFORE)) acked.push(await s.alice.send(s.bobPubkey, text));
  await waitFor(() => s.refused.size === BEFORE, 10_000, "every message pushed to bob on broker one");
  return acked;
}

/** After broker one is gone: the rest is sent, everything reaches bob via broker two, once, in order. */
async function expectFailover(s: Scene, acked: SendResult[]): Promise<void> {
  s.accept();
  // Sent while alice may still be reconnecting: queued by her client, written to broker two after hello_ack.
  const later = TEXTS.slice(BEFORE).map((text) => s.alice.send(s.bobPubkey, text));
  const received = (): string[] => s.accepted.map((m) => m.text);
  await waitFor(() => received().length >= TEXTS.length, 20_000, "every message at bob via broker two").catch(
    () => {
      throw new Error(`bob has ${received().length}/${TEXTS.length}: ${received().join(", ")}`);
    },
  );
  acked.push(...(await Promise.all(later)));
  await new Promise((r) => setTimeout(r, 300)); // room for a wrong redelivery to show up
  // Every message exactly once, in send order, under the messageId its sender was acked with.
  expect(received()).toEqual(TEXTS);
  expect(s.accepted.map((m) => m.messageId)).toEqual(acked.map((a) => a.messageId));
  // Both reconnected through the balancer, which now routes to broker two.
  expect(s.balancer.routed).toContain(s.two.port);
  expect(s.alice.stats.reconnects).toBeGreaterThanOrEqual(1);
  expect(s.bob.stats.reconnects).toBeGreaterThanOrEqual(1);
  // carol's presence row said online on broker one's behalf; broker one going away marked it offline.
  await waitFor(() => !s.carol.isOpen, 5_000, "carol disconnected");
  expect(await s.online(s.alice)).toEqual({ alice: true, bob: true, carol: false });
}

beforeAll(() => {
  ensureBrokerBuilt();
}, 180_000);

describe.skipIf(!PG_URL)("two broker processes on one PostgreSQL behind a load balancer", () => {
  it("SIGKILL: its peers reconnect to the other broker and get every acked message once, in order; its leases come back by the other's heartbeat; a peer that cannot return is listed offline", async () => {
    // A 1 s gone window, so broker two's heartbeat notices the dead broker quickly.
    const s = await scene({ ...BASE_ENV, CLAUDEMESH_BROKER_GONE_AFTER_MS: "1000" });
    const acked = await sendBefore(s);
    await s.one.kill("SIGKILL");
    await expectFailover(s, acked);
    // Broker one's leases came back through broker two's heartbeat (the lease itself lasts 10 min).
    expect(released(s.two, brokerIdOf(s.one))).toBe(true);
  }, 90_000);

  it("SIGTERM: the stopping broker releases its leases and marks its peers offline itself, so clients that reconnect after it has exited get everything from the other broker at once", async () => {
    // A gone window of 10 min: broker two's heartbeat cannot be what brings the leases back.
    const s = await scene({ ...BASE_ENV, CLAUDEMESH_BROKER_GONE_AFTER_MS: "600000" });
    const acked = await sendBefore(s);
    const oneId = brokerIdOf(s.one);
    // The front holds reconnects until broker one has exited, so none reaches broker two before the release.
    s.balancer.hold();
    expect(await s.one.kill("SIGTERM")).toEqual({ code: 0, signal: null });
    s.balancer.resume();
    await expectFailover(s, acked);
    expect(released(s.two, oneId)).toBe(false);
  }, 90_000);
});
