// Errors a new user meets, each a sentence with a next step and the documented exit code; --public-url reaching the invite link.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startBroker, runBrokerProcess, type RunningBroker } from "@claudemesh/broker";
import { base64urlDecodeText, INVITE_PREFIX } from "@claudemesh/protocol";
import { configPaths, loadConfig } from "../../src/config/index.js";
import { memoryIo } from "../../src/cli/io.js";
import { runCli } from "../../src/main.js";
import { choosePublicUrl } from "../../src/commands/broker.js";
import { tempDirs } from "../helpers/tmp.js";
import { cli, isOneLine, testBroker } from "../helpers/cli.js";

const dirs = tempDirs();
let broker: RunningBroker;
let root: string;

beforeAll(async () => {
  root = dirs.make();
  broker = await testBroker(root);
});
afterAll(async () => {
  await broker?.close();
  dirs.cleanup();
});

const cfg = (name: string): Record<string, string> => ({
  CLAUDEMESH_CONFIG_DIR: join(root, name),
  HOME: root,
});
const payloadOf = (link: string): Record<string, unknown> =>
  JSON.parse(base64urlDecodeText(link.trim().slice(INVITE_PREFIX.length))!) as Record<string, unknown>;

describe("mesh create", () => {
  it("mesh create - a config dir that cannot be written fails before the broker is asked (no orphan mesh)", async () => {
    writeFileSync(join(root, "a-file"), "");
    const bad = { CLAUDEMESH_CONFIG_DIR: join(root, "a-file", "cfg"), HOME: root };
    const res = await cli(["mesh", "create", "orphan-check", "--broker", broker.url], bad);
    expect(res.code).toBe(1);
    expect(isOneLine(res.stderr)).toBe(true);
    // A config dir where a write fails (here: the probe's name is taken by a non-empty directory).
    const stuck = cfg("stuck");
    mkdirSync(join(stuck.CLAUDEMESH_CONFIG_DIR!, `.mesh-create-probe-${process.pid}`, "x"), {
      recursive: true,
    });
    const failed = await cli(["mesh", "create", "orphan-check", "--broker", broker.url], stuck);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain("so no mesh was created");
    // The slug is still free on the broker: nothing was created there.
    const ok = await cli(["mesh", "create", "orphan-check", "--broker", broker.url], cfg("writable"));
    expect(ok.stderr.split("\n")[0]).not.toMatch(/^claudemesh mesh create:/);
    expect(ok.code).toBe(0);
  });

  it("mesh create - a missing creation token and a wrong one get different next steps", async () => {
    const guarded = await startBroker({
      host: "127.0.0.1",
      port: 0,
      db: join(dirs.make(), "g.db"),
      logLevel: "silent",
      creationToken: "right-token-123",
    });
    try {
      const missing = await cli(["mesh", "create", "locked", "--broker", guarded.url], cfg("tok1"));
      expect(missing.code).toBe(1);
      expect(isOneLine(missing.stderr)).toBe(true);
      expect(missing.stderr).toContain(
        "requires a mesh-creation token — pass --token T or set CLAUDEMESH_CREATION_TOKEN",
      );
      const wrong = await cli(
        ["mesh", "create", "locked", "--broker", guarded.url, "--token", "wrong-token-123"],
        cfg("tok2"),
      );
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("refused the mesh-creation token given");
      expect(wrong.stderr).not.toContain("wrong-token-123");
      expect(existsSync(configPaths(cfg("tok2")).configFile)).toBe(false);
    } finally {
      await guarded.close();
    }
  });
});

describe("two machines", () => {
  it("broker --public-url - mesh create saves it and invite puts it in the link; join connects through it", async () => {
    const dir = dirs.make();
    const probe = await startBroker({
      host: "127.0.0.1",
      port: 0,
      db: join(dir, "p.db"),
      logLevel: "silent",
    });
    const port = probe.port;
    await probe.close();
    const publicUrl = `http://localhost:${port}`;
    const io = memoryIo();
    const running = runCli(
      ["broker", "--port", String(port), "--public-url", publicUrl, "--db", join(dir, "p.db")],
      { CLAUDEMESH_CONFIG_DIR: join(dir, "broker-cfg"), CLAUDEMESH_LOG_LEVEL: "silent" },
      io,
    );
    try {
      for (let i = 0; i < 500 && io.out.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(io.stdoutText).toContain(`invites will point at ${publicUrl}`);
      const owner = cfg("pub-owner");
      expect(
        (await cli(["mesh", "create", "public", "--broker", `http://127.0.0.1:${port}`], owner)).code,
      ).toBe(0);
      expect(loadConfig(owner).meshes[0]).toMatchObject({ brokerUrl: `http://127.0.0.1:${port}`, publicUrl });
      const invite = await cli(["invite"], owner);
      expect(payloadOf(invite.stdout).broker_url).toBe(publicUrl);
      expect(invite.stderr).toContain("only this machine can reach"); // localhost: the note says how to fix it
      const override = await cli(["invite", "--broker-url", "wss://mesh.example.com"], owner);
      expect(payloadOf(override.stdout).broker_url).toBe("wss://mesh.example.com");
      expect(override.stderr).not.toContain("only this machine");
      const joiner = cfg("pub-joiner");
      expect((await cli(["join", invite.stdout.trim(), "--name", "laptop"], joiner)).code).toBe(0);
      expect(loadConfig(joiner).meshes[0]!.brokerUrl).toBe(publicUrl);
    } finally {
      io.interrupt();
      await running;
    }
  });

  it("broker - the invite URL: --public-url, else CLAUDEMESH_PUBLIC_URL, else the hostname when bound to every interface", () => {
    expect(
      choosePublicUrl("https://a.example", { CLAUDEMESH_PUBLIC_URL: "https://b.example" }, "0.0.0.0", 7900),
    ).toBe("https://a.example");
    expect(
      choosePublicUrl(undefined, { CLAUDEMESH_PUBLIC_URL: "https://b.example" }, "127.0.0.1", 7900),
    ).toBe("https://b.example");
    expect(choosePublicUrl(undefined, {}, "0.0.0.0", 7900)).toMatch(/^http:\/\/[^/]+:7900$/);
    expect(choosePublicUrl(undefined, {}, "0.0.0.0", 0)).toBeUndefined();
    expect(choosePublicUrl(undefined, {}, "127.0.0.1", 7900)).toBeUndefined();
  });
});

describe("broker errors", () => {
  it("broker - a bad environment value or --public-url is a usage error (exit 2) naming it", async () => {
    const env = { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "c") };
    const io = memoryIo();
    expect(await runCli(["broker", "--port", "0"], { ...env, CLAUDEMESH_PING_INTERVAL_MS: "soon" }, io)).toBe(
      2,
    );
    expect(isOneLine(io.stderrText)).toBe(true);
    expect(io.stderrText).toContain("CLAUDEMESH_PING_INTERVAL_MS");
    const bad = memoryIo();
    expect(await runCli(["broker", "--port", "0", "--public-url", "mesh.example.com"], env, bad)).toBe(2);
    expect(bad.stderrText).toContain("must be an http(s):// or ws(s):// URL");
  });

  it("broker - --db in a directory that does not exist is exit 1 with the mkdir to run, and creates nothing", async () => {
    const dir = join(dirs.make(), "no", "such");
    const io = memoryIo();
    expect(await runCli(["broker", "--port", "0", "--db", join(dir, "x.db")], {}, io)).toBe(1);
    expect(isOneLine(io.stderrText)).toBe(true);
    expect(io.stderrText).toContain(`mkdir -p ${dir}`);
    expect(existsSync(dir)).toBe(false);
  });

  it("broker - a port in use names the port and says to pick another with --port", async () => {
    const io = memoryIo();
    const code = await runCli(
      ["broker", "--port", String(broker.port), "--db", join(dirs.make(), "x.db")],
      {},
      io,
    );
    expect(code).toBe(1);
    expect(isOneLine(io.stderrText)).toBe(true);
    expect(io.stderrText).toContain(`port ${broker.port} on 127.0.0.1 is already in use`);
    expect(io.stderrText).toContain("--port 0 picks a free one");
  });

  it("standalone broker process - missing --db directory exits 1 with a sentence, bad env exits 2", async () => {
    const exits: number[] = [];
    const lines: string[] = [];
    const stderr = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => (
      lines.push(String(chunk)),
      true
    )) as typeof process.stderr.write;
    try {
      const io = { stdout: () => undefined, exit: (code: number) => void exits.push(code) };
      const dir = join(dirs.make(), "missing");
      await runBrokerProcess(["--port", "0", "--db", join(dir, "x.db"), "--log-level", "silent"], {}, io);
      await runBrokerProcess(["--port", "0"], { CLAUDEMESH_PING_INTERVAL_MS: "soon" }, io);
    } finally {
      process.stderr.write = stderr;
    }
    expect(exits).toEqual([1, 2]);
    expect(lines.join("")).toContain("mkdir -p");
    expect(lines.join("")).toContain("CLAUDEMESH_PING_INTERVAL_MS");
  });
});

describe("leave", () => {
  it("leave - with several meshes, says to name one as leave's own argument (not --mesh)", async () => {
    const env = cfg("two-meshes");
    for (const slug of ["first-m", "second-m"])
      expect((await cli(["mesh", "create", slug, "--broker", broker.url], env)).code).toBe(0);
    const res = await cli(["leave"], env);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("claudemesh leave SLUG");
    expect(res.stderr).not.toContain("--mesh");
  });
});
