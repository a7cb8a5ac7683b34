// Crash safety (SPEC §3 Delivery guarantees): SIGKILL the broker mid-stream; after a restart every acked message is delivered, exactly once after dedup, in order.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { spawnBroker, ensureBrokerBuilt, type BrokerProcess } from "../helpers/process.js";
import { storeTarget, STORE_KINDS, type StoreTarget } from "../helpers/stores.js";
import { createMeshWithMembers } from "../helpers/identity.js";
import { connectPeer, type TestPeer } from "../helpers/ws-client.js";
import { acksById, autoAckInbox, directSend } from "../helpers/messages.js";

/** Upper bound on sends; the stream normally ends earlier, when the SIGKILL drops the socket. */
const MAX_SENDS = 100_000;
/** Kill once this many acks are in: well inside the stream, so sends are in flight at the kill. */
const KILL_AFTER_ACKS = 600;
/**
 * The sender floods without waiting for acks: past the per-member send rate it would get rate_limited
 * replies and, past the error-reply budget, be closed 1008 — rate limits are not what this test checks.
 */
const UNLIMITED_SENDS = {
  CLAUDEMESH_MEMBER_SENDS_PER_SEC: "1000000",
  CLAUDEMESH_MEMBER_SEND_BURST: "1000000",
  CLAUDEMESH_CONN_FRAMES_PER_SEC: "1000000",
  CLAUDEMESH_CONN_FRAME_BURST: "1000000",
};

describe.each(STORE_KINDS)("crash safety (%s)", (kind) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  beforeAll(() => ensureBrokerBuilt(), 180_000);
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  });

  it("delivers every acked message after SIGKILL and restart, exactly once after dedup, in send order", async () => {
    const store: StoreTarget = await storeTarget(kind);
    cleanups.push(() => store.cleanup());
    const first: BrokerProcess = await spawnBroker(store.target, { env: UNLIMITED_SENDS });
    cleanups.push(() => first.kill());

    const { members } = await createMeshWithMembers(first.url, ["alice", "bob"]);
    const [alice, bob] = members as [(typeof members)[0], (typeof members)[0]];
    const sender: TestPeer = await connectPeer(first.wsUrl, alice);
    cleanups.push(() => sender.close());

    // Stream sends without waiting for acks, paced by the socket's buffer, until the broker dies.
    const texts = new Map<string, string>();
    let sent = 0;
    const killed = (async () => {
      await sender.collect((f) => f.type === "ack", KILL_AFTER_ACKS, 20_000);
      await first.kill("SIGKILL");
    })();
    while (sent < MAX_SENDS && sender.ws.readyState === sender.ws.OPEN) {
      const id = `m${sent}`;
      const text = `message ${sent} from alice`;
      texts.set(id, text);
      sender.send(directSend(alice, bob, id, text));
      sent++;
      if (sender.ws.bufferedAmount > 256 * 1024) await new Promise((r) => setTimeout(r, 1));
      else if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await killed;
    await sender.closed;
    const acked = acksById(sender);
    // Error replies, by code (none expected), so a run that acked too few says why.
    const errors = sender.frames.flatMap((f) => (f.type === "error" ? [f.code] : []));
    console.info(
      `[crash ${kind}] sent ${sent}, acked ${acked.size} before SIGKILL; errors: ${JSON.stringify(errors.slice(0, 5))} (${errors.length})`,
    );
    expect(acked.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    // The kill really landed mid-stream: some sends never got an ack.
    expect(acked.size).toBeLessThan(sent);

    const second = await spawnBroker(store.target, { env: UNLIMITED_SENDS });
    cleanups.push(() => second.kill());
    const receiver = await connectPeer(second.wsUrl, bob);
    cleanups.push(() => receiver.close());
    const reader = autoAckInbox(receiver, bob);
    const expected = [...acked.values()];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !expected.every((a) => reader.inbox().unique.has(a.messageId))) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const inbox = reader.inbox();
    console.info(
      `[crash ${kind}] after restart: ${inbox.unique.size} unique delivered, ${inbox.pushes.length} pushes`,
    );
    expect(inbox.undecryptable).toBe(0);
    const missing = expected.filter((a) => !inbox.unique.has(a.messageId));
    expect(missing.map((a) => a.id)).toEqual([]);
    for (const ack of expected) expect(inbox.unique.get(ack.messageId)).toBe(texts.get(ack.id));

    // Per-sender FIFO: first copies arrive in send order (unacked-but-stored ones may be among them).
    const byMessageId = new Map([...acked.values()].map((a) => [a.messageId, Number(a.id.slice(1))]));
    const order = [...inbox.unique.keys()]
      .map((m) => byMessageId.get(m))
      .filter((n): n is number => n !== undefined);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Exactly once after dedup: no message id appears twice in the deduplicated view by construction,
    // and every delivered message is one alice sent.
    for (const text of inbox.unique.values()) expect(text).toMatch(/^message \d+ from alice$/);
    expect(inbox.unique.size).toBeLessThanOrEqual(sent);
  }, 90_000);
});
