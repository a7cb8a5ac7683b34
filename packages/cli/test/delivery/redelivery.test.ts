// The record of what reached the agent is durable and complete (SPEC §3): the client's inbound pipeline feeding the delivery ledger, a redelivery long after the first copy and after a restart is never handed on again.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Push } from "@claudemesh/protocol";
import { InboundPipeline } from "../../../client/src/inbound.js";
import { fakeLink, type FakeLink } from "../../../client/test/helpers/fake-link.js";
import { MESH_SLUG, identity, makePush, type Identity } from "../../../client/test/helpers/fixtures.js";
import { DeliveryCoordinator } from "../../src/delivery/coordinator.js";
import { DeliveryLedger } from "../../src/delivery/ledger.js";

let dir: string;
beforeEach(() => {
  // tmpfs when there is one: the ledger fdatasyncs every message, and this test writes 10,000+.
  dir = mkdtempSync(join(existsSync("/dev/shm") ? "/dev/shm" : tmpdir(), "cm-redelivery-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The client's in-memory dedup window (BrokerClient's default dedupMax). */
const WINDOW = 10_000;

/**
 * One "process" of an agent's MCP server: the client's pipeline handing pushes to the ledger-backed
 * coordinator, as packages/cli/src/mcp wires them; `shown` lists what the agent was given.
 */
function agentProcess(ledgerPath: string, self: Identity) {
  const ledger = new DeliveryLedger(ledgerPath);
  const coordinator = new DeliveryCoordinator({ pushRoutes: [], coalesceMs: 0 });
  coordinator.addMailbox({ key: MESH_SLUG, ledger, sendShown: () => undefined });
  const link: FakeLink = fakeLink();
  const pipeline = new InboundPipeline({
    link,
    meshSlug: MESH_SLUG,
    secretKey: self.secretKey,
    sink: (m) => void coordinator.receive(MESH_SLUG, m),
    pushBufferMax: 500,
    dedupMax: WINDOW,
    events: {
      message: () => undefined,
      undecryptable: () => undefined,
      dropped: () => undefined,
      error: () => undefined,
    },
  });
  const shown: string[] = [];
  return {
    pipeline,
    /** The agent's check_messages: whatever is new reaches its context. */
    check(): string[] {
      const taken = coordinator.take("check_messages").map((d) => d.entry.text);
      shown.push(...taken);
      return taken;
    },
    shown,
    async settle(): Promise<void> {
      await pipeline.settled(5_000);
    },
    close(): void {
      coordinator.close();
      ledger.close();
    },
  };
}

describe("durable record of messages given to the agent", () => {
  it("a redelivery after more than the client's dedup window of other messages is not shown again", async () => {
    const self = identity();
    const sender = identity();
    const agent = agentProcess(join(dir, "agent.jsonl"), self);
    const first = makePush(sender, self.pubkey, "the first copy");
    agent.pipeline.onPush(first);
    for (let i = 0; i < WINDOW + 500; i++) agent.pipeline.onPush(makePush(sender, self.pubkey, `other ${i}`));
    await agent.settle();
    expect(agent.check()).toHaveLength(WINDOW + 501);
    // The lease ran out long ago (or a broker crashed): the same message comes back.
    agent.pipeline.onPush(first);
    await agent.settle();
    expect(agent.check()).toEqual([]);
    expect(agent.shown.filter((t) => t === "the first copy")).toHaveLength(1);
    agent.close();
  });

  it("after a restart of the client, a redelivery by id or by (sender, nonce) is not shown again", async () => {
    const self = identity();
    const sender = identity();
    const path = join(dir, "agent.jsonl");
    const before = agentProcess(path, self);
    const pushes: Push[] = [1, 2, 3].map((i) => makePush(sender, self.pubkey, `message ${i}`));
    for (const p of pushes) before.pipeline.onPush(p);
    await before.settle();
    expect(before.check()).toEqual(["message 1", "message 2", "message 3"]);
    before.close();

    const after = agentProcess(path, self);
    after.pipeline.onPush(pushes[0]!); // the same copy again
    after.pipeline.onPush({ ...pushes[1]!, messageId: "msg_restored_under_a_new_id" }); // re-stored copy
    after.pipeline.onPush(makePush(sender, self.pubkey, "message 4"));
    await after.settle();
    expect(after.check()).toEqual(["message 4"]);
    after.close();
  });
});
