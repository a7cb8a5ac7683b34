// `claudemesh uninstall`: reverses install exactly — our MCP registration and our hooks, nothing else.
import { SCOPES, settingsPathFor, unregisterMcpServer, type Scope } from "../claude-code/mcp-registration.js";
import { uninstallHooks } from "../claude-code/settings-file.js";
import { choiceOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { SCOPE_OPTION } from "./install.js";

const HOOK_MESSAGES = {
  restored: "removed the status hooks; restored the settings file exactly as it was before install:",
  removed: "removed the status hooks (other settings kept) from",
  deleted: "removed the status hooks and the settings file install had created:",
  absent: "no claudemesh hooks in",
} as const;

export const uninstallCommand: Command = {
  name: "uninstall",
  summary: "Remove the MCP server registration and the status hooks that 'install' added.",
  positionals: [],
  options: { scope: SCOPE_OPTION },
  details: ["Meshes, keys and config in ~/.claudemesh are kept; use 'claudemesh leave' for those."],
  async run(args, { env, io }) {
    const scope: Scope = choiceOption(args, "scope", SCOPES) ?? "user";
    const cwd = io.cwd();
    const mcp = await unregisterMcpServer(env, scope, cwd);
    if (mcp.kind === "removed")
      println(io, `removed MCP server "claudemesh" from Claude Code (${scope} scope)`);
    else if (mcp.kind === "absent")
      println(io, `MCP server "claudemesh" was not registered with Claude Code (${scope} scope)`);
    else if (mcp.kind === "manual") {
      println(io, "claude is not on PATH; remove the MCP server yourself with:");
      println(io, `  ${mcp.command}`);
    }
    const settings = settingsPathFor(scope, env, cwd);
    println(io, `${HOOK_MESSAGES[uninstallHooks(settings)]} ${settings}`);
    return EXIT_OK;
  },
};
