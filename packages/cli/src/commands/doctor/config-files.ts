// doctor check: the config dir is 0700 and every file holding config or keys is 0600 (SPEC §6).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { configPaths, DIR_MODE, FILE_MODE } from "../../config/index.js";
import type { DoctorCheck } from "./types.js";

function mode(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
}

/** Every file under `dir` (recursively). */
function filesUnder(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

export const configFilesCheck: DoctorCheck = {
  id: "config-files",
  title: "config and key files are private",
  async run({ env }) {
    const paths = configPaths(env);
    const dirMode = mode(paths.dir);
    if (dirMode === undefined) {
      return {
        ok: false,
        detail: `no config directory at ${paths.dir}`,
        fix: "claudemesh join <link>   (or: claudemesh mesh create <slug>)",
      };
    }
    const wrong: string[] = [];
    const fixes: string[] = [];
    if (dirMode !== DIR_MODE) {
      wrong.push(`${paths.dir} is ${dirMode.toString(8)}`);
      fixes.push(`chmod 700 ${paths.dir}`);
    }
    const keyFiles = [paths.configFile, ...filesUnder(paths.agentsDir), ...filesUnder(paths.sessionsDir)];
    for (const file of keyFiles) {
      const m = mode(file);
      if (m === undefined || (m & 0o077) === 0) continue;
      wrong.push(`${file} is ${m.toString(8)}`);
      fixes.push(`chmod 600 ${file}`);
    }
    if (wrong.length > 0) {
      return {
        ok: false,
        detail: `readable by others: ${wrong.join(", ")}`,
        fix: fixes.length > 3 ? `chmod -R go-rwx ${paths.dir}` : fixes.join(" && "),
      };
    }
    const count = keyFiles.filter((f) => mode(f) !== undefined).length;
    return {
      ok: true,
      detail: `${paths.dir} is ${DIR_MODE.toString(8)}; ${count} file${count === 1 ? "" : "s"} ${FILE_MODE.toString(8)}`,
    };
  },
};
