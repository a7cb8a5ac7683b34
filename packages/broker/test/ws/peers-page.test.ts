// list_peers pages (claudemesh extension, docs/PROTOCOL.md): limit/after/next, join order, the
// default bound, pages that neither skip nor repeat while members join, and malformed requests.
import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_PEERS_PAGE, MAX_PEERS_PAGE, type Peer, type ServerFrame } from "@claudemesh/protocol";
import { startTestBroker, type TestBroker } from "../helpers/broker.js";
import {
  createMeshWithMembers,
  enrollAgent,
  joinMesh,
  makeIdentity,
  makeInvite,
  type Member,
} from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { listPeers, rawStore } from "./support.js";

type PeersFrame = Extract<ServerFrame, { type: "peers" }>;

describe.each(STORE_KINDS)("list_peers pages (%s)", (kind) => {
  let broker: TestBroker | undefined;
  let peers: TestPeer[] = [];
  afterEach(async () => {
    await Promise.all(peers.map((p) => p.close()));
    peers = [];
    await broker?.stop();
    broker = undefined;
  });

  let seq = 0;
  async function page(peer: TestPeer, fields: Record<string, unknown>): Promise<ServerFrame> {
    const id = `pg${++seq}`;
    const from = peer.frames.length;
    peer.send({ type: "list_peers", id, ...fields });
    return peer.next((f) => (f.type === "peers" || f.type === "error") && f.id === id, { from });
  }
  async function pageOk(peer: TestPeer, fields: Record<string, unknown>): Promise<PeersFrame> {
    const frame = await page(peer, fields);
    if (frame.type !== "peers") throw new Error(`expected peers, got ${JSON.stringify(frame)}`);
    return frame;
  }

  it("pages through every peer in join order, agents with their parent, and the last page has no next", async () => {
    broker = await startTestBroker({ kind });
    const names = Array.from({ length: 11 }, (_, i) => `p${i}`);
    const { mesh, members } = await createMeshWithMembers(broker.url, names);
    const agent = await enrollAgent(broker.url, members[1]!, makeIdentity("p1-agent"));
    const owner = await connectPeer(broker.wsUrl, members[0]!);
    peers.push(owner);
    const seen: Peer[] = [];
    let after: string | undefined;
    let pages = 0;
    // 12 peers in pages of 5, with two more members joining after the first page.
    for (;;) {
      const frame = await pageOk(owner, after === undefined ? { limit: 5 } : { limit: 5, after });
      expect(frame.peers.length).toBeLessThanOrEqual(5);
      seen.push(...frame.peers);
      pages++;
      if (pages === 1) {
        for (const name of ["late1", "late2"])
          await joinMesh(broker.url, makeInvite(mesh, mesh.owner), makeIdentity(name));
      }
      if (frame.next === undefined) break;
      expect(frame.peers.length).toBe(5);
      after = frame.next;
      expect(pages).toBeLessThan(10);
    }
    const pubkeys = seen.map((p) => p.pubkey);
    expect(new Set(pubkeys).size).toBe(pubkeys.length);
    // Everyone once; the late joiners (created after the first page was read) come last.
    expect(seen.map((p) => p.displayName).sort()).toEqual([...names, "p1-agent", "late1", "late2"].sort());
    expect(
      seen
        .slice(-2)
        .map((p) => p.displayName)
        .sort(),
    ).toEqual(["late1", "late2"]);
    expect(pages).toBe(3);
    expect(seen.find((p) => p.pubkey === agent.pubkey)?.parent).toBe(members[1]!.pubkey);
    // The agent's parent is on another page than a page of one would put it: still named.
    const agentIndex = seen.findIndex((p) => p.pubkey === agent.pubkey);
    const single = await pageOk(owner, { limit: 1, after: seen[agentIndex - 1]!.memberId });
    expect(single.peers.map((p) => [p.pubkey, p.parent])).toEqual([[agent.pubkey, members[1]!.pubkey]]);
    expect(single.next).toBe(agent.memberId);
    // Without limit the whole (small) mesh fits the default page, in the same (join) order.
    const all = await listPeers(owner);
    expect(all.map((p) => p.pubkey)).toEqual(pubkeys);
  });

  it(`without a limit a reply holds at most ${DEFAULT_PEERS_PAGE} peers and says where the rest starts`, async () => {
    broker = await startTestBroker({ kind });
    const { members } = await createMeshWithMembers(broker.url, ["owner"]);
    const owner = members[0]!;
    const extra = DEFAULT_PEERS_PAGE + 5;
    const rows = Array.from({ length: extra }, (_, i) => ({
      sql: `INSERT INTO members (id, mesh_id, pubkey, display_name, name_key, role, created_at)
            VALUES (?, ?, ?, ?, ?, 'member', ?)`,
      params: [
        `mem_${randomUUID()}`,
        owner.meshId,
        randomBytes(32).toString("hex"),
        `m${i}`,
        `m${i}`,
        Date.now() + i,
      ],
    }));
    await rawStore(broker.store, rows);
    const peer = await connectPeer(broker.wsUrl, owner);
    peers.push(peer);
    const first = await pageOk(peer, {});
    expect(first.peers).toHaveLength(DEFAULT_PEERS_PAGE);
    expect(first.next).toBe(first.peers[DEFAULT_PEERS_PAGE - 1]!.memberId);
    const rest = await pageOk(peer, { limit: MAX_PEERS_PAGE, after: first.next });
    expect(rest.next).toBeUndefined();
    expect(first.peers.length + rest.peers.length).toBe(extra + 1);
  });

  it("refuses a bad limit or after as malformed, naming the field, and answers the next good request", async () => {
    broker = await startTestBroker({ kind });
    const { members } = await createMeshWithMembers(broker.url, ["alice", "bob"]);
    const other = await createMeshWithMembers(broker.url, ["carol"]);
    const alice = await connectPeer(broker.wsUrl, members[0] as Member);
    peers.push(alice);
    const bad: Array<[Record<string, unknown>, RegExp]> = [
      [{ limit: 0 }, /limit: must be at least 1/],
      [{ limit: MAX_PEERS_PAGE + 1 }, /limit: must be at most 1000/],
      [{ limit: 2.5 }, /limit: must be a whole number/],
      [{ limit: "5" }, /limit:/],
      [{ after: "not an id!" }, /after: must be an opaque id/],
      [{ after: `mem_${randomUUID()}` }, /after: .* is not a member of this mesh/],
      // A member of another mesh is no cursor here either.
      [{ after: other.members[0]!.memberId }, /after: .* is not a member of this mesh/],
    ];
    for (const [fields, message] of bad) {
      const frame = await page(alice, fields);
      expect(frame).toMatchObject({ type: "error", code: "malformed" });
      expect(frame.type === "error" && frame.message).toMatch(message);
    }
    const ok = await pageOk(alice, { limit: 1 });
    expect(ok.peers.map((p) => p.pubkey)).toEqual([members[0]!.pubkey]);
    expect(ok.next).toBe(members[0]!.memberId);
  });
});
