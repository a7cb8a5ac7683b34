// Broker restart mid-conversation (same SQLite file, same port): queued sends go out after reconnect, nothing lost or shown twice.
import { afterEach, describe, expect, it } from "vitest";
import type { BrokerClient } from "../../src/broker-client.js";
import type { ConnectionState } from "../../src/types.js";
import { clientFor, collect, meshWith, startTestBroker, waitFor, type TestBroker } from "../helpers/live.js";
import { STORE_KINDS, type StoreTarget } from "../../../broker/test/helpers/stores.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

describe.each(STORE_KINDS)("broker restart with the %s store", (kind) => {
  it("survives a broker restart: queued sends delivered once, in order, after reconnect", async () => {
    const first: TestBroker = await startTestBroker({ kind });
    const store: StoreTarget = first.store;
    cleanups.push(() => store.cleanup());
    let current: TestBroker = first;
    cleanups.push(() => current.close());

    const [alice, bob] = await meshWith(first.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const a: BrokerClient = clientFor(first.url, alice);
    const b: BrokerClient = clientFor(first.url, bob);
    cleanups.push(
      () => a.close(),
      () => b.close(),
    );
    const atA = collect(a);
    const atB = collect(b);
    const aStates: ConnectionState[] = [];
    a.on("state", (s) => aStates.push(s));
    await a.connect({ timeoutMs: 5_000 });
    await b.connect({ timeoutMs: 5_000 });

    for (const text of ["before 1", "before 2", "before 3"]) await a.send(bob.pubkey, text);
    await b.send(alice.pubkey, "reply before");
    await waitFor(() => atB.length === 3 && atA.length === 1, 5_000, "pre-restart delivery");

    // Stop the broker (sockets closed with 1001); the clients start reconnecting.
    await first.close();
    await waitFor(
      () => a.state === "reconnecting" && b.state === "reconnecting",
      5_000,
      "clients notice the drop",
    );

    const during = ["during 1", "during 2", "during 3", "during 4", "during 5"].map((text) =>
      a.send(bob.pubkey, text),
    );
    const replyDuring = b.send(alice.pubkey, "reply during");
    expect(a.stats.queued).toBe(5);
    await new Promise((r) => setTimeout(r, 300)); // a few failed reconnect attempts while it is down

    current = await startTestBroker({ store, port: first.port });
    const acks = await Promise.all(during);
    await replyDuring;
    expect(new Set(acks.map((x) => x.messageId)).size).toBe(5);

    await waitFor(() => atB.length === 8 && atA.length === 2, 10_000, "post-restart delivery");
    await new Promise((r) => setTimeout(r, 300)); // room for any (wrong) duplicate to show up
    expect(atB.map((m) => m.text)).toEqual([
      "before 1",
      "before 2",
      "before 3",
      "during 1",
      "during 2",
      "during 3",
      "during 4",
      "during 5",
    ]);
    expect(new Set(atB.map((m) => m.messageId)).size).toBe(8);
    expect(atA.map((m) => m.text)).toEqual(["reply before", "reply during"]);
    expect(aStates).toEqual(expect.arrayContaining(["open", "reconnecting"]));
    expect(a.state).toBe("open");
    expect(a.stats.reconnects).toBe(1);
    expect(a.stats.queued).toBe(0);
  });
});
