// mcp logging — diagnostics go to stderr as single lines; console.* and stray process.stdout writes are diverted from the MCP stream.
import { afterEach, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { createMcpLog, guardConsole, guardStdout } from "../../src/mcp/log.js";

function sink(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on("data", (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString("utf8") };
}

const restores: Array<() => void> = [];
afterEach(() => {
  for (const restore of restores.splice(0).reverse()) restore();
});

describe("mcp log", () => {
  it("writes one prefixed line per event, folding newlines", () => {
    const err = sink();
    const log = createMcpLog(err.stream);
    log.info("connected");
    log.warn("broker said:\n  no");
    expect(err.text()).toBe("claudemesh mcp info: connected\nclaudemesh mcp warn: broker said: no\n");
  });

  it("sends console.log/info/debug/warn to stderr until restored", () => {
    const err = sink();
    const original = console.log;
    const restore = guardConsole(err.stream);
    restores.push(restore);
    console.log("hello", { a: 1 });
    console.info("info");
    console.debug(new Error("boom"));
    console.warn("careful");
    expect(err.text()).toBe('hello {"a":1}\ninfo\nError: boom\ncareful\n');
    restores.pop();
    restore();
    expect(console.log).toBe(original);
  });

  it("redirects direct process.stdout writes to stderr while the server owns stdout", () => {
    const err = sink();
    const original = process.stdout.write;
    const { frames, restore } = guardStdout(process.stdout, err.stream);
    restores.push(restore);
    process.stdout.write("not a frame\n");
    expect(err.text()).toBe("not a frame\n");
    expect(frames).not.toBe(process.stdout);
    restores.pop();
    restore();
    expect(process.stdout.write).toBe(original);
  });

  it("leaves other streams alone (tests and embedding)", () => {
    const out = sink();
    const { frames } = guardStdout(out.stream, sink().stream);
    expect(frames).toBe(out.stream);
  });
});
