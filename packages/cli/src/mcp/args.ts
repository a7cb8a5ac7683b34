// Argument parsing for `claudemesh mcp [--name NAME] [--mesh SLUG]… [--channel NAME]…`; usage problems are one-line errors (exit 2).
import { ChannelNameSchema } from "@claudemesh/protocol";

export const MCP_USAGE =
  "usage: claudemesh mcp [--name NAME] [--mesh SLUG]… [--channel NAME]… [--push-channels]  (stdio MCP server started by Claude Code; see 'claudemesh install')";

export interface McpArgs {
  help: boolean;
  /** Agent name for this session; default: derived from the working directory. */
  name: string | undefined;
  /** Serve only these meshes; default: every joined mesh. */
  meshes: string[];
  /** Channels (without `#`) this session joins in every mesh it serves, so `#name` messages reach it. */
  channels: string[];
  /**
   * Also push messages as `notifications/claude/channel` when no inbox socket takes them — only
   * for a Claude Code started with channels enabled (it drops them silently otherwise).
   */
  pushChannels: boolean;
}

/** Thrown for bad arguments; the message is the one-line hint. */
export class McpUsageError extends Error {
  override readonly name = "McpUsageError";
}

/** Parses `--name X`, `--name=X`, `--mesh X` and `--channel X` (both repeatable), `--push-channels`, `-h`/`--help`. */
export function parseMcpArgs(args: readonly string[]): McpArgs {
  const out: McpArgs = { help: false, name: undefined, meshes: [], channels: [], pushChannels: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === "-h" || arg === "--help") {
      out.help = true;
      continue;
    }
    if (arg === "--push-channels") {
      out.pushChannels = true;
      continue;
    }
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag !== "--name" && flag !== "--mesh" && flag !== "--channel")
      throw new McpUsageError(`unknown argument "${arg}" — ${MCP_USAGE}`);
    let value: string | undefined;
    if (eq > 0 && arg.startsWith("--")) value = arg.slice(eq + 1);
    else value = args[++i];
    if (value === undefined || value === "" || (value.startsWith("-") && eq < 0))
      throw new McpUsageError(`${flag} needs a value — ${MCP_USAGE}`);
    if (flag === "--name") {
      if (out.name !== undefined) throw new McpUsageError(`--name given twice — ${MCP_USAGE}`);
      out.name = value;
    } else if (flag === "--channel") {
      const channel = value.replace(/^#/, "");
      if (!ChannelNameSchema.safeParse(channel).success)
        throw new McpUsageError(
          `--channel "${value}" is not a channel name (lowercase letters, digits, . _ -)`,
        );
      if (!out.channels.includes(channel)) out.channels.push(channel);
    } else out.meshes.push(value);
  }
  return out;
}
