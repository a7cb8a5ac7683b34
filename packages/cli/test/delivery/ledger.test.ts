// DeliveryLedger: durable, duplicate-proof record of each inbound message's way into the model's context.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeliveryLedger, type ReceivedMessage } from "../../src/delivery/ledger.js";
import { inboundMessage } from "../helpers/inbound.js";

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cm-ledger-"));
  path = join(dir, "inbox", "agent.jsonl");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const message = (id: string, extra: Partial<ReceivedMessage> = {}): ReceivedMessage =>
  inboundMessage(id, { text: `secret text ${id}`, ...extra });

describe("DeliveryLedger", () => {
  it("stores a message durably in a 0600 file before receive returns", () => {
    const ledger = new DeliveryLedger(path);
    expect(ledger.receive(message("m1"))).toBe("new");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).toContain('"messageId":"m1"');
    ledger.close();
    const again = new DeliveryLedger(path);
    expect(again.get("m1")?.state).toBe("pending");
    expect(again.get("m1")?.text).toBe("secret text m1");
    again.close();
  });

  it("refuses duplicates by messageId and by (sender, nonce), also after a reopen", () => {
    const ledger = new DeliveryLedger(path);
    ledger.receive(message("m1"));
    expect(ledger.receive(message("m1"))).toBe("duplicate");
    expect(ledger.receive(message("m2", { nonce: "nonce-m1" }))).toBe("duplicate");
    // The same nonce from another sender is another message.
    expect(ledger.receive(message("m3", { nonce: "nonce-m1", fromPubkey: "c".repeat(64) }))).toBe("new");
    ledger.close();
    const again = new DeliveryLedger(path);
    expect(again.receive(message("m1"))).toBe("duplicate");
    expect(again.receive(message("m9", { nonce: "nonce-m1" }))).toBe("duplicate");
    again.close();
  });

  it("in_context is final: no later transition moves it back", () => {
    const ledger = new DeliveryLedger(path);
    ledger.receive(message("m1"));
    expect(ledger.transition(["m1"], "offered", { route: "inbox-socket", offerId: "o1" })).toHaveLength(1);
    expect(ledger.byOffer("o1").map((e) => e.messageId)).toEqual(["m1"]);
    expect(ledger.transition(["m1"], "in_context", { route: "inbox-socket" })).toHaveLength(1);
    expect(ledger.transition(["m1"], "pending")).toHaveLength(0);
    expect(ledger.transition(["m1"], "in_context", { route: "hook" })).toHaveLength(0);
    expect(ledger.get("m1")?.route).toBe("inbox-socket");
    ledger.close();
    const again = new DeliveryLedger(path);
    expect(again.get("m1")?.state).toBe("in_context");
    expect(again.unreceipted().map((e) => e.messageId)).toEqual(["m1"]);
    again.close();
  });

  it("a torn last line (crash mid-append) loses nothing before it", () => {
    const ledger = new DeliveryLedger(path);
    ledger.receive(message("m1"));
    ledger.close();
    appendFileSync(path, '{"op":"add","m":{"messageId":"m2"');
    const again = new DeliveryLedger(path);
    expect(again.get("m1")?.state).toBe("pending");
    expect(again.get("m2")).toBeUndefined();
    expect(again.receive(message("m2"))).toBe("new");
    again.close();
  });

  it("finished entries keep no plaintext on disk after compaction, and expire after rememberMs", () => {
    let now = 1_000_000;
    const ledger = new DeliveryLedger(path, { rememberMs: 10_000, now: () => now });
    ledger.receive(message("m1"));
    ledger.transition(["m1"], "in_context", { route: "hook" });
    ledger.markShownSent(["m1"]);
    ledger.close();
    const reopened = new DeliveryLedger(path, { rememberMs: 10_000, now: () => now });
    expect(readFileSync(path, "utf8")).not.toContain("secret text");
    expect(reopened.receive(message("m1"))).toBe("duplicate");
    reopened.close();
    now += 20_000;
    const later = new DeliveryLedger(path, { rememberMs: 10_000, now: () => now });
    expect(later.get("m1")).toBeUndefined();
    later.close();
  });

  it("keeps every finished entry as a tombstone for the retention window (no count cap; >10k: redelivery.test.ts)", () => {
    let now = 0;
    const ledger = new DeliveryLedger(path, { now: () => ++now });
    const ids = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const id of ids) ledger.receive(message(id));
    ledger.transition(ids, "in_context", { route: "check_messages" });
    ledger.markShownSent(ids);
    ledger.close();
    const again = new DeliveryLedger(path, { now: () => ++now });
    expect(again.receive(message("m0"))).toBe("duplicate");
    expect(again.receive(message("other", { nonce: "nonce-m1" }))).toBe("duplicate");
    expect(again.get("m0")?.text).toBe(""); // a tombstone: no plaintext kept
    again.close();
  });

  it("a pending message keeps its text across compactions", () => {
    const ledger = new DeliveryLedger(path);
    ledger.receive(message("m1"));
    for (let i = 0; i < 1_100; i++) ledger.markShownSent(["nope"]);
    for (let i = 0; i < 600; i++) {
      ledger.transition(["m1"], i % 2 === 0 ? "offered" : "pending", { offerId: `o${i}` });
    }
    ledger.close();
    const again = new DeliveryLedger(path);
    expect(again.get("m1")?.text).toBe("secret text m1");
    expect(readFileSync(path, "utf8").split("\n").length).toBeLessThan(1_100);
    again.close();
  });
});
