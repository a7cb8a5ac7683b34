// log - JSON lines with ts/level/event, level filtering, and the guard that drops secret-looking fields.
import { describe, expect, it } from "vitest";
import { createLogger, formatLogLine } from "../../src/log.js";

function capture(level: "debug" | "info" | "warn" | "error" | "silent" = "info") {
  const lines: string[] = [];
  const log = createLogger({ level, write: (l) => lines.push(l), clock: { now: () => 0 } });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("log - JSON lines", () => {
  it("writes one JSON object per call with ts, level, event first", () => {
    const { log, lines, parsed } = capture();
    log.info("mesh.create", { meshId: "m1", count: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\{"ts":"1970-01-01T00:00:00.000Z","level":"info","event":"mesh.create"/);
    expect(parsed()[0]).toEqual({
      ts: "1970-01-01T00:00:00.000Z",
      level: "info",
      event: "mesh.create",
      meshId: "m1",
      count: 2,
    });
  });

  it("filters below the configured level and writes nothing when silent", () => {
    const warn = capture("warn");
    warn.log.info("x");
    warn.log.debug("y");
    warn.log.warn("z");
    warn.log.error("w");
    expect(warn.parsed().map((l) => l.event)).toEqual(["z", "w"]);
    const silent = capture("silent");
    silent.log.error("boom");
    expect(silent.lines).toHaveLength(0);
  });

  it("drops fields named like secrets, however deep, and lists them under redacted", () => {
    const line = JSON.parse(
      formatLogLine(0, "info", "e", {
        ciphertext: "CIPHER",
        nonce: "NONCE",
        secretKey: "SECRET",
        creationToken: "TOKEN",
        signature: "SIG",
        authorization: "Bearer x",
        nested: { parent_signature: "PSIG", ok: 1, deeper: [{ plaintext: "PLAIN" }] },
        pubkey: "ab".repeat(32),
      }),
    ) as Record<string, unknown>;
    const text = JSON.stringify(line);
    for (const secret of ["CIPHER", "NONCE", "SECRET", "TOKEN", "SIG", "Bearer", "PSIG", "PLAIN"])
      expect(text).not.toContain(secret);
    expect(line.pubkey).toBe("ab".repeat(32));
    expect(line.nested).toEqual({ ok: 1, deeper: [{}] });
    expect(line.redacted).toEqual([
      "authorization",
      "ciphertext",
      "creationToken",
      "nonce",
      "parent_signature",
      "plaintext",
      "secretKey",
      "signature",
    ]);
  });

  it("renders errors as name and message only, and cannot be overridden on ts/level/event", () => {
    const err = Object.assign(new Error("db gone"), { code: "ECONNREFUSED", secret: "S" });
    const line = JSON.parse(
      formatLogLine(0, "error", "store.fail", { error: err, level: "debug", event: "spoof" }),
    ) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: "error",
      event: "store.fail",
      error: { name: "Error", message: "db gone", code: "ECONNREFUSED" },
    });
    expect(JSON.stringify(line)).not.toContain('"S"');
  });

  it("child loggers add their fields to every line", () => {
    const { log, parsed } = capture();
    log.child({ conn: "c1" }).warn("slow", { ms: 5 });
    expect(parsed()[0]).toMatchObject({ conn: "c1", ms: 5, event: "slow" });
  });

  it("never throws when the sink fails", () => {
    const log = createLogger({
      write: () => {
        throw new Error("EPIPE");
      },
    });
    expect(() => log.error("x")).not.toThrow();
  });
});
