// InboundPipeline on its own: dedup by messageId and by (sender, nonce), decryption, the sink hand-off and when client_acks go out.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ClientError } from "../src/errors.js";
import { InboundPipeline, type InboundSink } from "../src/inbound.js";
import type { DroppedNotice, InboundMessage, UndecryptableMessage } from "../src/types.js";
import { fakeLink, type FakeLink } from "./helpers/fake-link.js";
import { MESH_SLUG, identity, makePush, tick, type Identity } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

interface Harness {
  pipeline: InboundPipeline;
  link: FakeLink;
  self: Identity;
  messages: InboundMessage[];
  undecryptable: UndecryptableMessage[];
  dropped: DroppedNotice[];
  errors: ClientError[];
}

function harness(options: { sink?: InboundSink; pushBufferMax?: number; dedupMax?: number } = {}): Harness {
  const self = identity();
  const link = fakeLink();
  const h: Omit<Harness, "pipeline"> = {
    link,
    self,
    messages: [],
    undecryptable: [],
    dropped: [],
    errors: [],
  };
  const pipeline = new InboundPipeline({
    link,
    meshSlug: MESH_SLUG,
    secretKey: self.secretKey,
    sink: options.sink,
    pushBufferMax: options.pushBufferMax ?? 500,
    dedupMax: options.dedupMax ?? 10_000,
    events: {
      message: (m) => h.messages.push(m),
      undecryptable: (n) => h.undecryptable.push(n),
      dropped: (n) => h.dropped.push(n),
      error: (e) => h.errors.push(e),
    },
  });
  return { ...h, pipeline };
}

function ackedIds(link: FakeLink): string[] {
  return link.socket.framesOfType("client_ack").flatMap((f) => f.messageIds as string[]);
}

/** A promise with its resolve/reject exposed, for a sink the test settles by hand. */
function deferred(): { promise: Promise<void>; resolve(): void; reject(err: Error): void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("InboundPipeline without a sink", () => {
  it("decrypts, buffers, emits, then acks", async () => {
    const h = harness();
    const bob = identity();
    const push = makePush(bob, h.self.pubkey, "hi");
    h.pipeline.onPush(push);
    expect(h.messages.map((m) => m.text)).toEqual(["hi"]);
    expect(h.pipeline.buffered).toBe(1);
    await tick();
    expect(ackedIds(h.link)).toEqual([push.messageId]);
    expect(h.pipeline.drain().map((m) => m.messageId)).toEqual([push.messageId]);
  });

  it("drops a copy with a new messageId but the same sender and nonce, and acks it", async () => {
    const h = harness();
    const bob = identity();
    const push = makePush(bob, h.self.pubkey, "once");
    h.pipeline.onPush(push);
    h.pipeline.onPush({ ...push, messageId: "msg_restored_copy" });
    expect(h.messages).toHaveLength(1);
    await tick();
    expect(ackedIds(h.link)).toEqual([push.messageId, "msg_restored_copy"]);
  });

  it("hands on the same nonce from another sender (the key is the pair)", () => {
    const h = harness();
    const bob = identity();
    const carol = identity();
    const push = makePush(bob, h.self.pubkey, "from bob");
    h.pipeline.onPush(push);
    // carol's push reuses bob's nonce value: a different (sender, nonce) pair, so not a duplicate
    const other = makePush(carol, h.self.pubkey, "from carol");
    h.pipeline.onPush({ ...other, nonce: push.nonce });
    expect(h.messages.map((m) => m.messageId)).toEqual([push.messageId]);
    expect(h.undecryptable.map((m) => m.messageId)).toEqual([other.messageId]);
  });

  it("forgets the acks of a dropped connection (the broker redelivers)", async () => {
    const h = harness();
    h.pipeline.onPush(makePush(identity(), h.self.pubkey, "x"));
    h.pipeline.dropped();
    await tick();
    expect(ackedIds(h.link)).toEqual([]);
  });
});

describe("InboundPipeline with a sink", () => {
  it("acks only after the sink's promise resolves, and never buffers or emits", async () => {
    const pending = deferred();
    const received: InboundMessage[] = [];
    const h = harness({
      sink: (m) => {
        received.push(m);
        return pending.promise;
      },
    });
    const push = makePush(identity(), h.self.pubkey, "durable");
    h.pipeline.onPush(push);
    await tick();
    expect(received.map((m) => m.text)).toEqual(["durable"]);
    expect(h.pipeline.handingOff).toBe(1);
    expect(ackedIds(h.link)).toEqual([]);
    pending.resolve();
    await tick();
    expect(ackedIds(h.link)).toEqual([push.messageId]);
    expect(h.messages).toEqual([]);
    expect(h.pipeline.buffered).toBe(0);
    expect(h.pipeline.handingOff).toBe(0);
  });

  it("a rejecting sink leaves the message unacked, reports handoff_failed, and takes the redelivery", async () => {
    let calls = 0;
    const h = harness({
      sink: () => {
        calls += 1;
        if (calls === 1) throw new Error("disk full");
      },
    });
    const push = makePush(identity(), h.self.pubkey, "retry me");
    h.pipeline.onPush(push);
    await tick();
    expect(ackedIds(h.link)).toEqual([]);
    expect(h.errors.map((e) => e.code)).toEqual(["handoff_failed"]);
    expect(h.errors[0]?.message).toMatch(/disk full.*deliver it again/);
    expect(h.errors[0]?.message).not.toContain("retry me");
    h.pipeline.onPush(push); // the broker's redelivery
    await tick();
    expect(calls).toBe(2);
    expect(ackedIds(h.link)).toEqual([push.messageId]);
  });

  it("a rejected hand-off also lets a re-stored copy (same nonce, new id) through", async () => {
    let calls = 0;
    const h = harness({
      sink: async () => {
        calls += 1;
        if (calls === 1) throw new Error("no");
      },
    });
    const push = makePush(identity(), h.self.pubkey, "x");
    h.pipeline.onPush(push);
    await tick();
    h.pipeline.onPush({ ...push, messageId: "msg_copy" });
    await tick();
    expect(calls).toBe(2);
    expect(ackedIds(h.link)).toEqual(["msg_copy"]);
  });

  it("a redelivery that arrives while the sink still writes is acked with it, not before", async () => {
    const pending = deferred();
    let calls = 0;
    const h = harness({
      sink: () => {
        calls += 1;
        return pending.promise;
      },
    });
    const push = makePush(identity(), h.self.pubkey, "x");
    h.pipeline.onPush(push);
    h.pipeline.onPush(push); // same id
    h.pipeline.onPush({ ...push, messageId: "msg_copy" }); // same (sender, nonce)
    await tick();
    expect(calls).toBe(1);
    expect(ackedIds(h.link)).toEqual([]);
    pending.resolve();
    await tick();
    expect(ackedIds(h.link)).toEqual([push.messageId, "msg_copy"]);
  });

  it("a redelivery that arrives while the sink still writes is not acked when the sink fails", async () => {
    const pending = deferred();
    const h = harness({ sink: () => pending.promise });
    const push = makePush(identity(), h.self.pubkey, "x");
    h.pipeline.onPush(push);
    h.pipeline.onPush(push);
    pending.reject(new Error("io"));
    await tick();
    expect(ackedIds(h.link)).toEqual([]);
    expect(h.errors.map((e) => e.code)).toEqual(["handoff_failed"]);
  });

  it("hands messages to the sink one at a time, in arrival order", async () => {
    const order: string[] = [];
    const gates = [deferred(), deferred()];
    let active = 0;
    let maxActive = 0;
    let index = 0;
    const h = harness({
      sink: async (m) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        order.push(m.text);
        const gate = gates[index++];
        if (gate) await gate.promise;
        active -= 1;
      },
    });
    const bob = identity();
    const pushes = ["one", "two", "three"].map((t) => makePush(bob, h.self.pubkey, t));
    for (const p of pushes) h.pipeline.onPush(p);
    await tick();
    expect(order).toEqual(["one"]);
    gates[0]?.resolve();
    await tick();
    expect(order).toEqual(["one", "two"]);
    gates[1]?.resolve();
    await tick();
    expect(order).toEqual(["one", "two", "three"]);
    expect(maxActive).toBe(1);
    expect(ackedIds(h.link)).toEqual(pushes.map((p) => p.messageId));
  });

  it("never passes an undecryptable push to the sink, and acks it", async () => {
    const sink = vi.fn();
    const h = harness({ sink });
    const push = makePush(identity(), identity().pubkey, "for someone else");
    h.pipeline.onPush(push);
    await tick();
    expect(sink).not.toHaveBeenCalled();
    expect(h.undecryptable.map((n) => n.messageId)).toEqual([push.messageId]);
    expect(ackedIds(h.link)).toEqual([push.messageId]);
  });

  it("drops a redelivery of a message the sink already accepted, acking it again", async () => {
    const sink = vi.fn();
    const h = harness({ sink });
    const push = makePush(identity(), h.self.pubkey, "x");
    h.pipeline.onPush(push);
    await tick();
    h.pipeline.onPush(push);
    await tick();
    expect(sink).toHaveBeenCalledTimes(1);
    expect(ackedIds(h.link)).toEqual([push.messageId, push.messageId]);
  });
});
