// doctor check: Claude Code has `claudemesh mcp` registered (local, project or user scope), runnable, with this shell's config dir.
import { accessSync, constants, existsSync } from "node:fs";
import { isAbsolute } from "node:path";
import {
  CLAUDE_INSTALL_HINT,
  currentRegistration,
  findClaude,
  forwardedEnv,
  isClaudemeshSpec,
  type McpServerSpec,
  type Scope,
} from "../../claude-code/mcp-registration.js";
import { shellCommand } from "../../claude-code/paths.js";
import { resolveConfigDir, type Env } from "../../config/index.js";
import type { CheckResult, DoctorCheck } from "./types.js";

/** Claude Code's precedence when a name is registered at several scopes: local, then project, then user. */
const PRECEDENCE: readonly Scope[] = ["local", "project", "user"];

/** The registration Claude Code would use in `cwd`, and its scope. */
export function effectiveRegistration(
  env: Env,
  cwd: string,
): { scope: Scope; spec: McpServerSpec } | undefined {
  for (const scope of PRECEDENCE) {
    const spec = currentRegistration(env, scope, cwd);
    if (spec) return { scope, spec };
  }
  return undefined;
}

function runnable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export const registrationCheck: DoctorCheck = {
  id: "claude-registration",
  title: "Claude Code runs claudemesh mcp",
  async run({ env, cwd }): Promise<CheckResult> {
    let claude: string | undefined;
    try {
      claude = findClaude(env);
    } catch (err) {
      return {
        ok: false,
        detail: (err as Error).message,
        fix: "unset CLAUDEMESH_CLAUDE_BIN or point it at claude",
      };
    }
    if (!claude)
      return { ok: false, detail: "claude (Claude Code) is not on PATH", fix: CLAUDE_INSTALL_HINT };
    const found = effectiveRegistration(env, cwd);
    if (!found) {
      return {
        ok: false,
        detail: "no MCP server named claudemesh is registered here",
        fix: "claudemesh install",
      };
    }
    const { scope, spec } = found;
    const shown = shellCommand([spec.command, ...spec.args]);
    const reinstall = `claudemesh install --scope ${scope}`;
    if (!isClaudemeshSpec(spec) || spec.args[spec.args.length - 1] !== "mcp") {
      return {
        ok: false,
        detail: `"claudemesh" at ${scope} scope runs ${shown}, not claudemesh mcp`,
        fix: `claude mcp remove --scope ${scope} claudemesh && ${reinstall}`,
      };
    }
    if (isAbsolute(spec.command) ? !runnable(spec.command) : findOnPathMissing(env, spec.command)) {
      return {
        ok: false,
        detail: `${spec.command} (registered at ${scope} scope) is missing or not executable`,
        fix: reinstall,
      };
    }
    const script = spec.args.find((a) => a.endsWith(".js"));
    if (script !== undefined && !existsSync(script)) {
      return {
        ok: false,
        detail: `${script} (registered at ${scope} scope) no longer exists — was the clone moved?`,
        fix: reinstall,
      };
    }
    const want = forwardedEnv(env).CLAUDEMESH_CONFIG_DIR ?? resolveConfigDir(env);
    const registeredDir = spec.env.CLAUDEMESH_CONFIG_DIR;
    const serverDir = registeredDir ?? resolveConfigDir({ HOME: env.HOME });
    if (serverDir !== want) {
      return {
        ok: false,
        detail: `the registered server uses config dir ${serverDir}, this shell uses ${want}`,
        fix: `CLAUDEMESH_CONFIG_DIR=${want} ${reinstall}   (or run doctor with the server's CLAUDEMESH_CONFIG_DIR)`,
      };
    }
    return {
      ok: true,
      detail: `${scope} scope: ${shown}${registeredDir ? ` with CLAUDEMESH_CONFIG_DIR=${registeredDir}` : ""}`,
    };
  },
};

function findOnPathMissing(env: Env, name: string): boolean {
  return !(env.PATH ?? "").split(":").some((dir) => dir !== "" && runnable(`${dir}/${name}`));
}
