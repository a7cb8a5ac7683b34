// doctor check: the settings file that goes with the registration holds this version's claudemesh hooks.
import { readFileSync } from "node:fs";
import { hasCurrentClaudemeshHooks, type JsonObject } from "../../claude-code/hooks.js";
import { settingsPathFor } from "../../claude-code/mcp-registration.js";
import { effectiveRegistration } from "./registration.js";
import type { CheckResult, DoctorCheck } from "./types.js";

export const hooksCheck: DoctorCheck = {
  id: "claude-hooks",
  title: "Claude Code hooks installed",
  async run({ env, cwd }): Promise<CheckResult> {
    const scope = effectiveRegistration(env, cwd)?.scope ?? "user";
    const path = settingsPathFor(scope, env, cwd);
    const fix = `claudemesh install --scope ${scope}`;
    let settings: unknown;
    try {
      settings = JSON.parse(readFileSync(path, "utf8"));
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === "ENOENT";
      return {
        ok: false,
        detail: missing ? `${path} does not exist` : `${path} is not valid JSON`,
        fix: missing ? fix : `fix ${path} by hand, then ${fix}`,
      };
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings))
      return { ok: false, detail: `${path} is not a JSON object`, fix: `fix ${path} by hand, then ${fix}` };
    let current = false;
    try {
      current = hasCurrentClaudemeshHooks(settings as JsonObject);
    } catch (err) {
      return {
        ok: false,
        detail: `${path}: ${(err as Error).message}`,
        fix: `fix ${path} by hand, then ${fix}`,
      };
    }
    return current
      ? { ok: true, detail: `this version's hooks are in ${path}` }
      : {
          ok: false,
          detail: `${path} lacks this version's claudemesh hooks (missing or from an older version)`,
          fix,
        };
  },
};
