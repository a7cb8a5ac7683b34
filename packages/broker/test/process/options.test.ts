// options - defaults from SPEC §7, env overrides, precedence and validation errors.
import { describe, expect, it } from "vitest";
import { HELLO_SKEW_MS, MAX_FRAME_BYTES, MAX_HTTP_BODY_BYTES, DEFAULT_PORT } from "@claudemesh/protocol";
import { NUMERIC_OPTIONS, OptionsError, defaultDbPath, resolveOptions } from "../../src/options.js";
import { parseBrokerArgs } from "../../src/main.js";

describe("options - resolveOptions", () => {
  it("uses the SPEC §7 defaults and the config-dir SQLite file when nothing is given", () => {
    const o = resolveOptions({}, { CLAUDEMESH_CONFIG_DIR: "/tmp/cm-conf" });
    expect(o.port).toBe(DEFAULT_PORT);
    expect(o.host).toBe("127.0.0.1");
    expect(o.helloSkewMs).toBe(HELLO_SKEW_MS);
    expect(o.maxFrameBytes).toBe(MAX_FRAME_BYTES);
    expect(o.maxHttpBodyBytes).toBe(MAX_HTTP_BODY_BYTES);
    expect(o.pingIntervalMs).toBe(30_000);
    expect(o.deadAfterMs).toBe(75_000);
    expect(o.presenceGraceMs).toBe(90_000);
    expect(o.claimLeaseMs).toBe(30_000);
    expect(o.retentionMs).toBe(7 * 24 * 3600 * 1000);
    expect(o.maxConnectionsPerMesh).toBe(1_000);
    expect(o.db).toBe("/tmp/cm-conf/broker.db");
    expect(o.creationToken).toBeNull();
    expect(o.logLevel).toBe("info");
  });

  it("reads env overrides (port, db, token, any numeric option)", () => {
    const o = resolveOptions(
      {},
      {
        CLAUDEMESH_PORT: "8123",
        DATABASE_URL: "postgres://x@127.0.0.1/db",
        CLAUDEMESH_CREATION_TOKEN: "s3cret-token",
        CLAUDEMESH_CLAIM_LEASE_MS: "5000",
        CLAUDEMESH_LOG_LEVEL: "warn",
      },
    );
    expect(o).toMatchObject({
      port: 8123,
      db: "postgres://x@127.0.0.1/db",
      creationToken: "s3cret-token",
      claimLeaseMs: 5000,
      logLevel: "warn",
    });
  });

  it("explicit options beat env, and CLAUDEMESH_DB beats DATABASE_URL", () => {
    const env = { CLAUDEMESH_PORT: "8123", CLAUDEMESH_DB: "/a.db", DATABASE_URL: "postgres://b" };
    expect(resolveOptions({}, env).db).toBe("/a.db");
    expect(resolveOptions({ port: 9000, db: "/c.db" }, env)).toMatchObject({ port: 9000, db: "/c.db" });
  });

  it("allows port 0 (ephemeral)", () => {
    expect(resolveOptions({ port: 0 }, {}).port).toBe(0);
  });

  it.each([
    [{ port: 70000 }, {}, /port \(option\) must be between 0 and 65535/],
    [{ port: -1 }, {}, /port/],
    [{ port: 1.5 }, {}, /port \(option\) must be an integer/],
    [{}, { CLAUDEMESH_PORT: "abc" }, /port \(env CLAUDEMESH_PORT\) must be an integer/],
    [{}, { CLAUDEMESH_MAX_FRAME_BYTES: "10" }, /maxFrameBytes .* between 1024/],
    [{ deadAfterMs: 1000, pingIntervalMs: 1000 }, {}, /deadAfterMs .* greater than pingIntervalMs/],
    [{ host: "" }, {}, /host must be/],
    [{}, { CLAUDEMESH_LOG_LEVEL: "loud" }, /logLevel must be one of/],
    [{ creationToken: "short" }, {}, /creationToken must be at least 8/],
  ] as const)("rejects %j / %j with a clear OptionsError", (partial, env, message) => {
    expect(() => resolveOptions(partial as never, env)).toThrow(OptionsError);
    expect(() => resolveOptions(partial as never, env)).toThrow(message);
  });

  it("never echoes the creation token in its error", () => {
    try {
      resolveOptions({ creationToken: "abc" }, {});
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain("abc");
    }
  });

  it("has an env name and a default inside its own range for every numeric option", () => {
    for (const [key, spec] of Object.entries(NUMERIC_OPTIONS)) {
      expect(spec.env, key).toMatch(/^CLAUDEMESH_[A-Z_]+$/);
      expect(spec.default, key).toBeGreaterThanOrEqual(spec.min);
      expect(spec.default, key).toBeLessThanOrEqual(spec.max);
    }
    expect(defaultDbPath({ CLAUDEMESH_CONFIG_DIR: "/x" })).toBe("/x/broker.db");
  });
});

describe("options - parseBrokerArgs", () => {
  it("parses --flag value and --flag=value", () => {
    expect(
      parseBrokerArgs(["--port", "0", "--host=::1", "--db", "/tmp/x.db", "--log-level", "error"]),
    ).toEqual({
      port: "0",
      host: "::1",
      db: "/tmp/x.db",
      logLevel: "error",
    });
  });

  it("rejects unknown flags and missing values", () => {
    expect(() => parseBrokerArgs(["--verbose"])).toThrow(/unknown argument/);
    expect(() => parseBrokerArgs(["--port"])).toThrow(/--port needs a value/);
  });
});
