// `claudemesh doctor`: runs every check (SPEC §6), prints ok or the problem and its fix, `--json`; exit 1 when something is wrong.
import { flag, intOption } from "../../cli/args.js";
import type { Command } from "../../cli/command.js";
import { EXIT_FAILURE, EXIT_OK } from "../../cli/errors.js";
import { println } from "../../cli/io.js";
import { json } from "../shared.js";
import { DOCTOR_CHECKS } from "./checks.js";
import type { CheckResult, DoctorCheck, DoctorContext } from "./types.js";

export type { CheckResult, DoctorCheck, DoctorContext } from "./types.js";
export { DOCTOR_CHECKS } from "./checks.js";

/** One check's outcome as printed by --json. */
export interface CheckReport extends CheckResult {
  id: string;
  title: string;
}

/** Runs `checks` one after another; a check that throws is reported as a problem, never crashes doctor. */
export async function runChecks(checks: readonly DoctorCheck[], ctx: DoctorContext): Promise<CheckReport[]> {
  const reports: CheckReport[] = [];
  for (const check of checks) {
    let result: CheckResult;
    try {
      result = await check.run(ctx);
    } catch (err) {
      result = {
        ok: false,
        detail: `the check failed: ${err instanceof Error ? err.message : String(err)}`,
        fix: "run with CLAUDEMESH_DEBUG=1 and report it",
      };
    }
    reports.push({ id: check.id, title: check.title, ...result });
  }
  return reports;
}

export const doctorCommand: Command = {
  name: "doctor",
  summary:
    "Check this machine's set-up (broker, key files, Claude Code registration, hooks) and say how to fix it.",
  positionals: [],
  options: {
    json: { type: "boolean", description: "print {ok, checks:[{id, title, ok, detail, fix?}]} as JSON" },
    timeout: {
      type: "string",
      placeholder: "MS",
      description: "how long each network or process probe may take (default 3000)",
    },
  },
  details: ["Changes nothing. Exit 0 when every check is ok, 1 otherwise."],
  async run(args, { env, io }) {
    const timeoutMs = intOption(args, "timeout", 100, 600_000) ?? 3_000;
    const reports = await runChecks(DOCTOR_CHECKS, { env, cwd: io.cwd(), timeoutMs });
    const ok = reports.every((r) => r.ok);
    if (flag(args, "json")) io.stdout(json({ ok, checks: reports }));
    else {
      for (const r of reports) {
        println(io, `${r.ok ? "ok     " : "PROBLEM"} ${r.title}: ${r.detail}`);
        if (!r.ok && r.fix) println(io, `        fix: ${r.fix}`);
      }
      println(
        io,
        ok
          ? "everything looks right"
          : `${reports.filter((r) => !r.ok).length} problem(s) — run the fix lines above`,
      );
    }
    return ok ? EXIT_OK : EXIT_FAILURE;
  },
};
