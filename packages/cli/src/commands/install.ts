// `claudemesh install`: registers the MCP server with Claude Code and adds the status hooks, idempotently.
import { registerMcpServer } from "../claude-code/mcp-registration.js";
import { claudeSettingsPath, cliInvocation, settingsBackupPath, shellCommand } from "../claude-code/paths.js";
import { installHooks } from "../claude-code/settings-file.js";
import { loadConfig } from "../config/config.js";
import type { Env } from "../config/paths.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";

/** True when no mesh is configured; a config problem is left for the commands that need it. */
function hasNoMesh(env: Env): boolean {
  try {
    return loadConfig(env, { missingOk: true }).meshes.length === 0;
  } catch {
    return false;
  }
}

export const installCommand: Command = {
  name: "install",
  summary: "Register the MCP server with Claude Code and add the status hooks (safe to run again).",
  positionals: [],
  options: {},
  details: [
    "MCP: claude mcp add --scope user claudemesh -- <node> <claudemesh.js> mcp (printed instead when claude is not on PATH;",
    "     CLAUDEMESH_CLAUDE_BIN names another binary).",
    "Hooks in ~/.claude/settings.json (CLAUDE_CONFIG_DIR honoured): UserPromptSubmit → hook working, Stop → hook idle;",
    "a backup is kept as settings.json.claudemesh-backup. 'claudemesh uninstall' reverses both.",
  ],
  async run(_args, { env, io }) {
    const invocation = cliInvocation();
    const mcp = await registerMcpServer(env, invocation);
    const serverCommand = shellCommand([...invocation, "mcp"]);
    switch (mcp.kind) {
      case "registered":
        println(io, `registered MCP server "claudemesh" with Claude Code (user scope): ${serverCommand}`);
        break;
      case "replaced":
        println(io, `updated MCP server "claudemesh" in Claude Code (user scope): ${serverCommand}`);
        break;
      case "unchanged":
        println(io, `MCP server "claudemesh" already registered with Claude Code: ${serverCommand}`);
        break;
      case "manual":
        println(io, "claude is not on PATH; register the MCP server yourself with:");
        println(io, `  ${mcp.command}`);
        break;
    }
    const settings = claudeSettingsPath(env);
    const cli = shellCommand(invocation);
    const hooks = installHooks(settings, cli);
    if (hooks === "unchanged") println(io, `status hooks already in ${settings}`);
    else {
      println(io, `${hooks === "added" ? "added" : "updated"} status hooks in ${settings}:`);
      println(io, `  UserPromptSubmit → ${cli} hook working`);
      println(io, `  Stop → ${cli} hook idle`);
      if (hooks === "added") println(io, `  (previous settings, if any: ${settingsBackupPath(settings)})`);
    }
    if (mcp.kind !== "unchanged" || hooks !== "unchanged")
      println(io, "restart running Claude Code sessions to pick this up");
    if (hasNoMesh(env)) {
      println(
        io,
        "note: no mesh joined yet — sessions will have no peers until you run 'claudemesh join <link>' or 'claudemesh mesh create <slug>'",
      );
    }
    return EXIT_OK;
  },
};
