// The asynchronous stderr sink: lines arrive complete and in order, the queue is bounded (drops are counted and
// reported), and flushSync writes what is pending.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLineSink } from "../../src/log-sink.js";
import { until } from "../ws/support.js";

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function tempFd(): { fd: number; read(): string } {
  dir = mkdtempSync(join(tmpdir(), "claudemesh-log-"));
  const path = join(dir, "log.txt");
  const fd = openSync(path, "w");
  return {
    fd,
    read: () => readFileSync(path, "utf8"),
  };
}

describe("createLineSink", () => {
  it("writes every line, newline-terminated and in order, without writing synchronously", async () => {
    const file = tempFd();
    const sink = createLineSink(file.fd);
    for (let i = 0; i < 1_000; i++) sink(`line ${i}`);
    expect(file.read()).toBe(""); // nothing written inside the caller's turn
    await until(() => file.read().split("\n").length === 1_001, 5_000, "all lines");
    expect(file.read().split("\n").slice(0, -1)).toEqual(
      Array.from({ length: 1_000 }, (_, i) => `line ${i}`),
    );
    expect(sink.dropped).toBe(0);
    closeSync(file.fd);
  });

  it("drops lines past its byte cap and reports how many in a log.dropped line", async () => {
    const file = tempFd();
    const sink = createLineSink(file.fd, 100);
    for (let i = 0; i < 20; i++) sink(`0123456789-${i}`); // 14 bytes each with the newline: 7 fit
    expect(sink.dropped).toBe(13);
    await until(() => file.read().includes("log.dropped"), 5_000, "the drop report");
    const lines = file.read().trim().split("\n");
    expect(lines.slice(0, 7)).toEqual(Array.from({ length: 7 }, (_, i) => `0123456789-${i}`));
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: "warn", event: "log.dropped", lines: 13 });
    closeSync(file.fd);
  });

  it("flushSync writes pending lines at once", () => {
    const file = tempFd();
    const sink = createLineSink(file.fd);
    sink("last words");
    sink.flushSync();
    expect(file.read()).toBe("last words\n");
    closeSync(file.fd);
  });

  it("never throws when the descriptor is not open (EBADF)", async () => {
    const sink = createLineSink(987_654); // never an open descriptor of this process
    expect(() => sink("into the void")).not.toThrow();
    expect(() => sink.flushSync()).not.toThrow();
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
});
