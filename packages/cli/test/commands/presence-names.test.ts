// agents (list, retire), status without argument, held-message reporting in inbox, offline peers and assigned join names, against a real broker on each store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { RunningBroker } from "@claudemesh/broker";
import { BrokerClient, enrollAgent } from "@claudemesh/client";
import { generateKeypair } from "@claudemesh/crypto";
import { acquireAgentIdentity, loadConfig, type MeshEntry } from "../../src/config/index.js";
import { STORE_KINDS, storeTarget, type StoreTarget } from "../../../broker/test/helpers/stores.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, isOneLine, testBrokerOn } from "../helpers/cli.js";
import { setupMesh, type MemberEnv } from "../helpers/mesh.js";

const dirs = tempDirs();

function meshOf(env: MemberEnv): MeshEntry {
  return loadConfig(env).meshes[0]!;
}

/** Enrolls an agent under `mesh`'s member with `keypair` (a fresh one by default); returns its pubkey. */
async function enroll(
  mesh: MeshEntry,
  name: string,
  keypair: { pubkey: string; secretKey: string } = (() => {
    const kp = generateKeypair();
    return { pubkey: kp.publicKey, secretKey: kp.secretKey };
  })(),
): Promise<{ pubkey: string; secretKey: string; memberId: string; displayName: string }> {
  const res = await enrollAgent({
    brokerUrl: mesh.brokerUrl,
    meshId: mesh.meshId,
    parent: { pubkey: mesh.pubkey, secretKey: mesh.secretKey },
    agent: keypair,
    agentName: name,
  });
  return { ...keypair, ...res };
}

describe.each(STORE_KINDS)("agents, status, held messages and names (%s)", (kind) => {
  let store: StoreTarget;
  let broker: RunningBroker;
  let root: string;
  let alice: MemberEnv;
  let bob: MemberEnv;

  beforeAll(async () => {
    root = dirs.make();
    store = await storeTarget(kind);
    broker = await testBrokerOn(store.target);
    const envs = await setupMesh(root, broker.url, "crew", ["alice", "bob"]);
    [alice, bob] = [envs.alice!, envs.bob!];
  });
  afterAll(async () => {
    await broker?.close();
    await store?.cleanup();
    dirs.cleanup();
  });

  it("join - a taken name: prints the name the broker assigned, says so, and list and peers agree", async () => {
    const link = (await cli(["invite", "--mesh", "crew"], alice)).stdout.trim();
    const env = { CLAUDEMESH_CONFIG_DIR: join(root, "bob-laptop"), HOME: root };
    const res = await cli(["join", link, "--name", "bob"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('joined "crew" as "bob-2" (member)');
    expect(res.stdout).toContain('note: the name "bob" is taken in "crew", so the broker named you "bob-2"');
    expect(meshOf(env).displayName).toBe("bob-2");
    const listed = JSON.parse((await cli(["list", "--json"], env)).stdout) as {
      meshes: { displayName: string }[];
    };
    expect(listed.meshes[0]!.displayName).toBe("bob-2");
    const peers = JSON.parse((await cli(["peers", "--json"], env)).stdout) as {
      peers: { displayName: string; self: boolean }[];
    };
    expect(peers.peers.find((p) => p.self)?.displayName).toBe("bob-2");
    // A free name is printed as asked, without a note.
    const fresh = { CLAUDEMESH_CONFIG_DIR: join(root, "zoe"), HOME: root };
    const link2 = (await cli(["invite", "--mesh", "crew"], alice)).stdout.trim();
    const ok = await cli(["join", link2, "--name", "zoe"], fresh);
    expect(ok.stdout).toContain('joined "crew" as "zoe"');
    expect(ok.stdout).not.toContain("note:");
  });

  it("agents - lists this person's agents with presence and last seen, not other people's", async () => {
    const mesh = meshOf(alice);
    const local = acquireAgentIdentity({ env: alice, mesh, cwd: "/w/api" });
    local.release();
    const api = await enroll(mesh, "api", local.keypair);
    const web = await enroll(mesh, "web");
    await enroll(meshOf(bob), "bob-tool");
    const online = new BrokerClient({
      brokerUrl: mesh.brokerUrl,
      meshId: mesh.meshId,
      meshSlug: mesh.slug,
      memberId: web.memberId,
      pubkey: web.pubkey,
      secretKey: web.secretKey,
      displayName: web.displayName,
    });
    online.on("error", () => undefined);
    await online.connect({ timeoutMs: 5_000 });
    try {
      const res = await cli(["agents", "--json"], alice);
      expect(res.code).toBe(0);
      const out = JSON.parse(res.stdout) as { mesh: string; agents: Record<string, unknown>[] };
      expect(out.mesh).toBe("crew");
      const byName = Object.fromEntries(out.agents.map((a) => [a.displayName, a]));
      expect(Object.keys(byName).sort()).toEqual(["api", "web"]);
      expect(Object.keys(out.agents[0]!)).toEqual([
        "displayName",
        "pubkey",
        "online",
        "status",
        "lastSeenAt",
        "summary",
        "onThisMachine",
      ]);
      expect(byName.api).toMatchObject({
        pubkey: api.pubkey,
        online: false,
        status: null,
        onThisMachine: true,
      });
      expect(byName.web).toMatchObject({ online: true, status: "idle", onThisMachine: false });
      const text = await cli(["agents"], alice);
      expect(text.stdout).toMatch(/^AGENT\s+PRESENCE\s+LAST SEEN/);
      expect(text.stdout).toMatch(/api\s+offline\s+never\s+here/);
      expect(text.stdout).toMatch(/web\s+online, idle\s+now\s+elsewhere/);
      // peers: an agent that is not connected reads offline, not idle.
      const peers = await cli(["peers"], bob);
      expect(peers.stdout).toMatch(/\napi\s+agent of alice\s+offline\s/);
    } finally {
      await online.close();
    }
  });

  it("agents retire - revokes one of your agents and deletes its key here; others' agents are not yours", async () => {
    const mesh = meshOf(alice);
    const keyFile = join(alice.CLAUDEMESH_CONFIG_DIR!, "agents", "crew", "api.json");
    expect(existsSync(keyFile)).toBe(true);
    const res = await cli(["agents", "retire", "api"], alice);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /^retired agent "api" \([0-9a-f]{8}\) in "crew": the broker refuses it from now on; deleted its key/,
    );
    expect(existsSync(keyFile)).toBe(false);
    const left = JSON.parse((await cli(["agents", "--json"], alice)).stdout) as {
      agents: { displayName: string }[];
    };
    expect(left.agents.map((a) => a.displayName)).toEqual(["web"]);
    // bob-tool is bob's: alice cannot retire it as hers; bob can.
    const notMine = await cli(["agents", "retire", "bob-tool"], alice);
    expect(notMine.code).toBe(1);
    expect(notMine.stderr).toMatch(/^claudemesh agents retire: no peer "bob-tool" — peers: web/);
    expect(isOneLine(notMine.stderr)).toBe(true);
    const json = await cli(["agents", "retire", "bob-tool", "--json"], bob);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      mesh: "crew",
      retired: { displayName: "bob-tool" },
      keyRemoved: false,
    });
    const none = await cli(["agents", "retire", "x"], bob);
    expect(none.stderr).toContain("you have no agents");
    expect(mesh.slug).toBe("crew");
  });

  it("status - without an argument prints the current status and who set it; --json too", async () => {
    const before = await cli(["status", "--json"], bob);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({
      mesh: "crew",
      displayName: "bob",
      status: "idle",
      held: 0,
    });
    expect((await cli(["status", "dnd"], bob)).code).toBe(0);
    const after = await cli(["status"], bob);
    expect(after.code).toBe(0);
    expect(after.stdout).toBe('status in "crew" for "bob" is dnd (set by hand)\n');
    const asJson = JSON.parse((await cli(["status", "--json"], bob)).stdout) as Record<string, unknown>;
    expect(asJson).toEqual({ mesh: "crew", displayName: "bob", status: "dnd", source: "manual", held: 0 });
    expect((await cli(["status", "idle"], bob)).code).toBe(0);
  });

  it("inbox - says how many messages the status holds back (text and --json), and they come once idle", async () => {
    expect((await cli(["status", "working"], alice)).code).toBe(0);
    const sent = await cli(["send", "alice", "when you are free", "--priority", "next"], bob);
    expect(sent.code).toBe(0);
    const held = await cli(["inbox", "--json"], alice);
    expect(held.code).toBe(0);
    expect(JSON.parse(held.stdout)).toEqual({
      mesh: "crew",
      messages: [],
      held: {
        count: 1,
        status: "working",
        source: "manual",
        notice:
          "1 message held until you are idle (status working, set by hand) — 'claudemesh status idle' releases them",
      },
    });
    const text = await cli(["inbox"], alice);
    expect(text.stdout).toContain('no messages in "crew" ready to show — 1 message held until you are idle');
    const status = await cli(["status"], alice);
    expect(status.stdout).toContain("1 message held until you are idle (status working, set by hand)");
    expect((await cli(["status", "idle"], alice)).code).toBe(0);
    const released = JSON.parse((await cli(["inbox", "--json"], alice)).stdout) as {
      messages: { text: string }[];
      held: { count: number; notice: string | null };
    };
    expect(released.messages.map((m) => m.text)).toEqual(["when you are free"]);
    expect(released.held).toMatchObject({ count: 0, notice: null });
  });
});
