// DeliveryCoordinator: exactly once into the context across push and pull routes, restarts and redeliveries.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Priority } from "@claudemesh/protocol";
import { DeliveryLedger, type ReceivedMessage } from "../../src/delivery/ledger.js";
import { inboundMessage } from "../helpers/inbound.js";
import {
  DeliveryCoordinator,
  type Delivery,
  type Mailbox,
  type OfferResult,
  type PushRoute,
} from "../../src/delivery/coordinator.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cm-coord-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const message = (id: string, priority: Priority = "next"): ReceivedMessage =>
  inboundMessage(id, { priority });

class FakeRoute implements PushRoute {
  readonly name = "inbox-socket" as const;
  up = true;
  offers: { ids: string[]; priority: Priority }[] = [];
  next: OfferResult[] = [];
  available(): boolean {
    return this.up;
  }
  offer(batch: readonly Delivery[], priority: Priority): Promise<OfferResult> {
    this.offers.push({ ids: batch.map((d) => d.entry.messageId), priority });
    return Promise.resolve(
      this.next.shift() ?? { kind: "offered", offerId: `offer-${this.offers.length}`, count: batch.length },
    );
  }
}

function setup(route: FakeRoute, ledgerPath = join(dir, "a.jsonl")) {
  const shown: string[] = [];
  const ledger = new DeliveryLedger(ledgerPath);
  const mailbox: Mailbox = { key: "team", ledger, sendShown: (ids) => shown.push(...ids) };
  const coordinator = new DeliveryCoordinator({ pushRoutes: [route], coalesceMs: 5 });
  coordinator.addMailbox(mailbox);
  return { coordinator, ledger, shown };
}

const tick = (ms = 30): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("DeliveryCoordinator", () => {
  it("offers on the push route, and only the confirmation puts it in context with a shown receipt", async () => {
    const route = new FakeRoute();
    const { coordinator, ledger, shown } = setup(route);
    coordinator.receive("team", message("m1"));
    await tick();
    expect(route.offers).toEqual([{ ids: ["m1"], priority: "next" }]);
    expect(ledger.get("m1")?.state).toBe("offered");
    expect(shown).toEqual([]);
    // While offered, pull routes must not hand it out a second time.
    expect(coordinator.take("check_messages")).toEqual([]);
    expect(coordinator.confirmOffer("offer-1").map((d) => d.entry.messageId)).toEqual(["m1"]);
    expect(ledger.get("m1")?.state).toBe("in_context");
    expect(shown).toEqual(["m1"]);
    expect(coordinator.confirmOffer("offer-1")).toEqual([]);
    coordinator.close();
  });

  it("coalesces a burst into one offer at the most urgent priority", async () => {
    const route = new FakeRoute();
    const { coordinator } = setup(route);
    coordinator.receive("team", message("a", "low"));
    coordinator.receive("team", message("b", "now"));
    coordinator.receive("team", message("c", "next"));
    await tick();
    expect(route.offers).toEqual([{ ids: ["a", "b", "c"], priority: "now" }]);
    coordinator.close();
  });

  it("a duplicate (redelivery) is neither stored nor offered again", async () => {
    const route = new FakeRoute();
    const { coordinator } = setup(route);
    expect(coordinator.receive("team", message("m1"))).toBe(true);
    await tick();
    expect(coordinator.receive("team", message("m1"))).toBe(false);
    await tick();
    expect(route.offers).toHaveLength(1);
    coordinator.close();
  });

  it("with no push route available, hooks and check_messages take each message once", async () => {
    const route = new FakeRoute();
    route.up = false;
    const { coordinator, shown } = setup(route);
    coordinator.receive("team", message("m1", "now"));
    coordinator.receive("team", message("m2", "next"));
    await tick();
    expect(route.offers).toEqual([]);
    expect(coordinator.take("hook", (e) => e.priority === "now").map((d) => d.entry.messageId)).toEqual([
      "m1",
    ]);
    expect(coordinator.take("check_messages").map((d) => d.entry.messageId)).toEqual(["m2"]);
    expect(coordinator.take("hook")).toEqual([]);
    expect(shown).toEqual(["m1", "m2"]);
    coordinator.close();
  });

  it("a refused or dropped offer goes back to pending for the other routes; a held one does not", async () => {
    const route = new FakeRoute();
    const { coordinator, ledger } = setup(route);
    coordinator.receive("team", message("m1"));
    await tick();
    route.up = false;
    coordinator.offerStatus("offer-1", "pending", "dropped: rate limit");
    expect(coordinator.take("hook").map((d) => d.entry.messageId)).toEqual(["m1"]);
    route.up = true;
    coordinator.receive("team", message("m2"));
    await tick();
    coordinator.offerStatus("offer-2", "held", "inbound policy hold");
    expect(ledger.get("m2")?.state).toBe("held");
    expect(coordinator.take("check_messages")).toEqual([]);
    // Released by its user: confirmed like any offer.
    coordinator.offerStatus("offer-2", "offered", "delivered");
    expect(coordinator.confirmOffer("offer-2").map((d) => d.entry.messageId)).toEqual(["m2"]);
    coordinator.close();
  });

  it("'later' retries with everything pending by then", async () => {
    const route = new FakeRoute();
    route.next = [{ kind: "later", retryInMs: 40 }];
    const { coordinator } = setup(route);
    coordinator.receive("team", message("m1"));
    await tick(15);
    coordinator.receive("team", message("m2"));
    await tick(80);
    expect(route.offers.map((o) => o.ids)).toEqual([["m1"], ["m1", "m2"]]);
    coordinator.close();
  });

  it("after a restart, unsent receipts go out and pending messages are offered again; in-context ones never", async () => {
    const route = new FakeRoute();
    route.up = false;
    const path = join(dir, "restart.jsonl");
    const first = setup(route, path);
    first.coordinator.receive("team", message("m1"));
    first.coordinator.receive("team", message("m2"));
    first.ledger.transition(["m2"], "in_context", { route: "hook" });
    first.coordinator.close();
    first.ledger.close();
    route.up = true;
    const second = setup(route, path);
    await tick();
    expect(second.shown).toEqual(["m2"]);
    expect(route.offers.map((o) => o.ids)).toEqual([["m1"]]);
    expect(second.coordinator.receive("team", message("m2"))).toBe(false);
    second.coordinator.close();
  });

  it("a shown receipt that could not be handed over (no connection yet) goes out on resendReceipts, once", async () => {
    const route = new FakeRoute();
    route.up = false;
    const ledger = new DeliveryLedger(join(dir, "r.jsonl"));
    const shown: string[] = [];
    let connected = false;
    const coordinator = new DeliveryCoordinator({ pushRoutes: [route], coalesceMs: 5 });
    coordinator.addMailbox({
      key: "team",
      ledger,
      sendShown: (ids) => {
        if (!connected) throw new Error("not connected yet");
        shown.push(...ids);
      },
    });
    coordinator.receive("team", message("m1"));
    coordinator.take("check_messages");
    expect(ledger.unreceipted().map((e) => e.messageId)).toEqual(["m1"]);
    connected = true;
    coordinator.resendReceipts();
    coordinator.resendReceipts();
    expect(shown).toEqual(["m1"]);
    coordinator.close();
    ledger.close();
  });

  it("offers to a session that is gone go back to pending; offers to the current one stay", async () => {
    const route = new FakeRoute();
    route.next = [
      { kind: "offered", offerId: "old", count: 1, target: "/s/old.sock" },
      { kind: "offered", offerId: "cur", count: 1, target: "/s/cur.sock" },
    ];
    const { coordinator, ledger } = setup(route);
    coordinator.receive("team", message("m1"));
    await tick();
    coordinator.receive("team", message("m2"));
    await tick();
    expect(ledger.get("m1")?.offerTarget).toBe("/s/old.sock");
    route.up = false;
    expect(coordinator.reclaimOffers("/s/cur.sock")).toBe(1);
    expect(ledger.get("m1")?.state).toBe("pending");
    expect(ledger.get("m2")?.state).toBe("offered");
    coordinator.close();
  });

  it("waitForPending leaves a fresh message to the push route and takes it only after the grace", async () => {
    const route = new FakeRoute();
    route.up = false;
    const { coordinator } = setup(route);
    const abort = new AbortController();
    const waiting = coordinator.waitForPending(5_000, 150, abort.signal);
    coordinator.receive("team", message("m1"));
    await tick(60);
    expect(coordinator.inState("pending")).toHaveLength(1);
    const taken = await waiting;
    expect(taken.map((d) => d.entry.messageId)).toEqual(["m1"]);
    const none = await coordinator.waitForPending(5_000, 10, AbortSignal.abort());
    expect(none).toEqual([]);
    coordinator.close();
  });
});

describe("confirmedOfferIds", () => {
  it("reads our msg_id from a peer user turn and from a mid-turn attachment, nothing else", async () => {
    const { confirmedOfferIds } = await import("../../src/delivery/session-delivery.js");
    const lines = [
      JSON.stringify({ type: "user", origin: { kind: "peer", msg_id: "a" } }),
      JSON.stringify({ type: "attachment", attachment: { origin: { kind: "peer", msg_id: "b" } } }),
      JSON.stringify({ type: "user", origin: { kind: "human", msg_id: "c" } }),
      JSON.stringify({ type: "assistant", origin: { kind: "peer", msg_id: "d" } }),
      JSON.stringify({ type: "queue-operation", content: '"msg_id"' }),
      '{"msg_id": broken',
    ];
    expect(confirmedOfferIds(lines)).toEqual(["a", "b"]);
  });
});

describe("confirmedInTranscripts", () => {
  it("finds offers an earlier session took in any transcript of the project, and nothing else", async () => {
    const { confirmedInTranscripts } = await import("../../src/delivery/session-delivery.js");
    const { writeFileSync } = await import("node:fs");
    const project = join(dir, "project");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(project);
    writeFileSync(
      join(project, "old-session.jsonl"),
      [
        JSON.stringify({ type: "queue-operation", content: "offer-a" }),
        JSON.stringify({ type: "user", origin: { kind: "peer", msg_id: "offer-a" } }),
        JSON.stringify({ type: "user", origin: { kind: "peer", msg_id: "unrelated" } }),
      ].join("\n"),
    );
    writeFileSync(
      join(project, "notes.txt"),
      JSON.stringify({ type: "user", origin: { kind: "peer", msg_id: "offer-b" } }),
    );
    expect(confirmedInTranscripts(project, new Set(["offer-a", "offer-b"]))).toEqual(["offer-a"]);
    expect(confirmedInTranscripts(join(dir, "missing"), new Set(["offer-a"]))).toEqual([]);
    expect(confirmedInTranscripts(project, new Set())).toEqual([]);
  });
});
