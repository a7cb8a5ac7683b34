// Per-test resources of the ws suites that start their own brokers: peers, brokers and store targets pushed here
// are closed, stopped and cleaned up after each test, in that order.
import { afterEach } from "vitest";
import type { TestBroker } from "./broker.js";
import type { StoreTarget } from "./stores.js";
import type { TestPeer } from "./ws-client.js";

export interface TestResources {
  readonly peers: TestPeer[];
  readonly brokers: TestBroker[];
  readonly stores: StoreTarget[];
}

/** Registers the afterEach hook; call inside the describe block. */
export function trackResources(): TestResources {
  const resources: TestResources = { peers: [], brokers: [], stores: [] };
  afterEach(async () => {
    await Promise.all(resources.peers.splice(0).map((p) => p.close()));
    await Promise.all(resources.brokers.splice(0).map((b) => b.stop()));
    for (const store of resources.stores.splice(0)) await store.cleanup();
  });
  return resources;
}
