// `claudemesh install`: registers the MCP server with Claude Code and adds the hooks — every step checked before anything is written, idempotent, reversible.
import { accessSync, constants, existsSync } from "node:fs";
import { dirname } from "node:path";
import { CLAUDEMESH_HOOKS } from "../claude-code/hooks.js";
import {
  applyRegistration,
  CLAUDE_INSTALL_HINT,
  cliInvocation,
  findClaude,
  forwardedEnv,
  hookCommandPrefix,
  planRegistration,
  revertRegistration,
  SCOPES,
  settingsPathFor,
  type Scope,
} from "../claude-code/mcp-registration.js";
import { settingsBackupPath, shellCommand } from "../claude-code/paths.js";
import { planHookInstall } from "../claude-code/settings-file.js";
import { loadConfig } from "../config/config.js";
import type { Env } from "../config/paths.js";
import { choiceOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";

/** True when no mesh is configured; a config problem is left for the commands that need it. */
function hasNoMesh(env: Env): boolean {
  try {
    return loadConfig(env, { missingOk: true }).meshes.length === 0;
  } catch {
    return false;
  }
}

/** The option shared by install and uninstall. */
export const SCOPE_OPTION = {
  type: "string",
  placeholder: "user|project|local",
  description:
    "Claude Code scope: user (every project, default), project (.mcp.json + .claude/settings.json here), local (this project, just you)",
} as const;

/** Fails unless `path` can be written (it, or the nearest directory that exists). */
function assertWritable(path: string): void {
  let target = path;
  while (!existsSync(target) && dirname(target) !== target) target = dirname(target);
  try {
    accessSync(target, constants.W_OK);
  } catch {
    throw new CliError(
      `cannot write ${path} (${target} is not writable) — fix its permissions, then run this again`,
    );
  }
}

export const installCommand: Command = {
  name: "install",
  summary: "Register the MCP server with Claude Code and add the status hooks (safe to run again).",
  positionals: [],
  options: { scope: SCOPE_OPTION },
  details: [
    "MCP: claude mcp add --scope <scope> claudemesh [-e CLAUDEMESH_CONFIG_DIR=…] -- <claudemesh> mcp, where <claudemesh>",
    "     is the installed command on PATH (else this package's node + bin). CLAUDEMESH_CLAUDE_BIN names another claude.",
    "Hooks: in ~/.claude/settings.json (user; CLAUDE_CONFIG_DIR honoured), .claude/settings.json (project) or",
    "       .claude/settings.local.json (local); a backup is kept as <file>.claudemesh-backup.",
    "Everything is checked first (claude found, settings readable and writable): on a problem nothing is changed.",
    "'claudemesh uninstall --scope <scope>' reverses both. Two identities on one machine: one config dir each,",
    "installed at local scope in each project (see docs/CLI.md).",
  ],
  async run(args, { env, io }) {
    const scope: Scope = choiceOption(args, "scope", SCOPES) ?? "user";
    const cwd = io.cwd();
    const invocation = cliInvocation(env);
    const plan = planRegistration(env, invocation, scope, cwd);
    // 1. Check everything; nothing is written until every check passed.
    const claude = findClaude(env);
    if (!claude) {
      throw new CliError(
        `claude (Claude Code) is not on PATH, so nothing was changed — ${CLAUDE_INSTALL_HINT}, then run 'claudemesh install' again (to register by hand: ${plan.command})`,
      );
    }
    const settings = settingsPathFor(scope, env, cwd);
    const hookCli = hookCommandPrefix(invocation, env);
    const hooks = planHookInstall(settings, hookCli);
    if (hooks.result !== "unchanged") {
      assertWritable(settings);
      if (hooks.result === "added") assertWritable(settingsBackupPath(settings));
    }

    // 2. Register, then write the hooks; a failure writing them takes the registration back.
    await applyRegistration(plan, claude, env, cwd);
    try {
      hooks.apply();
    } catch (err) {
      await revertRegistration(plan, claude, env, cwd).catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CliError(
        `cannot write the hooks to ${settings} (${code}), so the MCP registration was taken back — fix that path, then run 'claudemesh install' again`,
      );
    }

    const serverCommand = shellCommand([plan.spec.command, ...plan.spec.args]);
    const envText = Object.entries(forwardedEnv(env))
      .map(([k, v]) => ` with ${k}=${v}`)
      .join("");
    const messages = {
      registered: `registered MCP server "claudemesh" with Claude Code (${scope} scope): ${serverCommand}${envText}`,
      replaced: `updated MCP server "claudemesh" in Claude Code (${scope} scope): ${serverCommand}${envText}`,
      unchanged: `MCP server "claudemesh" already registered with Claude Code (${scope} scope): ${serverCommand}${envText}`,
    };
    println(io, messages[plan.kind]);
    if (hooks.result === "unchanged") println(io, `status hooks already in ${settings}`);
    else {
      println(io, `${hooks.result} status hooks in ${settings}:`);
      const events = [...new Set(CLAUDEMESH_HOOKS.map((h) => h.event))].join(", ");
      println(io, `  ${events} → ${hookCli} hook …`);
      if (hooks.result === "added")
        println(io, `  (previous settings, if any: ${settingsBackupPath(settings)})`);
    }
    if (plan.kind !== "unchanged" || hooks.result !== "unchanged")
      println(
        io,
        "restart running Claude Code sessions to pick this up; 'claudemesh doctor' checks the set-up",
      );
    if (hasNoMesh(env)) {
      println(
        io,
        "note: no mesh joined yet — sessions will have no peers until you run 'claudemesh join <link>' or 'claudemesh mesh create <slug>'",
      );
    }
    return EXIT_OK;
  },
};
