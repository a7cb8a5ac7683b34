// PresenceSettings on its own: each setter writes its frame then awaits the barrier; the desired state is re-applied on reconnect.
import { describe, expect, it } from "vitest";
import { ClientError } from "../src/errors.js";
import { PresenceSettings } from "../src/presence-settings.js";
import { fakeLink } from "./helpers/fake-link.js";

describe("PresenceSettings", () => {
  it("writes the update, then waits for the barrier; a barrier cut by a drop still resolves", async () => {
    const link = fakeLink();
    let barriers = 0;
    let next: Error | null = null;
    const presence = new PresenceSettings({
      link,
      barrier: () => {
        barriers += 1;
        return next ? Promise.reject(next) : Promise.resolve();
      },
      stopped: () => null,
    });
    await presence.setSummary("reviewing the parser");
    expect(link.socket.framesOfType("set_summary")).toEqual([
      { type: "set_summary", summary: "reviewing the parser" },
    ]);
    expect(barriers).toBe(1);
    next = new ClientError("not_connected", "dropped");
    await expect(presence.setStatus("working", "jsonl")).resolves.toBeUndefined();
    next = new ClientError("malformed", "bad");
    await expect(presence.joinChannel("#backend")).rejects.toMatchObject({ code: "malformed" });
  });

  it("while disconnected resolves without writing, and reapply() writes the desired state", async () => {
    const link = fakeLink(false);
    const presence = new PresenceSettings({ link, barrier: () => Promise.resolve(), stopped: () => null });
    await presence.setSummary("s");
    await presence.setStatus("dnd", "manual");
    await presence.joinChannel("a");
    await presence.joinChannel("b");
    await presence.leaveChannel("#b");
    expect(link.socket.sent).toEqual([]);
    link.authenticated = true;
    presence.reapply();
    expect(link.socket.sent).toEqual([
      { type: "set_summary", summary: "s" },
      { type: "set_status", status: "dnd", source: "manual" },
      { type: "join_channel", name: "a" },
      { type: "leave_channel", name: "b" },
    ]);
  });

  it("after the client stopped, setters reject with the stop reason", async () => {
    const link = fakeLink(false);
    const reason = new ClientError("revoked", "gone", { fatal: true });
    const presence = new PresenceSettings({ link, barrier: () => Promise.resolve(), stopped: () => reason });
    await expect(presence.setSummary("x")).rejects.toBe(reason);
  });
});
