// The presence heartbeat at bounded cost per event-loop turn: every online peer written once per tick, in chunks of
// HEARTBEAT_CHUNK rows with other work running between chunks, and never a late heartbeat row over a newer one.
import { describe, expect, it, vi } from "vitest";
import type { BrokerOptions, Logger } from "../../src/context.js";
import { resolveOptions } from "../../src/options.js";
import type { MemberRow, PresenceRow, Store } from "../../src/store/types.js";
import { HEARTBEAT_CHUNK, PresenceBook, type LocalPeer } from "../../src/ws/presence.js";

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function member(i: number): MemberRow {
  return {
    id: `m${i}`,
    meshId: "mesh",
    pubkey: `pk${i}`,
    displayName: `peer-${i}`,
    role: "member",
    parentMemberId: null,
    createdAt: 0,
    revokedAt: null,
  };
}

/** A store that records presence writes; `hold()` makes the next batched write wait until released. */
function recordingStore() {
  const batches: PresenceRow[][] = [];
  const singles: PresenceRow[] = [];
  const log: string[] = [];
  let held: { release: () => void } | null = null;
  let holdNext = false;
  const store = {
    upsertPresences: vi.fn(async (rows: readonly PresenceRow[]) => {
      batches.push([...rows]);
      log.push(`batch ${rows.length}`);
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((resolve) => (held = { release: resolve }));
      }
      return [];
    }),
    upsertPresence: vi.fn(async (row: PresenceRow) => {
      singles.push(row);
      log.push(`single ${row.memberId}`);
    }),
  };
  return {
    store: store as unknown as Store,
    batches,
    singles,
    log,
    hold: () => (holdNext = true),
    release: () => held?.release(),
  };
}

function book(store: Store): PresenceBook {
  const options = resolveOptions({}, {}) as unknown as BrokerOptions;
  return new PresenceBook(
    { store, options, clock: { now: () => Date.now() }, log: silent, brokerId: "b1" },
    { onBecameIdle() {}, onLeft() {}, onTakenOver() {} },
  );
}

function connectAll(presence: PresenceBook, count: number): LocalPeer[] {
  return Array.from({ length: count }, (_, i) => presence.connect(member(i), admittedRow(i)));
}

/** The presence row an admission wrote for peer `i` (a first connection: idle, no summary). */
function admittedRow(i: number): PresenceRow {
  const now = Date.now();
  return {
    memberId: member(i).id,
    presenceId: `b1.p${i}`,
    brokerId: "b1",
    sessionId: `s${i}`,
    pid: i,
    cwd: "/w",
    online: true,
    connectedAt: now,
    lastSeenAt: now,
    disconnectedAt: null,
    status: "idle",
    statusSource: "jsonl",
    statusAt: 0,
    summary: null,
  };
}

describe("presence heartbeat", () => {
  it("writes every online peer exactly once, HEARTBEAT_CHUNK rows per store call, yielding between calls", async () => {
    const rec = recordingStore();
    const presence = book(rec.store);
    const count = 2 * HEARTBEAT_CHUNK + 17;
    connectAll(presence, count);
    // Queued before the heartbeat starts: runs after the first chunk, not after the whole heartbeat.
    setImmediate(() => rec.log.push("other work"));
    await presence.heartbeat();

    expect(rec.batches.map((rows) => rows.length)).toEqual([HEARTBEAT_CHUNK, HEARTBEAT_CHUNK, 17]);
    expect(rec.log.indexOf("other work")).toBe(1);
    const written = rec.batches.flat().map((row) => row.memberId);
    expect(new Set(written).size).toBe(count);
    expect(written.length).toBe(count);
    expect(rec.batches.flat().every((row) => row.online)).toBe(true);
    expect(rec.singles).toEqual([]);
  });

  it("skips a peer that went offline after the tick began: no online row is written after its offline one", async () => {
    const rec = recordingStore();
    const presence = book(rec.store);
    const peers = connectAll(presence, HEARTBEAT_CHUNK + 5);
    const last = peers.at(-1)!;
    // Between the first chunk and the second (which would hold `last`), the peer disconnects.
    setImmediate(() => void presence.disconnect(last));
    await presence.heartbeat();
    await presence.written(last);

    const lastRows = [...rec.batches.flat(), ...rec.singles].filter((row) => row.memberId === last.member.id);
    expect(lastRows.map((row) => row.online)).toEqual([false]);
    expect(rec.batches.flat().length).toBe(HEARTBEAT_CHUNK + 4);
    presence.get(last.member.id)!.graceTimer?.unref();
  });

  it("writes a change made while a heartbeat chunk is in flight after that chunk, never before it", async () => {
    const rec = recordingStore();
    const presence = book(rec.store);
    const [peer] = connectAll(presence, 1) as [LocalPeer];
    rec.hold();
    const beat = presence.heartbeat();
    await vi.waitFor(() => expect(rec.batches.length).toBe(1));

    presence.setSummary(peer, "reviewing the parser");
    const written = presence.written(peer);
    // The heartbeat's row (no summary) is still being written: the newer row must wait for it.
    await new Promise((resolve) => setImmediate(resolve));
    expect(rec.singles).toEqual([]);

    rec.release();
    await beat;
    await written;
    expect(rec.log).toEqual(["batch 1", "single m0"]);
    expect(rec.batches[0]![0]!.summary).toBeNull();
    expect(rec.singles[0]!.summary).toBe("reviewing the parser");
    expect(peer.writing).toBeNull();
  });

  it("leaves out a peer whose own write is running (it stores the latest row anyway)", async () => {
    const rec = recordingStore();
    const presence = book(rec.store);
    const [a, b] = connectAll(presence, 2) as [LocalPeer, LocalPeer];
    const persisting = presence.persist(a);
    await presence.heartbeat();
    await persisting;
    expect(rec.batches.map((rows) => rows.map((row) => row.memberId))).toEqual([[b.member.id]]);
    expect(rec.singles.map((row) => row.memberId)).toEqual([a.member.id]);
  });
});
