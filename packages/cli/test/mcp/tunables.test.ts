// mcp tunables — environment overrides of retry delays and the send reply wait; malformed values are ignored with a warning.
import { describe, expect, it } from "vitest";
import { mcpTunables } from "../../src/mcp/index.js";

function capture() {
  const lines: string[] = [];
  return { lines, log: { info: (m: string) => void lines.push(m), warn: (m: string) => void lines.push(m) } };
}

describe("mcp tunables", () => {
  it("reads both settings", () => {
    const { log, lines } = capture();
    expect(
      mcpTunables(
        { CLAUDEMESH_RECONNECT_BACKOFF_MS: "200, 400,800", CLAUDEMESH_MCP_REPLY_WAIT_MS: "1500" },
        log,
      ),
    ).toEqual({ backoffMs: [200, 400, 800], replyWaitMs: 1500 });
    expect(lines).toEqual([]);
  });

  it("uses the defaults when unset", () => {
    expect(mcpTunables({}, capture().log)).toEqual({});
  });

  it.each([
    ["CLAUDEMESH_RECONNECT_BACKOFF_MS", "fast"],
    ["CLAUDEMESH_RECONNECT_BACKOFF_MS", "100,-1"],
    ["CLAUDEMESH_RECONNECT_BACKOFF_MS", "1.5"],
    ["CLAUDEMESH_MCP_REPLY_WAIT_MS", "0"],
    ["CLAUDEMESH_MCP_REPLY_WAIT_MS", "soon"],
  ])("ignores %s=%s with a warning", (name, value) => {
    const { log, lines } = capture();
    expect(mcpTunables({ [name]: value }, log)).toEqual({});
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`${name}="${value}" ignored`);
  });
});
