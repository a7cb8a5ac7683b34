// One broker per ws test suite on a given store, a mesh maker, and peers that are closed after each test.
import { afterAll, afterEach, beforeAll } from "vitest";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import type { StoreKind } from "../helpers/stores.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";

export interface WsSuite {
  readonly broker: TestBroker;
  /** A fresh mesh whose members are `names`, in order. */
  mesh(...names: string[]): Promise<Member[]>;
  /** An authenticated peer for `member`, closed after the test. */
  connect(member: Member): Promise<TestPeer>;
}

/** Registers the suite's hooks; call inside the describe block. */
export function wsSuite(kind: StoreKind): WsSuite {
  let broker: TestBroker | undefined;
  let peers: TestPeer[] = [];
  beforeAll(async () => {
    broker = await startTestBroker({ kind });
  });
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers = [];
  });
  afterAll(async () => {
    await broker?.stop();
  });
  const started = (): TestBroker => {
    if (!broker) throw new Error("wsSuite: the broker is not started yet (use it inside a test)");
    return broker;
  };
  return {
    get broker() {
      return started();
    },
    mesh: async (...names) => (await createMeshWithMembers(started().url, names)).members as Member[],
    connect: async (member) => {
      const peer = await connectPeer(started().wsUrl, member);
      peers.push(peer);
      return peer;
    },
  };
}
