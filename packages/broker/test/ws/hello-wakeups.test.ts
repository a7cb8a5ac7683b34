// A hello whose admission found an empty mailbox skips its first drain round and receipt pull; a
// message or receipt that arrives while the admission is in the store must still reach it.
import { describe, expect, it } from "vitest";
import type { Ack, Push, ReceiptPush, ServerFrame } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer } from "../helpers/ws-client.js";
import { trackResources } from "../helpers/resources.js";
import { PG_URL, STORE_KINDS } from "../helpers/stores.js";
import { openStore } from "../../src/store/index.js";
import { message } from "../store/fixtures.js";
import { directSend, open } from "./support.js";

const isReceipt = (f: ServerFrame): f is ReceiptPush => f.type === "receipt";

/** The next admission answers only after `during` ran (its store work is already done by then). */
function holdNextAdmission(br: TestBroker, during: () => Promise<void>): void {
  const store = br.ctx.store;
  const real = store.admitHello.bind(store);
  store.admitHello = async (input) => {
    store.admitHello = real;
    const result = await real(input);
    await during();
    return result;
  };
}

describe.each(STORE_KINDS)("wake-ups during a hello's admission (%s)", (kind) => {
  const { brokers, peers } = trackResources();

  it("a message sent after the admission's read is pushed to the new connection", async () => {
    const broker = await startTestBroker({ kind });
    brokers.push(broker);
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connectPeer(broker.wsUrl, alice);
    peers.push(a);
    holdNextAdmission(broker, async () => {
      a.send(directSend(alice, bob, "while bob says hello"));
      await a.next<Ack>("ack");
    });
    const b = await connectPeer(broker.wsUrl, bob);
    peers.push(b);
    expect(open(await b.next<Push>("push"), bob)).toBe("while bob says hello");
  });

  it("a receipt recorded after the admission's read is pushed to the new connection", async () => {
    const broker = await startTestBroker({ kind });
    brokers.push(broker);
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    const a = await connectPeer(broker.wsUrl, alice);
    const b = await connectPeer(broker.wsUrl, bob);
    peers.push(b);
    a.send(directSend(alice, bob, "ack me later"));
    const ack = await a.next<Ack>("ack");
    const push = await b.next<Push>("push");
    await a.close();
    holdNextAdmission(broker, async () => {
      b.send({ type: "client_ack", messageIds: [push.messageId] });
      const store = broker.ctx.store;
      for (let i = 0; i < 200 && (await store.countPending(bob.memberId)) > 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
    });
    const again = await connectPeer(broker.wsUrl, alice);
    peers.push(again);
    const receipt = await again.next<ReceiptPush>(isReceipt);
    expect(receipt).toMatchObject({ messageId: ack.messageId, state: "delivered" });
  });
});

// The race the read after the commit covers: a send on another broker commits after the admission's
// snapshot, and its wake-up goes to the brokers its own snapshot saw holding the recipient — none.
describe.skipIf(!PG_URL)("a hello on PostgreSQL reads its mailbox once more after its commit", () => {
  const { brokers, peers } = trackResources();

  it("a message stored after the admission's read that woke nobody is pushed to the new connection", async () => {
    const broker = await startTestBroker({ kind: "postgres" });
    brokers.push(broker);
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob"]);
    const [alice, bob] = members as [Member, Member];
    // Another broker's store, attached under this broker's id: its sends notify no broker of that id,
    // as a send whose snapshot saw bob online nowhere notifies nobody.
    const elsewhere = openStore(broker.store.target);
    elsewhere.attachBroker(broker.ctx.brokerId);
    try {
      const late = message(alice.meshId, alice.memberId, [bob.memberId], { createdAt: Date.now() });
      holdNextAdmission(broker, async () => {
        await elsewhere.enqueueMessages([late]);
      });
      const b = await connectPeer(broker.wsUrl, bob);
      peers.push(b);
      expect((await b.next<Push>("push", { timeoutMs: 3_000 })).messageId).toBe(late.messageId);
    } finally {
      await elsewhere.close();
    }
  });
});
