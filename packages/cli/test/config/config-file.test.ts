// config.json: atomic 0600 writes in a 0700 dir, and one-line errors for missing, corrupt and misshapen files.
import { afterEach, describe, expect, it } from "vitest";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { generateKeypair } from "@claudemesh/crypto";
import {
  ConfigError,
  configPaths,
  loadConfig,
  resolveConfigDir,
  saveConfig,
  selectMesh,
  updateConfig,
  upsertMesh,
  writeFileAtomic,
  type Config,
  type MeshEntry,
} from "../../src/config/index.js";
import { tempDirs } from "../helpers/tmp.js";

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function mesh(slug: string): MeshEntry {
  const kp = generateKeypair();
  return {
    meshId: `mesh_${slug}`,
    slug,
    brokerUrl: "http://127.0.0.1:7900",
    memberId: `mem_${slug}`,
    displayName: "alice",
    role: "admin",
    pubkey: kp.publicKey,
    secretKey: kp.secretKey,
    joinedAt: new Date().toISOString(),
  };
}

function envIn(dir: string): Record<string, string> {
  return { CLAUDEMESH_CONFIG_DIR: join(dir, "cfg"), HOME: dir };
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("config dir", () => {
  it("config dir - defaults to ~/.claudemesh and honours CLAUDEMESH_CONFIG_DIR", () => {
    expect(resolveConfigDir({ HOME: "/home/x" })).toBe("/home/x/.claudemesh");
    expect(resolveConfigDir({ HOME: "/home/x", CLAUDEMESH_CONFIG_DIR: "/etc/cm" })).toBe("/etc/cm");
  });

  it("config file - is written with mode 0600 inside a 0700 directory", () => {
    const env = envIn(dirs.make());
    saveConfig(env, { version: 1, meshes: [mesh("alpha")] });
    const { dir, configFile } = configPaths(env);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
  });

  it("config file - a copy readable by others is tightened back to 0600 on load", () => {
    const env = envIn(dirs.make());
    saveConfig(env, { version: 1, meshes: [mesh("alpha")] });
    chmodSync(configPaths(env).configFile, 0o644);
    loadConfig(env);
    expect(statSync(configPaths(env).configFile).mode & 0o777).toBe(0o600);
  });

  it("config dir - an existing lax directory is tightened to 0700", () => {
    const env = envIn(dirs.make());
    const { dir } = configPaths(env);
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    saveConfig(env, { version: 1, meshes: [] });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});

describe("config load/save", () => {
  it("config file - round-trips and leaves no temp files behind", () => {
    const env = envIn(dirs.make());
    const config: Config = { version: 1, meshes: [mesh("alpha"), mesh("beta")] };
    saveConfig(env, config);
    expect(loadConfig(env)).toEqual(config);
    expect(readdirSync(configPaths(env).dir)).toEqual(["config.json"]);
  });

  it("config file - a save replaces the file by rename (old readers keep the old inode)", () => {
    const env = envIn(dirs.make());
    saveConfig(env, { version: 1, meshes: [mesh("alpha")] });
    const before = statSync(configPaths(env).configFile).ino;
    saveConfig(env, { version: 1, meshes: [mesh("beta")] });
    expect(statSync(configPaths(env).configFile).ino).not.toBe(before);
    expect(loadConfig(env).meshes.map((m) => m.slug)).toEqual(["beta"]);
  });

  it("config file - an invalid config is rejected before anything touches the disk", () => {
    const env = envIn(dirs.make());
    saveConfig(env, { version: 1, meshes: [mesh("alpha")] });
    const good = readFileSync(configPaths(env).configFile, "utf8");
    expect(() => saveConfig(env, { version: 1, meshes: [{ ...mesh("beta"), pubkey: "nope" }] })).toThrow();
    expect(readFileSync(configPaths(env).configFile, "utf8")).toBe(good);
  });

  it("atomic write - a failed rename removes its temp file and is reported", () => {
    const dir = dirs.make();
    const target = join(dir, "occupied");
    mkdirSync(join(target, "child"), { recursive: true }); // a non-empty directory cannot be renamed over
    expect(() => writeFileAtomic(target, "data", 0o600)).toThrow();
    expect(readdirSync(dir)).toEqual(["occupied"]);
  });

  it("missing config - is a one-line error naming the path and the command to run", () => {
    const env = envIn(dirs.make());
    const err = thrown(() => loadConfig(env));
    expect(err.code).toBe("config_missing");
    expect(err.message).toContain(configPaths(env).configFile);
    expect(err.message).toContain("claudemesh join");
    expect(err.message).not.toContain("\n");
    expect(loadConfig(env, { missingOk: true })).toEqual({ version: 1, meshes: [] });
  });

  it("corrupt config - invalid JSON is a one-line error naming the path, without the file's contents", () => {
    const env = envIn(dirs.make());
    const secret = "f".repeat(128);
    mkdirSync(configPaths(env).dir, { recursive: true });
    writeFileSync(configPaths(env).configFile, `{"version":1,"meshes":[{"secretKey":"${secret}"`);
    const err = thrown(() => loadConfig(env));
    expect(err.code).toBe("config_corrupt");
    expect(err.message).toContain(configPaths(env).configFile);
    expect(err.message).not.toContain(secret);
    expect(err.message).not.toContain("\n");
    // missingOk does not hide corruption
    expect(thrown(() => loadConfig(env, { missingOk: true })).code).toBe("config_corrupt");
  });

  it("corrupt config - a wrong shape names the field at fault", () => {
    const env = envIn(dirs.make());
    mkdirSync(configPaths(env).dir, { recursive: true });
    const bad = { version: 1, meshes: [{ ...mesh("alpha"), role: "owner" }] };
    writeFileSync(configPaths(env).configFile, JSON.stringify(bad));
    const err = thrown(() => loadConfig(env));
    expect(err.code).toBe("config_invalid");
    expect(err.message).toContain("meshes.0.role");
    expect(err.message).not.toContain(bad.meshes[0]!.secretKey);
  });

  it("corrupt config - a newer version, a non-object and duplicate slugs are rejected", () => {
    const env = envIn(dirs.make());
    mkdirSync(configPaths(env).dir, { recursive: true });
    for (const body of [
      JSON.stringify({ version: 2, meshes: [] }),
      "[]",
      JSON.stringify({ version: 1, meshes: [mesh("alpha"), mesh("alpha")] }),
    ]) {
      writeFileSync(configPaths(env).configFile, body);
      expect(thrown(() => loadConfig(env)).code).toBe("config_invalid");
    }
  });

  it("updateConfig - applies the change, keeps other meshes and releases its lock", () => {
    const env = envIn(dirs.make());
    updateConfig(env, (c) => upsertMesh(c, mesh("alpha")));
    updateConfig(env, (c) => upsertMesh(c, mesh("beta")));
    const replaced = { ...mesh("alpha"), displayName: "bob" };
    updateConfig(env, (c) => upsertMesh(c, replaced));
    const config = loadConfig(env);
    expect(config.meshes.map((m) => m.slug).sort()).toEqual(["alpha", "beta"]);
    expect(config.meshes.find((m) => m.slug === "alpha")?.displayName).toBe("bob");
    expect(existsSync(`${configPaths(env).configFile}.lock`)).toBe(false);
  });
});

describe("selectMesh", () => {
  const env = { CLAUDEMESH_CONFIG_DIR: "/cfg" };
  const one: Config = { version: 1, meshes: [mesh("alpha")] };
  const two: Config = { version: 1, meshes: [mesh("alpha"), mesh("beta")] };

  it("selectMesh - picks the only mesh, or the named one", () => {
    expect(selectMesh(one, undefined, env).slug).toBe("alpha");
    expect(selectMesh(two, "beta", env).slug).toBe("beta");
    expect(selectMesh(two, undefined, { ...env, CLAUDEMESH_MESH: "beta" }).slug).toBe("beta");
  });

  it("selectMesh - none, unknown and ambiguous choices are errors listing what exists", () => {
    expect(thrown(() => selectMesh({ version: 1, meshes: [] }, undefined, env)).code).toBe("no_meshes");
    const unknown = thrown(() => selectMesh(two, "gamma", env));
    expect(unknown.code).toBe("unknown_mesh");
    expect(unknown.message).toContain("alpha, beta");
    const ambiguous = thrown(() => selectMesh(two, undefined, env));
    expect(ambiguous.code).toBe("ambiguous_mesh");
    expect(ambiguous.message).toContain("--mesh");
  });
});
