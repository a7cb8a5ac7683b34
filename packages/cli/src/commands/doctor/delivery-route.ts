// doctor check: which route delivers peer messages into this project's Claude Code sessions, and why (SPEC §5, §6).
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { claudeSettingsPath } from "../../claude-code/paths.js";
import { hookConfigDir, hookSocketPath, readHookPointer } from "../../hooks/socket-path.js";
import { claudeConfigDir } from "../../mcp/transcript/path.js";
import { effectiveRegistration } from "./registration.js";
import type { CheckResult, DoctorCheck } from "./types.js";

type Env = Readonly<Record<string, string | undefined>>;

/** Claude Code's inbound policy for cross-session messages, from the most specific settings file that sets it. */
export function inboundPolicy(env: Env, cwd: string): { value: string; file: string } | undefined {
  const files = [
    join(cwd, ".claude", "settings.local.json"),
    join(cwd, ".claude", "settings.json"),
    claudeSettingsPath(env),
  ];
  for (const file of files) {
    try {
      const value = (JSON.parse(readFileSync(file, "utf8")) as { crossSessionInbound?: unknown })
        .crossSessionInbound;
      if (typeof value === "string") return { value, file };
    } catch {
      // missing or unreadable: the next file decides
    }
  }
  return undefined;
}

/** Live Claude Code sessions started in `cwd`, from its session registry, and whether each has an inbox socket and a claudemesh server. */
export function runningSessions(
  env: Env,
  cwd: string,
): Array<{ pid: number; inbox: boolean; claudemesh: boolean }> {
  const dir = join(claudeConfigDir(env), "sessions");
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => /^\d+\.json$/.test(n));
  } catch {
    return [];
  }
  const configDir = hookConfigDir(env);
  const found: Array<{ pid: number; inbox: boolean; claudemesh: boolean }> = [];
  for (const name of names) {
    try {
      const entry = JSON.parse(readFileSync(join(dir, name), "utf8")) as {
        pid?: unknown;
        cwd?: unknown;
        messagingSocketPath?: unknown;
      };
      if (typeof entry.pid !== "number" || entry.cwd !== cwd) continue;
      process.kill(entry.pid, 0); // throws for a session that is gone
      const socket = hookSocketPath(configDir, entry.pid);
      found.push({
        pid: entry.pid,
        inbox: typeof entry.messagingSocketPath === "string" && existsSync(entry.messagingSocketPath),
        claudemesh: existsSync(socket) || readHookPointer(entry.pid) !== undefined,
      });
    } catch {
      // unreadable, or the process is gone
    }
  }
  return found;
}

export const deliveryRouteCheck: DoctorCheck = {
  id: "delivery-route",
  title: "Peer messages reach the model",
  async run({ env, cwd }): Promise<CheckResult> {
    const registration = effectiveRegistration(env, cwd);
    if (!registration)
      return {
        ok: false,
        detail: "no claudemesh MCP server is registered, so no route delivers messages into Claude Code",
        fix: "claudemesh install",
      };
    if (registration.spec.env.CLAUDEMESH_INBOX_SOCKET === "off")
      return {
        ok: true,
        detail:
          "the inbox socket route is turned off for this registration (CLAUDEMESH_INBOX_SOCKET=off): hooks and check_messages deliver",
      };
    const policy = inboundPolicy(env, cwd);
    if (policy?.value === "refuse")
      return {
        ok: false,
        detail: `Claude Code refuses cross-session messages (crossSessionInbound: "refuse" in ${policy.file}): only the hooks and check_messages deliver, and an idle session is woken only by the rewake hook`,
        fix: `set "crossSessionInbound": "accept" in ${policy.file}`,
      };
    const held =
      policy?.value === "hold"
        ? `; messages wait for your approval in Claude Code (crossSessionInbound: "hold" in ${policy.file})`
        : policy === undefined
          ? '; sessions started with --dangerously-skip-permissions hold them for your approval (set "crossSessionInbound": "accept" to deliver there too)'
          : "";
    const sessions = runningSessions(env, cwd);
    const noInbox = sessions.filter((s) => s.claudemesh && !s.inbox);
    const missing = sessions.filter((s) => !s.claudemesh);
    if (missing.length > 0)
      return {
        ok: false,
        detail: `Claude Code session(s) ${missing.map((s) => s.pid).join(", ")} in this directory run without a claudemesh MCP server (started before 'claudemesh install'?)`,
        fix: "restart those Claude Code sessions",
      };
    const live =
      sessions.length === 0
        ? ""
        : noInbox.length > 0
          ? `; session(s) ${noInbox.map((s) => s.pid).join(", ")} have no inbox socket (older Claude Code or --bare): hooks deliver there`
          : `; ${sessions.length} running session(s) here use the inbox socket`;
    return {
      ok: true,
      detail: `route: Claude Code's session inbox socket (Claude Code 2.1.3xx+, no flag needed), then hooks, then check_messages${held}${live}`,
    };
  },
};
