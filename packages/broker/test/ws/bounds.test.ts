// Per-peer bounds (SPEC §7 revision 2): outbound byte budget (1013), error-reply budgets (1008 rate_limited), channel cap.
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { CLOSE_CODES, type Ack, type Push } from "@claudemesh/protocol";
import type { Member } from "../helpers/identity.js";
import { helloFrame, openSocket, type TestPeer } from "../helpers/ws-client.js";
import { STORE_KINDS } from "../helpers/stores.js";
import { directSend, isPush, listPeers, metric, open, until } from "./support.js";
import { wsSuite } from "./suite.js";

/** ~40 KB of text: its direct send frame is ~53 KB, under the 64 KiB frame cap. */
const BIG_TEXT = "x".repeat(40_000);
/** Upper bound on sends before the overflow must have happened (4 MiB budget plus loopback socket buffers). */
const MAX_SENDS = 1_200;
/**
 * One send in flight at a time: with more, sends committed while the stalled connection is being
 * torn down release its leases through the direct-push orphan path too, and the test would no
 * longer prove that the teardown itself releases them.
 */
const IN_FLIGHT = 1;

describe.each(STORE_KINDS)("per-peer bounds (%s)", (kind) => {
  const suite = wsSuite(kind);
  const raw: TestPeer[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(raw.splice(0).map((p) => p.close()));
  });

  it("closes a recipient that stops reading with 1013 at its outbound budget, releases its leases, loses nothing acked", async () => {
    const { options } = suite.broker.ctx;
    const closes = vi.spyOn(WebSocket.prototype, "close");
    const [alice, bob] = (await suite.mesh("alice", "bob")) as [Member, Member];
    const sender = await suite.connect(alice);
    const stalled = await suite.connect(bob);
    // Bob says hello, then stops reading; a summary every 200 ms keeps him alive (never dead).
    stalled.ws.pause();
    const keepAlive = setInterval(() => stalled.send({ type: "set_summary", summary: "busy" }), 200);
    const overflowsBefore = metric(suite.broker, "connections_closed_total", { reason: "outbound_overflow" });
    const overflowed = () =>
      metric(suite.broker, "connections_closed_total", { reason: "outbound_overflow" }) > overflowsBefore;
    const acked = new Map<string, string>(); // messageId → text
    try {
      let sent = 0;
      while (!overflowed() && sent < MAX_SENDS) {
        const from = sender.frames.length;
        const window = Array.from({ length: IN_FLIGHT }, (_, i) => {
          const text = `${sent + i}:${BIG_TEXT}`;
          return { frame: directSend(alice, bob, text, "now", `big-${sent + i}`), text };
        });
        for (const { frame } of window) sender.send(frame);
        sent += IN_FLIGHT;
        const acks = (await sender.collect(
          (f) => f.type === "ack" && f.id.startsWith("big-"),
          acked.size + IN_FLIGHT,
          20_000,
        )) as Ack[];
        expect(acks).toHaveLength(acked.size + IN_FLIGHT);
        for (const { frame, text } of window) {
          const ack = acks.find((a) => a.id === frame.id);
          if (ack) acked.set(ack.messageId, text);
        }
        expect(sender.frames.slice(from).filter((f) => f.type === "error")).toEqual([]);
      }
    } finally {
      clearInterval(keepAlive);
    }
    expect(overflowed()).toBe(true);
    // The broker's own accounting: the most it ever held queued for one socket stayed within the budget,
    // and the test really filled it (within two frames of the cap).
    const peak = metric(suite.broker, "outbound_buffered_peak_bytes");
    expect(peak).toBeLessThanOrEqual(options.maxOutboundBytes);
    expect(peak).toBeGreaterThan(options.maxOutboundBytes - 2 * options.maxFrameBytes);
    expect(closes.mock.calls.some(([code]) => code === CLOSE_CODES.tryAgainLater)).toBe(true);
    // The stalled socket is torn down (cut shortly after its close frame), its presence unregistered.
    stalled.ws.resume();
    await stalled.closed;
    await until(() => suite.broker.hub.connectionCount() === 1, 5_000, "the stalled connection to go");

    // Its leases were released at once: the next connection gets every acked message (the 30 s
    // claim lease is far longer than this wait), exactly as sent.
    const next = await suite.connect(bob);
    const received = new Map<string, string | null>();
    await until(
      () => {
        for (const push of next.frames.filter(isPush) as Push[]) {
          if (received.has(push.messageId)) continue;
          received.set(push.messageId, open(push, bob));
          next.send({ type: "client_ack", messageIds: [push.messageId] });
        }
        return [...acked.keys()].every((id) => received.has(id));
      },
      20_000,
      "every acked message on the next connection",
    );
    for (const [messageId, text] of acked) expect(received.get(messageId)).toBe(text);
  }, 120_000);

  it("answers a garbage flood before hello at most preHelloErrorReplies times, then closes 1008 rate_limited", async () => {
    const { options } = suite.broker.ctx;
    const flooder = await openSocket(suite.broker.wsUrl);
    raw.push(flooder);
    for (let i = 0; i < 500; i++) flooder.send("x");
    const closed = await flooder.closed;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/^rate_limited/);
    const errors = flooder.frames.filter((f) => f.type === "error");
    expect(errors).toHaveLength(options.preHelloErrorReplies);
    expect(errors.every((f) => f.type === "error" && f.code === "malformed")).toBe(true);
  });

  it("a non-reading socket flooding garbage before hello is closed and holds at most its pre-hello budget", async () => {
    const { options } = suite.broker.ctx;
    const floodsBefore = metric(suite.broker, "connections_closed_total", { reason: "error_flood" });
    const flooder = await openSocket(suite.broker.wsUrl);
    raw.push(flooder);
    flooder.ws.pause();
    for (let i = 0; i < 2_000; i++) flooder.send("x");
    await until(
      () => metric(suite.broker, "connections_closed_total", { reason: "error_flood" }) > floodsBefore,
      5_000,
      "the flood to be closed",
    );
    // Error replies are small: 8 of them stay far below the 16 KiB pre-hello budget.
    expect(options.preHelloErrorReplies * 512).toBeLessThan(options.preHelloOutboundBytes);
    flooder.ws.resume();
    expect((await flooder.closed).code).toBe(CLOSE_CODES.policyViolation);
    expect(flooder.frames.filter((f) => f.type === "error")).toHaveLength(options.preHelloErrorReplies);
  });

  it("rate-limits a garbage flood after hello: at most the error burst is answered, then 1008 rate_limited", async () => {
    const { options } = suite.broker.ctx;
    const [alice] = (await suite.mesh("alice")) as [Member];
    const flooder = await openSocket(suite.broker.wsUrl);
    raw.push(flooder);
    flooder.send(helloFrame(alice));
    await flooder.next("hello_ack");
    const started = Date.now();
    for (let i = 0; i < 3_000; i++) flooder.send("x");
    const closed = await flooder.closed;
    const seconds = (Date.now() - started) / 1000;
    expect(closed.code).toBe(CLOSE_CODES.policyViolation);
    expect(closed.reason).toMatch(/^rate_limited/);
    const errors = flooder.frames.filter((f) => f.type === "error");
    expect(errors.length).toBeGreaterThanOrEqual(options.errorReplyBurst);
    expect(errors.length).toBeLessThanOrEqual(
      options.errorReplyBurst + Math.ceil(options.errorRepliesPerSec * seconds) + 1,
    );
  });

  it("caps channels per member: one join past maxChannelsPerMember gets limit_reached, a leave makes room", async () => {
    const max = suite.broker.ctx.options.maxChannelsPerMember;
    const [alice] = (await suite.mesh("alice")) as [Member];
    const a = await suite.connect(alice);
    for (let i = 0; i <= max; i++) a.send({ type: "join_channel", name: `c${i}` });
    const refused = await a.next("error");
    expect(refused.type === "error" && refused.code).toBe("limit_reached");
    const mine = async () => (await listPeers(a)).find((p) => p.pubkey === alice.pubkey)?.channels ?? [];
    expect((await mine()).length).toBe(max);
    expect(await mine()).not.toContain(`c${max}`);
    a.send({ type: "leave_channel", name: "c0" });
    a.send({ type: "join_channel", name: `c${max}` });
    await until(async () => (await mine()).includes(`c${max}`), 5_000, "the join after a leave");
    expect((await mine()).length).toBe(max);
    expect(a.frames.filter((f) => f.type === "error")).toHaveLength(1);
  });
});
