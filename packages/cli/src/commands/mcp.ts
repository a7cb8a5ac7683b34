// `claudemesh mcp`: the stdio MCP server Claude Code starts (implemented in src/mcp; it parses its own arguments).
import type { RawCommand } from "../cli/dispatcher.js";

export const mcpCommand: RawCommand = {
  name: "mcp",
  summary: "Run the MCP server for one Claude Code session (stdio; started by Claude Code, see 'install').",
  raw: true,
  async runRaw(argv, env, io) {
    // Loaded on demand: the MCP SDK is only needed by this command.
    const { runMcpServer } = await import("../mcp/index.js");
    return runMcpServer(argv, env, io);
  },
};
