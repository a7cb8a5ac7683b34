// A send frame cannot claim another sender: `from`, `senderPubkey`, `senderName` in it are ignored (SPEC §3).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Ack, Push } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import { createMeshWithMembers, type Member } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, open } from "./support.js";

describe.each(STORE_KINDS)("send frame sender fields (%s)", (kind) => {
  let broker: TestBroker;
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

  it("stamps the authenticated sender on the push, whatever sender the frame names", async () => {
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob", "carol"]);
    const [alice, bob, carol] = members as [Member, Member, Member];
    const a = await connectPeer(broker.wsUrl, alice);
    const b = await connectPeer(broker.wsUrl, bob);
    peers.push(a, b);
    const forged = {
      ...directSend(alice, bob, "who sent this?", "now", "x1"),
      from: carol.pubkey,
      senderPubkey: carol.pubkey,
      senderName: "carol",
      senderMemberId: carol.memberId,
    };
    a.send(forged);
    const ack = await a.next<Ack>("ack");
    expect(ack).toMatchObject({ id: "x1" });
    const push = await b.next<Push>("push");
    expect(push).toMatchObject({ messageId: ack.messageId, senderPubkey: alice.pubkey, senderName: "alice" });
    expect(push).not.toHaveProperty("from");
    expect(push).not.toHaveProperty("senderMemberId");
    // It opens with alice's key, as the push says, so the recipient attributes it correctly.
    expect(open(push, bob)).toBe("who sent this?");
  });
});
