// `claudemesh mcp`: the stdio MCP server Claude Code starts (implemented in src/mcp; it parses its own arguments).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RawCommand } from "../cli/dispatcher.js";
import { CLI_VERSION } from "../cli/version.js";
import { hookConfigDir } from "../hooks/socket-path.js";
import { startEarlyInit } from "../mcp/early-init.js";
import { earlyInstructions } from "../mcp/instructions.js";

/** The mesh slugs the server will serve, read without loading the config schemas (a bad config is reported later, by the server). */
function servedMeshes(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const wanted: string[] = [];
  argv.forEach((arg, i) => {
    if (arg === "--mesh" && argv[i + 1] !== undefined) wanted.push(argv[i + 1] as string);
    else if (arg.startsWith("--mesh=")) wanted.push(arg.slice("--mesh=".length));
  });
  try {
    const config = JSON.parse(readFileSync(join(hookConfigDir(env), "config.json"), "utf8")) as {
      meshes?: Array<{ slug?: unknown }>;
    };
    const slugs = (config.meshes ?? []).map((m) => m.slug).filter((s): s is string => typeof s === "string");
    return wanted.length > 0 ? slugs.filter((s) => wanted.includes(s)) : slugs;
  } catch {
    return [];
  }
}

export const mcpCommand: RawCommand = {
  name: "mcp",
  summary: "Run the MCP server for one Claude Code session (stdio; started by Claude Code, see 'install').",
  raw: true,
  async runRaw(argv, env, io) {
    const help = argv.includes("-h") || argv.includes("--help");
    // Claude Code waits for the initialize answer: give it before loading the SDK, the client and crypto.
    const early = help
      ? undefined
      : startEarlyInit(process.stdin, process.stdout, {
          name: "claudemesh",
          version: CLI_VERSION,
          instructions: earlyInstructions(servedMeshes(argv, env)),
          // What the SDK server declares (SPEC §5: experimental claude/channel makes Claude Code listen for pushes).
          capabilities: { tools: { listChanged: true }, experimental: { "claude/channel": {} } },
        });
    const { runMcpServer } = await import("../mcp/index.js");
    return runMcpServer(argv, env, io, early);
  },
};
