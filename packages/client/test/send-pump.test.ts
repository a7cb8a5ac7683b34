// SendPump on its own: one stable send id per message across drops and re-seals, ordering, queue cap, ack routing.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClientError } from "../src/errors.js";
import { groupFrameCap } from "@claudemesh/protocol";
import { SendPump } from "../src/send-pump.js";
import { fakeLink, type FakeLink } from "./helpers/fake-link.js";
import { identity, tick } from "./helpers/fixtures.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function pump(
  link: FakeLink,
  recipients: (targetSpec: string) => Promise<string[]> = () => Promise.resolve([identity().pubkey]),
  options: Partial<ConstructorParameters<typeof SendPump>[0]["options"]> = {},
): SendPump {
  const self = identity();
  return new SendPump({
    link,
    pubkey: self.pubkey,
    secretKey: self.secretKey,
    meshId: "mesh-1",
    recipients,
    options: {
      sendAckTimeoutMs: 10_000,
      outboundQueueMax: 100,
      maxFrameBytes: 65_536,
      maxMismatchRetries: 3,
      ...options,
    },
  });
}

function sends(link: FakeLink): Array<Record<string, unknown>> {
  return link.socket.framesOfType("send");
}

describe("SendPump stable send ids", () => {
  it("writes a direct send again after a drop under the same id, and a second message under another", async () => {
    const link = fakeLink();
    const p = pump(link);
    const bob = identity().pubkey;
    const first = p.send(bob, "lost ack", "next");
    await tick();
    link.authenticated = false;
    p.requeue();
    const second = p.send(bob, "new one", "next");
    link.authenticated = true;
    p.kick();
    await tick();
    const [original, resent, other] = sends(link);
    expect(resent?.id).toBe(original?.id);
    expect(resent?.nonce).toBe(original?.nonce);
    expect(other?.id).not.toBe(original?.id);
    expect(p.onAck({ type: "ack", id: original?.id as string, messageId: "m1", queued: false })).toBe(true);
    expect(p.onAck({ type: "ack", id: other?.id as string, messageId: "m2", queued: true })).toBe(true);
    await expect(first).resolves.toEqual({ messageId: "m1", queued: false });
    await expect(second).resolves.toEqual({ messageId: "m2", queued: true });
  });

  it("keeps the id when it re-seals a fan-out after recipients_mismatch", async () => {
    const link = fakeLink();
    const carol = identity().pubkey;
    const dave = identity().pubkey;
    const p = pump(link, () => Promise.resolve([carol]));
    const sent = p.send("*", "to all", "low");
    await tick();
    const first = sends(link)[0];
    const handled = p.onError({
      type: "error",
      code: "recipients_mismatch",
      message: "recipients changed",
      id: first?.id as string,
      expected: [carol, dave],
    });
    expect(handled).toBe(true);
    await tick();
    const second = sends(link)[1];
    expect(second?.id).toBe(first?.id);
    expect((second?.keys as Array<{ to: string }>).map((e) => e.to).sort()).toEqual([carol, dave].sort());
    p.onAck({ type: "ack", id: second?.id as string, messageId: "m", queued: false });
    await expect(sent).resolves.toEqual({ messageId: "m", queued: false });
  });

  it("gives every message its own id", async () => {
    const link = fakeLink();
    const p = pump(link);
    const bob = identity().pubkey;
    for (let i = 0; i < 20; i += 1) void p.send(bob, `m${i}`, "next").catch(() => undefined);
    await tick();
    expect(new Set(sends(link).map((f) => f.id)).size).toBe(20);
    p.failAll(new ClientError("closed", "test over"));
  });
});

describe("SendPump queue and routing", () => {
  it("writes nothing until the link is authenticated, then in the caller's order", async () => {
    const link = fakeLink(false);
    const p = pump(link);
    const bob = identity().pubkey;
    const a = p.send(bob, "a", "next");
    const b = p.send(bob, "b", "next");
    await tick();
    expect(sends(link)).toEqual([]);
    expect(p.waiting).toBe(2);
    link.authenticated = true;
    p.kick();
    await tick();
    expect(sends(link)).toHaveLength(2);
    expect(p.inflight).toBe(2);
    p.failAll(new ClientError("closed", "bye"));
    await expect(a).rejects.toMatchObject({ code: "closed" });
    await expect(b).rejects.toMatchObject({ code: "closed" });
  });

  it("refuses a send past outboundQueueMax with queue_full naming the link", async () => {
    const link = fakeLink(false);
    const p = pump(link, undefined, { outboundQueueMax: 1 });
    const bob = identity().pubkey;
    const first = p.send(bob, "a", "next");
    await expect(p.send(bob, "b", "next")).rejects.toMatchObject({
      code: "queue_full",
      message: expect.stringMatching(/ECONNREFUSED/),
    });
    p.failAll(new ClientError("closed", "bye"));
    await expect(first).rejects.toMatchObject({ code: "closed" });
  });

  it("answers false for acks and errors of ids it does not know", () => {
    const p = pump(fakeLink());
    expect(p.onAck({ type: "ack", id: "nope", messageId: "m", queued: false })).toBe(false);
    expect(p.onError({ type: "error", code: "internal", message: "x", id: "nope" })).toBe(false);
  });

  it("rejects a refused send with the wire code and does not retry it", async () => {
    const link = fakeLink();
    const p = pump(link);
    const sent = p.send(identity().pubkey, "x", "next");
    await tick();
    const frame = sends(link)[0];
    p.onError({ type: "error", code: "unknown_target", message: "no such peer", id: frame?.id as string });
    await expect(sent).rejects.toMatchObject({ code: "unknown_target" });
    await tick();
    expect(sends(link)).toHaveLength(1);
  });
});

describe("SendPump group frames", () => {
  it("a 48 KB broadcast to 1,000 recipients is one frame within the group frame cap", async () => {
    const link = fakeLink();
    const recipients = Array.from({ length: 1_000 }, () => identity().pubkey);
    const p = pump(link, () => Promise.resolve(recipients));
    const sent = p.send("*", "y".repeat(48_000), "next");
    await tick();
    const frame = sends(link)[0];
    expect((frame?.keys as unknown[]).length).toBe(1_000);
    const bytes = Buffer.byteLength(JSON.stringify(frame));
    expect(bytes).toBeGreaterThan(65_536);
    expect(bytes).toBeLessThanOrEqual(groupFrameCap(1_000));
    p.onAck({ type: "ack", id: frame?.id as string, messageId: "mb", queued: false });
    await expect(sent).resolves.toEqual({ messageId: "mb", queued: false });
  });

  it("refuses with too_large a group frame over its cap instead of writing it", async () => {
    const link = fakeLink();
    const p = pump(link, () => Promise.resolve([identity().pubkey, identity().pubkey]));
    const sent = p.send("#ops", "z".repeat(60_000), "next").catch((e: unknown) => e);
    await tick();
    expect(sends(link)).toHaveLength(0);
    expect(await sent).toMatchObject({ code: "too_large", message: expect.stringMatching(/2 recipients/) });
  });
});
