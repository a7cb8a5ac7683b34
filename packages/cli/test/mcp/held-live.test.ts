// check_messages over a real MeshLink and broker (each store): a hook's `working` holds a `next` message, and the tool says so.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningBroker } from "@claudemesh/broker";
import { postHookStatus, type InboundMessage } from "@claudemesh/client";
import { loadConfig } from "../../src/config/index.js";
import { MeshLink } from "../../src/mcp/link.js";
import { checkMessages } from "../../src/mcp/tools.js";
import { STORE_KINDS, storeTarget, type StoreTarget } from "../../../broker/test/helpers/stores.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, testBrokerOn } from "../helpers/cli.js";
import { setupMesh, type MemberEnv } from "../helpers/mesh.js";

const dirs = tempDirs();
const quiet = { info: () => undefined, warn: () => undefined };

describe.each(STORE_KINDS)("check_messages - held messages (%s)", (kind) => {
  let store: StoreTarget;
  let broker: RunningBroker;
  let alice: MemberEnv;
  let bob: MemberEnv;
  let link: MeshLink;
  const received: InboundMessage[] = [];

  beforeAll(async () => {
    const root = dirs.make();
    store = await storeTarget(kind);
    broker = await testBrokerOn(store.target);
    const envs = await setupMesh(root, broker.url, "held", ["alice", "bob"]);
    [alice, bob] = [envs.alice!, envs.bob!];
    link = new MeshLink({
      env: alice,
      mesh: loadConfig(alice).meshes[0]!,
      requestedName: "api",
      cwd: "/w/api",
      sessionId: undefined,
      channels: [],
      log: quiet,
      onMessage: (m) => void received.push(m),
    });
    await link.start();
  });
  afterAll(async () => {
    await link?.close();
    await broker?.close();
    await store?.cleanup();
    dirs.cleanup();
  });

  it("reports the count, the status and that a hook set it; nothing once idle", async () => {
    const mesh = loadConfig(alice).meshes[0]!;
    const hook = { brokerUrl: mesh.brokerUrl, meshId: mesh.meshId, keypair: link.identity.keypair };
    expect(await postHookStatus({ ...hook, status: "working", cwd: "/w/api", pid: process.pid })).toBe(
      "applied",
    );
    expect((await cli(["send", "api", "later is fine", "--priority", "next"], bob)).code).toBe(0);
    const deps = { links: [link], takeMessages: () => [] };
    expect((await checkMessages(deps)).content[0]!.text).toBe(
      "No new messages.\n\n1 message held until you are idle (status working, set by hook).",
    );
    // A manual idle does not outrank the hook's fresh working (SPEC §3), so the hook's idle releases it.
    expect(await postHookStatus({ ...hook, status: "idle", cwd: "/w/api", pid: process.pid })).toBe(
      "applied",
    );
    let text = "";
    for (let i = 0; i < 50 && (text !== "No new messages." || received.length === 0); i++) {
      text = (await checkMessages(deps)).content[0]!.text;
      if (text !== "No new messages." || received.length === 0) await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toBe("No new messages.");
    expect(received.map((m) => m.text)).toEqual(["later is fine"]);
  });
});
