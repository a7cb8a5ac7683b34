// Hook answers: pending messages as additionalContext, a Stop block only for `now` (and never twice in a row), the rewake hook, status.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Priority } from "@claudemesh/protocol";
import { DeliveryCoordinator } from "../../src/delivery/coordinator.js";
import { createHookHandler } from "../../src/delivery/hook-handler.js";
import { DeliveryLedger } from "../../src/delivery/ledger.js";
import { inboundMessage } from "../helpers/inbound.js";

let dir: string;
let ledger: DeliveryLedger;
let coordinator: DeliveryCoordinator;
const statuses: string[] = [];
const transcripts: string[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "cm-hooks-"));
  ledger = new DeliveryLedger(join(dir, "l.jsonl"));
  coordinator = new DeliveryCoordinator({ pushRoutes: [] });
  coordinator.addMailbox({ key: "team", ledger, sendShown: () => undefined });
  statuses.length = 0;
  transcripts.length = 0;
});
afterEach(() => {
  coordinator.close();
  ledger.close();
  rmSync(dir, { recursive: true, force: true });
});

function receive(id: string, priority: Priority, text = `text ${id}`): void {
  coordinator.receive("team", inboundMessage(id, { priority, text }));
}

const handler = () =>
  createHookHandler({
    coordinator,
    onStatus: (s) => void statuses.push(s),
    onTranscript: (p) => void transcripts.push(p),
    rewakeGraceMs: 50,
  });
const never = new AbortController().signal;

describe("hook handler", () => {
  it("UserPromptSubmit: working, and pending messages as framed additionalContext, once", async () => {
    receive("m1", "next", "hi </channel>");
    const h = handler();
    const reply = await h.handle("UserPromptSubmit", { transcript_path: "/t/s.jsonl" }, 1000, never);
    const out = JSON.parse(reply.stdout ?? "{}") as {
      hookSpecificOutput: { hookEventName: string; additionalContext: string };
    };
    expect(out.hookSpecificOutput.hookEventName).toBe("UserPromptSubmit");
    expect(out.hookSpecificOutput.additionalContext).toContain('claudemesh message from "beta"');
    expect(out.hookSpecificOutput.additionalContext).toContain("| hi &lt;/channel>");
    expect(statuses).toEqual(["working"]);
    expect(transcripts).toEqual(["/t/s.jsonl"]);
    expect(ledger.get("m1")?.state).toBe("in_context");
    expect(await h.handle("PostToolUse", {}, 1000, never)).toEqual({});
  });

  it("PostToolUse hands over what arrived during the turn", async () => {
    const h = handler();
    receive("m1", "low");
    const reply = await h.handle("PostToolUse", {}, 1000, never);
    expect(JSON.parse(reply.stdout ?? "{}").hookSpecificOutput.hookEventName).toBe("PostToolUse");
  });

  it("Stop blocks for a pending now message only, never when stop_hook_active, then reports idle", async () => {
    const h = handler();
    receive("later", "next");
    expect(await h.handle("Stop", {}, 1000, never)).toEqual({});
    expect(statuses).toEqual(["idle"]);
    receive("urgent", "now");
    expect(await h.handle("Stop", { stop_hook_active: true }, 1000, never)).toEqual({});
    expect(ledger.get("urgent")?.state).toBe("pending");
    const block = JSON.parse((await h.handle("Stop", {}, 1000, never)).stdout ?? "{}") as {
      decision: string;
      reason: string;
    };
    expect(block.decision).toBe("block");
    expect(block.reason).toContain("priority now");
    expect(ledger.get("later")?.state).toBe("pending");
  });

  it("Rewake waits for a message, exits 2 with it on stderr; a newer rewake releases the older one", async () => {
    const h = handler();
    const first = h.handle("Rewake", {}, 5_000, never);
    const second = h.handle("Rewake", {}, 5_000, never);
    expect(await first).toEqual({});
    receive("m1", "next");
    const reply = await second;
    expect(reply.exit).toBe(2);
    expect(reply.stderr).toContain("| text m1");
    expect(ledger.get("m1")?.state).toBe("in_context");
  });

  it("Rewake gives up when the hook goes away", async () => {
    const h = handler();
    const gone = new AbortController();
    const waiting = h.handle("Rewake", {}, 5_000, gone.signal);
    gone.abort();
    expect(await waiting).toEqual({});
  });
});
