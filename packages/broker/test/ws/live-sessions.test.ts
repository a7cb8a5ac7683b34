// LiveSessions: the live connection per member, and per mesh, kept in step through newest-wins replacement and removal.
import { describe, expect, it } from "vitest";
import { LiveSessions } from "../../src/ws/live-sessions.js";
import type { Session } from "../../src/ws/session.js";

/** Only what the index reads: the authenticated member's mesh. */
function session(meshId: string, tag: string): Session {
  return { me: { meshId }, tag } as unknown as Session;
}

describe("LiveSessions", () => {
  it("indexes each live session under its mesh, follows replacement and removal", () => {
    const live = new LiveSessions();
    const a1 = session("mesh-a", "a1");
    const b1 = session("mesh-b", "b1");
    live.set("m1", a1).set("m2", session("mesh-a", "a2")).set("m3", b1);
    expect([...live.inMesh("mesh-a").keys()].sort()).toEqual(["m1", "m2"]);
    expect([...live.inMesh("mesh-b").keys()]).toEqual(["m3"]);
    expect(live.inMesh("mesh-c").size).toBe(0);
    expect(live.meshIds.has("mesh-b")).toBe(true);

    // Newest wins: the member's newer session replaces the older one in both views.
    const a1b = session("mesh-a", "a1 again");
    live.set("m1", a1b);
    expect(live.get("m1")).toBe(a1b);
    expect(live.inMesh("mesh-a").get("m1")).toBe(a1b);
    expect(live.inMesh("mesh-a").size).toBe(2);

    expect(live.delete("m3")).toBe(true);
    expect(live.delete("m3")).toBe(false);
    expect(live.inMesh("mesh-b").size).toBe(0);
    expect(live.meshIds.has("mesh-b")).toBe(false);
    expect(live.size).toBe(2);

    live.clear();
    expect(live.inMesh("mesh-a").size).toBe(0);
    expect(live.meshIds.has("mesh-a")).toBe(false);
  });
});
