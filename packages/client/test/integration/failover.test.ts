// Failover behind a load balancer: two broker processes on one PostgreSQL database, clients reaching them through a
// TCP balancer. Broker one is killed with SIGKILL; its peers reconnect through the balancer to broker two, get every
// message that was acked (including pushes broker one had leased and never saw acknowledged, released by broker
// two's heartbeat once broker one's beat is stale), exactly once and in order; a peer that cannot come back is
// listed offline.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { BrokerClient } from "../../src/broker-client.js";
import type { InboundMessage, SendResult } from "../../src/types.js";
import { ensureBrokerBuilt, spawnBroker, type BrokerProcess } from "../../../broker/test/helpers/process.js";
import { PG_URL, postgresTarget } from "../../../broker/test/helpers/stores.js";
import { clientFor, FAST, meshWith, waitFor } from "../helpers/live.js";
import { startTcpBalancer } from "../helpers/tcp-balancer.js";

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
});

/**
 * Beats every 200 ms and a 1 s gone window, so broker two notices the dead broker quickly; a 10 min claim
 * lease, so the pushes broker one leased cannot come back by lease expiry within this test — only by the
 * heartbeat release. Presence staleness (deadAfterMs + 2 × pingIntervalMs = 135 s) stays at its default,
 * so a dead broker's peer listed offline within the test was marked so by the release too.
 */
const BROKER_ENV = {
  CLAUDEMESH_LOG_LEVEL: "info",
  CLAUDEMESH_BROKER_HEARTBEAT_MS: "200",
  CLAUDEMESH_BROKER_GONE_AFTER_MS: "1000",
  CLAUDEMESH_CLAIM_LEASE_MS: "600000",
};

/** The broker id a process logged at start (`broker.started`). */
function brokerIdOf(proc: BrokerProcess): string {
  for (const line of proc.logs) {
    const entry = JSON.parse(line) as { event?: string; brokerId?: string };
    if (entry.event === "broker.started" && entry.brokerId) return entry.brokerId;
  }
  throw new Error(`no broker.started line in:\n${proc.logs.join("\n")}`);
}

/** True once `proc` logged that it released the leases of `goneBrokerId`. */
function released(proc: BrokerProcess, goneBrokerId: string): boolean {
  return proc.logs.some((line) => {
    const entry = JSON.parse(line) as { event?: string; brokers?: string[] };
    return entry.event === "broker.gone_released" && !!entry.brokers?.includes(goneBrokerId);
  });
}

beforeAll(() => {
  ensureBrokerBuilt();
}, 180_000);

describe.skipIf(!PG_URL)("two broker processes on one PostgreSQL behind a load balancer", () => {
  it("after a SIGKILL of one broker its peers reconnect to the other and get every acked message once, in order; its leases come back by heartbeat; a peer that cannot return is listed offline", async () => {
    const store = await postgresTarget();
    cleanups.push(() => store.cleanup());
    const one = await spawnBroker(store.target, { env: BROKER_ENV });
    cleanups.push(() => one.kill());
    const two = await spawnBroker(store.target, { env: BROKER_ENV });
    cleanups.push(() => two.kill());
    const balancer = await startTcpBalancer([one.port, two.port]);
    cleanups.push(() => balancer.close());

    const [aliceId, bobId, carolId] = await meshWith(balancer.url, ["alice", "bob", "carol"]);
    if (!aliceId || !bobId || !carolId) throw new Error("setup");

    // bob's sink refuses every message until the kill: broker one pushes them (leasing them to bob's
    // connection) and never sees a client_ack, so at the kill it holds a lease on each one.
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
    const alice: BrokerClient = clientFor(balancer.url, aliceId);
    const bob: BrokerClient = clientFor(balancer.url, bobId, { ...FAST, inboundSink: sink });
    // carol connects to broker one directly, not through the balancer: after the kill she cannot return.
    const carol: BrokerClient = clientFor(one.url, carolId);
    for (const client of [alice, bob, carol]) {
      client.on("error", () => undefined); // handoff_failed while bob refuses; reconnect failures for carol
      cleanups.push(() => client.close());
    }
    await Promise.all([alice, bob, carol].map((c) => c.connect({ timeoutMs: 10_000 })));
    expect(new Set(balancer.routed)).toEqual(new Set([one.port])); // everything went to broker one so far

    const online = async (viewer: BrokerClient): Promise<Record<string, boolean>> =>
      Object.fromEntries((await viewer.listPeers()).map((p) => [p.displayName, p.online]));
    expect(await online(alice)).toEqual({ alice: true, bob: true, carol: true });

    const BEFORE = 20;
    const AFTER = 5;
    const texts = Array.from({ length: BEFORE + AFTER }, (_, i) => `msg ${String(i).padStart(2, "0")}`);
    const acked: SendResult[] = [];
    for (const text of texts.slice(0, BEFORE)) acked.push(await alice.send(bobId.pubkey, text));
    await waitFor(() => refused.size === BEFORE, 10_000, "every message pushed to bob on broker one");

    await one.kill("SIGKILL");
    accepting = true;
    // Sent while alice is reconnecting: queued by her client, written to broker two after its hello_ack.
    const later = texts.slice(BEFORE).map((text) => alice.send(bobId.pubkey, text));

    const received = (): string[] => accepted.map((m) => m.text);
    await waitFor(
      () => received().length >= texts.length,
      20_000,
      "every message at bob via broker two",
    ).catch(() => {
      throw new Error(
        `bob has ${received().length}/${texts.length}: ${received().join(", ")}; broker two released broker one: ${released(two, brokerIdOf(one))}`,
      );
    });
    acked.push(...(await Promise.all(later)));
    await new Promise((r) => setTimeout(r, 300)); // room for a wrong redelivery to show up

    // Every message exactly once, in send order, under the messageId its sender was acked with.
    expect(received()).toEqual(texts);
    expect(accepted.map((m) => m.messageId)).toEqual(acked.map((a) => a.messageId));
    // Broker one's leases came back through broker two's heartbeat (the lease itself lasts 10 min).
    expect(released(two, brokerIdOf(one))).toBe(true);
    // Both reconnected through the balancer, which now routes to broker two.
    expect(balancer.routed).toContain(two.port);
    expect(alice.stats.reconnects).toBeGreaterThanOrEqual(1);
    expect(bob.stats.reconnects).toBeGreaterThanOrEqual(1);
    // carol's presence row still said online on broker one's behalf; the release marked it offline.
    await waitFor(() => !carol.isOpen, 5_000, "carol disconnected");
    expect(await online(alice)).toEqual({ alice: true, bob: true, carol: false });
  }, 90_000);
});
