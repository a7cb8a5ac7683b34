// Agent identities: default names from cwd, persisted keys, distinct names for live sessions, stale locks freed.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { publicKeyFromSecretKey } from "@claudemesh/crypto";
import {
  ConfigError,
  acquireAgentIdentity,
  agentKeyPath,
  defaultAgentName,
  listAgentNames,
  loadAgentKey,
  nameWithSuffix,
  removeMeshAgents,
  sanitizeName,
} from "../../src/config/index.js";
import { tempDirs } from "../helpers/tmp.js";

const dirs = tempDirs();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  dirs.cleanup();
});

const mesh = { slug: "team", meshId: "mesh_1" };

function liveOtherProcess(): number {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  children.push(child);
  return child.pid!;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

function env(): Record<string, string> {
  return { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "cfg") };
}

describe("agent names", () => {
  it("names - default is the sanitized basename of the working directory", () => {
    expect(defaultAgentName("/home/me/backend")).toBe("backend");
    expect(defaultAgentName("/home/me/my project!")).toBe("my project");
    expect(defaultAgentName("/home/me/a:b#c")).toBe("a-b-c");
    expect(defaultAgentName("/home/me/.dotfiles")).toBe("dotfiles");
    expect(defaultAgentName("/")).toBe("agent");
    expect(defaultAgentName("/x/日本")).toBe("agent");
    expect(defaultAgentName(`/x/${"a".repeat(100)}`)).toHaveLength(64);
  });

  it("names - sanitized output always passes the protocol's DisplayNameSchema", () => {
    for (const raw of ["#chan", "*", " lead", "trail ", "x\u0000y", "--", "é", "a  b", "@home", "+1"]) {
      expect(sanitizeName(raw)).toMatch(/^[A-Za-z0-9_.@-](?:[A-Za-z0-9 _.@+-]*[A-Za-z0-9_.@+-])?$/);
    }
  });

  it("names - suffixes keep within 64 chars", () => {
    expect(nameWithSuffix("api", 1)).toBe("api");
    expect(nameWithSuffix("api", 2)).toBe("api-2");
    expect(nameWithSuffix("a".repeat(64), 12)).toHaveLength(64);
  });
});

describe("acquireAgentIdentity", () => {
  it("agent identity - creates a consistent key file with mode 0600 and reuses it after release", () => {
    const e = env();
    const first = acquireAgentIdentity({ env: e, mesh, cwd: "/work/backend" });
    expect(first.name).toBe("backend");
    expect(first.created).toBe(true);
    expect(publicKeyFromSecretKey(first.keypair.secretKey)).toBe(first.keypair.pubkey);
    expect(statSync(first.keyFile).mode & 0o777).toBe(0o600);
    first.release();
    const again = acquireAgentIdentity({ env: e, mesh, cwd: "/elsewhere/backend" });
    expect(again.created).toBe(false);
    expect(again.keypair).toEqual(first.keypair);
    again.release();
  });

  it("agent identity - an explicit name wins over the directory and is validated", () => {
    const e = env();
    const id = acquireAgentIdentity({ env: e, mesh, cwd: "/work/backend", requestedName: "reviewer" });
    expect(id.name).toBe("reviewer");
    id.release();
    for (const bad of ["", "mesh:name", "#chan", "*", " padded "]) {
      expect(() => acquireAgentIdentity({ env: e, mesh, cwd: "/w", requestedName: bad })).toThrow(
        ConfigError,
      );
    }
  });

  it("agent identity - two live sessions in one directory get distinct names and keys", () => {
    const e = env();
    const other = liveOtherProcess();
    const a = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api", pid: other });
    const b = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api" });
    const c = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api", pid: liveOtherProcess() });
    expect([a.name, b.name, c.name]).toEqual(["api", "api-2", "api-3"]);
    expect(new Set([a.keypair.pubkey, b.keypair.pubkey, c.keypair.pubkey]).size).toBe(3);
    expect(listAgentNames(e, mesh.slug)).toEqual(["api", "api-2", "api-3"]);
    // after the first session ends, its name (and mailbox key) is free again
    a.release();
    const d = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api", pid: liveOtherProcess() });
    expect(d.name).toBe("api");
    expect(d.keypair).toEqual(a.keypair);
  });

  it("agent identity - the same process asking twice keeps its name", () => {
    const e = env();
    const a = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api" });
    const b = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api" });
    expect(b.name).toBe(a.name);
  });

  it("agent identity - a lock left by a crashed session is taken over", async () => {
    const e = env();
    const crashed = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api", pid: await deadPid() });
    const next = acquireAgentIdentity({ env: e, mesh, cwd: "/work/api" });
    expect(next.name).toBe("api");
    expect(next.keypair).toEqual(crashed.keypair);
  });

  it("agent identity - release does not free a name another live session has since taken", async () => {
    const e = env();
    const ghost = acquireAgentIdentity({ env: e, mesh, cwd: "/w/api", pid: await deadPid() });
    const live = liveOtherProcess();
    acquireAgentIdentity({ env: e, mesh, cwd: "/w/api", pid: live });
    ghost.release();
    expect(acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" }).name).toBe("api-2");
  });

  it("agent identity - a key from an older mesh with the same slug is replaced", () => {
    const e = env();
    const old = acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" });
    old.release();
    const fresh = acquireAgentIdentity({ env: e, mesh: { slug: "team", meshId: "mesh_2" }, cwd: "/w/api" });
    expect(fresh.created).toBe(true);
    expect(fresh.keypair.pubkey).not.toBe(old.keypair.pubkey);
  });

  it("agent identity - saveMemberId persists the enrollment for the next session", () => {
    const e = env();
    const a = acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" });
    expect(a.memberId).toBeUndefined();
    a.saveMemberId("mem_agent");
    expect(a.memberId).toBe("mem_agent");
    a.release();
    expect(acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" }).memberId).toBe("mem_agent");
    expect(loadAgentKey(e, "team", "api")?.memberId).toBe("mem_agent");
  });

  it("agent identity - a corrupt key file is a one-line error naming it", () => {
    const e = env();
    acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" }).release();
    const file = agentKeyPath(e, "team", "api");
    writeFileSync(file, "{not json");
    try {
      acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" });
      expect.unreachable();
    } catch (err) {
      expect((err as ConfigError).code).toBe("config_corrupt");
      expect((err as ConfigError).message).toContain(file);
    }
  });

  it("agent identity - removeMeshAgents deletes every key of the mesh and names them", () => {
    const e = env();
    const a = acquireAgentIdentity({ env: e, mesh, cwd: "/w/api" });
    acquireAgentIdentity({ env: e, mesh, cwd: "/w/web" });
    expect(removeMeshAgents(e, "team")).toEqual(["api", "web"]);
    expect(existsSync(a.keyFile)).toBe(false);
    expect(() => a.release()).not.toThrow();
  });
});
