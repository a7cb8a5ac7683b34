// mesh create → invite → join → list → leave against a real broker (temp SQLite), in-process.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { RunningBroker } from "@claudemesh/broker";
import { base64urlDecodeText, base64urlEncodeText, INVITE_PREFIX } from "@claudemesh/protocol";
import { loadConfig, acquireAgentIdentity, configPaths, saveConfig } from "../../src/config/index.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, isOneLine, testBroker } from "../helpers/cli.js";

const dirs = tempDirs();
let broker: RunningBroker;
let owner: Record<string, string>;
let joiner: Record<string, string>;

beforeAll(async () => {
  const root = dirs.make();
  broker = await testBroker(root);
  owner = { CLAUDEMESH_CONFIG_DIR: join(root, "owner"), HOME: root };
  joiner = { CLAUDEMESH_CONFIG_DIR: join(root, "joiner"), HOME: root };
});
afterAll(async () => {
  await broker?.close();
  dirs.cleanup();
});

/** Re-encodes an invite link after changing its payload (to forge tampered or expired invites). */
function editInvite(link: string, edit: (payload: Record<string, unknown>) => void): string {
  const payload = JSON.parse(base64urlDecodeText(link.slice(INVITE_PREFIX.length))!) as Record<
    string,
    unknown
  >;
  edit(payload);
  return INVITE_PREFIX + base64urlEncodeText(JSON.stringify(payload));
}

describe("mesh lifecycle", () => {
  let link = "";

  it("mesh create - creates the mesh on the broker and saves an admin membership (0600)", async () => {
    const res = await cli(
      ["mesh", "create", "team", "--broker", broker.url, "--as", "alice", "--name", "The Team"],
      owner,
    );
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('created mesh "team"');
    const [mesh] = loadConfig(owner).meshes;
    expect(mesh).toMatchObject({
      slug: "team",
      name: "The Team",
      displayName: "alice",
      role: "admin",
      brokerUrl: broker.url,
    });
    expect(statSync(configPaths(owner).configFile).mode & 0o777).toBe(0o600);
  });

  it("mesh create - the same slug again is refused locally, a slug taken on the broker remotely", async () => {
    const again = await cli(["mesh", "create", "team", "--broker", broker.url], owner);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already configured");
    const other = { ...owner, CLAUDEMESH_CONFIG_DIR: `${owner.CLAUDEMESH_CONFIG_DIR}-x` };
    const taken = await cli(["mesh", "create", "team", "--broker", broker.url], other);
    expect(taken.code).toBe(1);
    expect(isOneLine(taken.stderr)).toBe(true);
    expect(existsSync(configPaths(other).configFile)).toBe(false);
  });

  it("invite - prints only the ic://join/ link on stdout, details on stderr", async () => {
    const res = await cli(["invite", "--uses", "3", "--expires", "7d"], owner);
    expect(res.code).toBe(0);
    link = res.stdout.trim();
    expect(link.startsWith("ic://join/")).toBe(true);
    expect(res.stdout.split("\n").filter(Boolean)).toHaveLength(1);
    expect(res.stderr).toContain("3 uses");
    const payload = JSON.parse(base64urlDecodeText(link.slice(INVITE_PREFIX.length))!) as Record<
      string,
      unknown
    >;
    expect(payload).toMatchObject({ mesh_slug: "team", role: "member", max_uses: 3, broker_url: broker.url });
    const days = ((payload.expires_at as number) - Date.now() / 1000) / 86_400;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
    expect(JSON.stringify(payload)).not.toContain(loadConfig(owner).meshes[0]!.secretKey);
  });

  it("join - redeems the invite with a new member key", async () => {
    const res = await cli(["join", link, "--name", "bob"], joiner);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('joined "team" as "bob" (member)');
    const [mesh] = loadConfig(joiner).meshes;
    expect(mesh).toMatchObject({ slug: "team", role: "member", displayName: "bob" });
    expect(mesh!.pubkey).not.toBe(loadConfig(owner).meshes[0]!.pubkey);
    const again = await cli(["join", link, "--name", "bob"], joiner);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("already a member");
  });

  it("invite - a member (not admin) cannot invite", async () => {
    const res = await cli(["invite"], joiner);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("not an admin");
  });

  it("join - a tampered invite is a clear one-line error and saves nothing", async () => {
    const fresh = { ...joiner, CLAUDEMESH_CONFIG_DIR: `${joiner.CLAUDEMESH_CONFIG_DIR}-t` };
    const tampered = editInvite(link, (p) => (p.max_uses = 1000));
    const res = await cli(["join", tampered], fresh);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^claudemesh join: .*invalid signature/);
    expect(isOneLine(res.stderr)).toBe(true);
    expect(existsSync(configPaths(fresh).configFile)).toBe(false);
  });

  it("join - an expired invite is a clear one-line error", async () => {
    const fresh = { ...joiner, CLAUDEMESH_CONFIG_DIR: `${joiner.CLAUDEMESH_CONFIG_DIR}-e` };
    const expired = editInvite(link, (p) => (p.expires_at = Math.floor(Date.now() / 1000) - 60));
    const res = await cli(["join", expired], fresh);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^claudemesh join: invite expired/);
    expect(isOneLine(res.stderr)).toBe(true);
  });

  it("join - garbage instead of a link is a clear one-line error", async () => {
    const res = await cli(["join", "https://example.com/not-an-invite"], joiner);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("ic://join/");
    expect(isOneLine(res.stderr)).toBe(true);
  });

  it("list --json - stable shape without secret keys", async () => {
    const res = await cli(["list", "--json"], owner);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { meshes: Record<string, unknown>[] };
    expect(out.meshes).toHaveLength(1);
    expect(Object.keys(out.meshes[0]!)).toEqual([
      "slug",
      "name",
      "meshId",
      "brokerUrl",
      "memberId",
      "displayName",
      "role",
      "pubkey",
      "joinedAt",
      "agents",
    ]);
    expect(res.stdout).not.toContain(loadConfig(owner).meshes[0]!.secretKey);
    const text = await cli(["list"], owner);
    expect(text.stdout).toMatch(/MESH\s+YOU\s+ROLE/);
    expect(text.stdout).toMatch(/team\s+alice\s+admin/);
  });

  it("leave - removes the membership and the mesh's agent keys, saying what it removed", async () => {
    const mesh = loadConfig(joiner).meshes[0]!;
    const agent = acquireAgentIdentity({ env: joiner, mesh, cwd: "/w/api" });
    agent.release();
    const res = await cli(["leave", "team"], joiner);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('left "team"');
    expect(res.stdout).toContain("1 agent key (api)");
    expect(loadConfig(joiner).meshes).toEqual([]);
    expect(existsSync(agent.keyFile)).toBe(false);
    expect(readFileSync(configPaths(joiner).configFile, "utf8")).not.toContain(mesh.secretKey);
    const again = await cli(["leave", "team"], joiner);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no meshes configured");
  });

  it("list - with no config says how to start", async () => {
    const res = await cli(["list"], { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "none") });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("claudemesh join");
    const json = await cli(["list", "--json"], { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "none") });
    expect(JSON.parse(json.stdout)).toEqual({ meshes: [] });
  });
});

describe("creation token", () => {
  it("mesh create - a broker with a creation token refuses without it and accepts --token", async () => {
    const { startBroker } = await import("@claudemesh/broker");
    const root = dirs.make();
    const guarded = await startBroker({
      host: "127.0.0.1",
      port: 0,
      db: join(root, "guarded.db"),
      logLevel: "silent",
      creationToken: "s3cret-token",
    });
    try {
      const env = { CLAUDEMESH_CONFIG_DIR: join(root, "c") };
      const refused = await cli(["mesh", "create", "locked", "--broker", guarded.url], env);
      expect(refused.code).toBe(1);
      expect(isOneLine(refused.stderr)).toBe(true);
      expect(existsSync(configPaths(env).configFile)).toBe(false);
      const ok = await cli(
        ["mesh", "create", "locked", "--broker", guarded.url, "--token", "s3cret-token"],
        env,
      );
      expect(ok.code).toBe(0);
      expect(readFileSync(configPaths(env).configFile, "utf8")).not.toContain("s3cret-token");
    } finally {
      await guarded.close();
    }
  });
});

describe("unreachable broker", () => {
  it("join - an invite whose broker is down is a clear one-line error and saves nothing", async () => {
    const root = dirs.make();
    const admin = { CLAUDEMESH_CONFIG_DIR: join(root, "admin") };
    const [mesh] = loadConfig(owner).meshes;
    saveConfig(admin, { version: 1, meshes: [{ ...mesh!, brokerUrl: "http://127.0.0.1:1" }] });
    const link = (await cli(["invite"], admin)).stdout.trim();
    const env = { CLAUDEMESH_CONFIG_DIR: join(root, "joiner") };
    const res = await cli(["join", link], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^claudemesh join: cannot reach broker at http:\/\/127\.0\.0\.1:1/);
    expect(isOneLine(res.stderr)).toBe(true);
    expect(existsSync(configPaths(env).configFile)).toBe(false);
  });

  it("mesh create - a broker that is down is a clear one-line error", async () => {
    const env = { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "c") };
    const res = await cli(["mesh", "create", "solo", "--broker", "http://127.0.0.1:1"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^claudemesh mesh create: /);
    expect(res.stderr).toContain("127.0.0.1:1");
    expect(isOneLine(res.stderr)).toBe(true);
  });
});
