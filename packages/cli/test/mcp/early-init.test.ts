// The early initialize answer: given at once, the real server still initializes, its own answer is dropped, every other line passes in order.
import { describe, expect, it } from "vitest";
import { PassThrough, Writable } from "node:stream";
import { SUPPORTED_PROTOCOL_VERSIONS } from "@modelcontextprotocol/sdk/types.js";
import {
  EARLY_INIT_ID,
  EARLY_PROTOCOL_VERSIONS,
  negotiateVersion,
  startEarlyInit,
} from "../../src/mcp/early-init.js";

const INFO = { name: "claudemesh", version: "9.9.9", instructions: "be kind", capabilities: { tools: {} } };

function collect(): { stream: Writable; text: () => string } {
  let text = "";
  return {
    stream: new Writable({
      write(chunk: Buffer, _e, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

async function read(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  stream.on("data", (c: Buffer | string) => (text += c.toString()));
  await new Promise((r) => stream.once("end", r));
  return text;
}

describe("mcp early initialize", () => {
  it("answers initialize at once, passes it on renumbered, and every other line unchanged and in order", async () => {
    const stdin = new PassThrough();
    const stdout = collect();
    const early = startEarlyInit(stdin, stdout.stream, INFO);
    const passed = read(early.input);
    const init = { jsonrpc: "2.0", id: 7, method: "initialize", params: { protocolVersion: "2025-06-18" } };
    stdin.write(`${JSON.stringify(init)}\n{"jsonrpc":"2.0","method":"notifications/initialized"}\n`);
    stdin.end('{"jsonrpc":"2.0","id":8,"method":"tools/list"}');
    const lines = (await passed)
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(early.answered).toBe(true);
    expect(JSON.parse(stdout.text())).toEqual({
      jsonrpc: "2.0",
      id: 7,
      result: {
        protocolVersion: "2025-06-18",
        capabilities: { tools: {} },
        serverInfo: { name: "claudemesh", version: "9.9.9" },
        instructions: "be kind",
      },
    });
    expect(lines.map((l) => l.id ?? l.method)).toEqual([EARLY_INIT_ID, "notifications/initialized", 8]);
    expect(lines[0]).toMatchObject({ method: "initialize", params: { protocolVersion: "2025-06-18" } });
    early.close();
  });

  it("only the first initialize is answered early; a later one goes to the real server", async () => {
    const stdin = new PassThrough();
    const stdout = collect();
    const early = startEarlyInit(stdin, stdout.stream, INFO);
    const passed = read(early.input);
    stdin.end(
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}\n{"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}\nnot json\n',
    );
    const lines = (await passed).trim().split("\n");
    expect(stdout.text().trim().split("\n")).toHaveLength(1);
    expect(lines[1]).toContain('"id":2');
    expect(lines[2]).toBe("not json");
    early.close();
  });

  it("the output drops only the real server's answer to the renumbered initialize", async () => {
    const early = startEarlyInit(new PassThrough(), collect().stream, INFO);
    const out = collect();
    const filtered = early.output(out.stream);
    filtered.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: EARLY_INIT_ID, result: {} })}\n{"jsonrpc":"2.0","id":8,`,
    );
    filtered.write(`"result":{"note":"${EARLY_INIT_ID} in a text"}}\n`);
    await new Promise((r) => filtered.end(r));
    expect(out.text()).toBe(`{"jsonrpc":"2.0","id":8,"result":{"note":"${EARLY_INIT_ID} in a text"}}\n`);
    early.close();
  });

  it("negotiates like the SDK, never above 2025-11-25 (the newest revision on which Claude Code registers channels)", () => {
    expect(EARLY_PROTOCOL_VERSIONS).toEqual(SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v <= "2025-11-25"));
    expect(negotiateVersion("2025-03-26")).toBe("2025-03-26");
    expect(negotiateVersion("2099-01-01")).toBe("2025-11-25");
    expect(negotiateVersion(undefined)).toBe("2025-11-25");
  });
});
