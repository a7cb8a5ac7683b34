// revoke and leave against a real broker on each store (SQLite; PostgreSQL when DATABASE_URL is set), in-process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import type { RunningBroker } from "@claudemesh/broker";
import { enrollAgent, joinMesh } from "@claudemesh/client";
import { generateKeypair } from "@claudemesh/crypto";
import { loadConfig, saveConfig, type MeshEntry } from "../../src/config/index.js";
import { STORE_KINDS, storeTarget, type StoreTarget } from "../../../broker/test/helpers/stores.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, isOneLine, testBrokerOn } from "../helpers/cli.js";
import { setupMesh, type MemberEnv } from "../helpers/mesh.js";

const dirs = tempDirs();

/** Enrolls an agent named `name` under the member of `env` (as a Claude Code session would). */
async function enrollUnder(env: MemberEnv, name: string): Promise<string> {
  const mesh = loadConfig(env).meshes[0]!;
  const agent = generateKeypair();
  await enrollAgent({
    brokerUrl: mesh.brokerUrl,
    meshId: mesh.meshId,
    parent: { pubkey: mesh.pubkey, secretKey: mesh.secretKey },
    agent,
    agentName: name,
  });
  return agent.publicKey;
}

/** The display names `env`'s member sees in `peers --json`. */
async function peerNames(env: MemberEnv): Promise<string[]> {
  const res = await cli(["peers", "--json"], env);
  expect(res.code).toBe(0);
  return (JSON.parse(res.stdout) as { peers: { displayName: string }[] }).peers.map((p) => p.displayName);
}

describe.each(STORE_KINDS)("revoke and leave (%s)", (kind) => {
  let store: StoreTarget;
  let broker: RunningBroker;
  let root: string;
  let envs: Record<string, MemberEnv>;

  beforeAll(async () => {
    root = dirs.make();
    store = await storeTarget(kind);
    broker = await testBrokerOn(store.target);
    envs = await setupMesh(root, broker.url, "life", ["alice", "bob", "carol", "dave", "erin"]);
  });
  afterAll(async () => {
    await broker?.close();
    await store?.cleanup();
    dirs.cleanup();
  });

  it("revoke - a member who is not an admin is refused with what to do, and nothing is revoked", async () => {
    const res = await cli(["revoke", "carol"], envs.bob!);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^claudemesh revoke: only an admin of "life" .* you are a member there/);
    expect(isOneLine(res.stderr)).toBe(true);
    expect(await peerNames(envs.alice!)).toContain("carol");
  });

  it("revoke - an admin revokes a member and its agents; it is gone and cannot connect", async () => {
    const agent = await enrollUnder(envs.carol!, "carol-api");
    const carol = loadConfig(envs.carol!).meshes[0]!;
    const res = await cli(["revoke", "carol", "--json"], envs.alice!);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { mesh: string; revoked: unknown[] };
    expect(out.mesh).toBe("life");
    expect(out.revoked).toEqual(
      expect.arrayContaining([
        { pubkey: carol.pubkey, displayName: "carol", kind: "member" },
        { pubkey: agent, displayName: "carol-api", kind: "agent" },
      ]),
    );
    expect(out.revoked).toHaveLength(2);
    const names = await peerNames(envs.alice!);
    expect(names).not.toContain("carol");
    expect(names).not.toContain("carol-api");
    const refused = await cli(["peers"], envs.carol!);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("revoked");
  });

  it("revoke - the text form names the member and its agents", async () => {
    await enrollUnder(envs.dave!, "dave-web");
    const res = await cli(["revoke", "dave"], envs.alice!);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(
      /^revoked member "dave" \([0-9a-f]{8}\) and 1 agent of it \(dave-web\) from "life"/,
    );
  });

  it("revoke - an unknown peer lists the candidates; yourself points at leave", async () => {
    const unknown = await cli(["revoke", "nobody"], envs.alice!);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^claudemesh revoke: no peer "nobody" — peers: .*bob/);
    expect(isOneLine(unknown.stderr)).toBe(true);
    const self = await cli(["revoke", "alice"], envs.alice!);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain("claudemesh leave");
    const group = await cli(["revoke", "*"], envs.alice!);
    expect(group.code).toBe(2);
  });

  it("leave - the last admin is refused with how to hand over, and keeps the local config", async () => {
    const res = await cli(["leave"], envs.alice!);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("last admin");
    expect(res.stderr).toContain("claudemesh invite --mesh life --role admin");
    expect(isOneLine(res.stderr)).toBe(true);
    expect(loadConfig(envs.alice!).meshes).toHaveLength(1);
  });

  it("leave - revokes this identity on the broker first; the same key's hello and join are then refused", async () => {
    const before = loadConfig(envs.bob!);
    const bob = before.meshes[0]!;
    const res = await cli(["leave"], envs.bob!);
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(
      `revoked "bob" on ${broker.url}: the broker refuses this identity from now on`,
    );
    expect(res.stdout).toContain('left "life"');
    expect(loadConfig(envs.bob!).meshes).toEqual([]);
    expect(await peerNames(envs.alice!)).not.toContain("bob");

    // The same keys again: the hello is refused …
    const stale = { ...envs.bob!, CLAUDEMESH_CONFIG_DIR: join(root, "bob-stale") };
    saveConfig(stale, before);
    const hello = await cli(["peers"], stale);
    expect(hello.code).toBe(1);
    expect(hello.stderr).toContain("revoked");
    // … and so is a rejoin with a fresh invite.
    const link = (await cli(["invite", "--mesh", "life"], envs.alice!)).stdout.trim();
    await expect(
      joinMesh({ link, keypair: { pubkey: bob.pubkey, secretKey: bob.secretKey }, displayName: "bob" }),
    ).rejects.toMatchObject({ code: "revoked" });
  });

  it("leave --local-only - forgets the mesh without telling the broker, and says the key stays valid", async () => {
    const before = loadConfig(envs.erin!);
    const res = await cli(["leave", "--local-only"], envs.erin!);
    expect(res.code).toBe(0);
    expect(res.stderr).toMatch(/warning: the broker was not told .* stays valid on/);
    expect(loadConfig(envs.erin!).meshes).toEqual([]);
    expect(await peerNames(envs.alice!)).toContain("erin");
    // The identity still works on the broker.
    const stale = { ...envs.erin!, CLAUDEMESH_CONFIG_DIR: join(root, "erin-stale") };
    saveConfig(stale, before);
    expect((await cli(["peers"], stale)).code).toBe(0);
  });

  it("leave - an unreachable broker changes nothing and points at --local-only", async () => {
    const mesh: MeshEntry = { ...loadConfig(envs.alice!).meshes[0]!, brokerUrl: "http://127.0.0.1:1" };
    const env = { CLAUDEMESH_CONFIG_DIR: join(root, "offline") };
    saveConfig(env, { version: 1, meshes: [mesh] });
    const res = await cli(["leave"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^claudemesh leave: cannot reach broker at http:\/\/127\.0\.0\.1:1/);
    expect(res.stderr).toContain("--local-only");
    expect(isOneLine(res.stderr)).toBe(true);
    expect(loadConfig(env).meshes).toHaveLength(1);
  });

  it("leave - the only member, an admin, may leave", async () => {
    const env = { CLAUDEMESH_CONFIG_DIR: join(root, "solo"), HOME: root };
    expect((await cli(["mesh", "create", "solo", "--broker", broker.url, "--as", "sam"], env)).code).toBe(0);
    const res = await cli(["leave", "solo"], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('revoked "sam"');
  });
});
