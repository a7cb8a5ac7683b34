// Across processes: concurrent config updates lose nothing, and sessions starting together get distinct agent names.
import { afterEach, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/index.js";
import { tempDirs } from "../helpers/tmp.js";

const DIST_CONFIG = fileURLToPath(new URL("../../dist/config/index.js", import.meta.url));
const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/** Runs `body` (an ES module snippet with `cfg` = the built config module) in a fresh node process. */
function runNode(body: string, env: Record<string, string>): Promise<string> {
  const script = `const cfg = await import(${JSON.stringify(DIST_CONFIG)});\n${body}`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", script],
      { env: { ...env, PATH: process.env.PATH ?? "" }, timeout: 30_000 },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

describe("config across processes", () => {
  it("config - 6 processes adding meshes at once: all 6 are kept", async () => {
    expect(existsSync(DIST_CONFIG), "run npm run build first").toBe(true);
    const env = { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "cfg") };
    const key = "a".repeat(64);
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        runNode(
          `cfg.updateConfig(process.env, (c) => cfg.upsertMesh(c, { meshId: "m${i}", slug: "mesh-${i}", brokerUrl: "http://127.0.0.1:1",
             memberId: "u${i}", displayName: "p${i}", role: "member", pubkey: "${key}", secretKey: "${key}${key}", joinedAt: "t" }));`,
          env,
        ),
      ),
    );
    expect(
      loadConfig(env)
        .meshes.map((m) => m.slug)
        .sort(),
    ).toEqual(["mesh-0", "mesh-1", "mesh-2", "mesh-3", "mesh-4", "mesh-5"]);
  });

  it("agents - 4 sessions in one directory starting together get 4 distinct names and keys", async () => {
    const env = { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "cfg") };
    // Each process holds its name for a moment, as a running session would.
    const outputs = await Promise.all(
      Array.from({ length: 4 }, () =>
        runNode(
          `const id = cfg.acquireAgentIdentity({ env: process.env, mesh: { slug: "team", meshId: "m1" }, cwd: "/work/api" });
           console.log(JSON.stringify({ name: id.name, pubkey: id.keypair.pubkey }));
           await new Promise((r) => setTimeout(r, 2000));`,
          env,
        ),
      ),
    );
    const ids = outputs.map((o) => JSON.parse(o) as { name: string; pubkey: string });
    expect(ids.map((i) => i.name).sort()).toEqual(["api", "api-2", "api-3", "api-4"]);
    expect(new Set(ids.map((i) => i.pubkey)).size).toBe(4);
  });
});
