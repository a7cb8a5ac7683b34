// The interface every `claudemesh doctor` check implements, and the context they share.
import type { Env } from "../../config/index.js";

/** What a check found: ok, or what is wrong and the command that fixes it. */
export interface CheckResult {
  ok: boolean;
  /** One sentence: what was checked and found. */
  detail: string;
  /** The command (or step) that fixes a problem; omitted when ok. */
  fix?: string;
}

/** Everything a check may read; checks never write (doctor changes nothing). */
export interface DoctorContext {
  env: Env;
  /** The working directory (local and project registrations are per directory). */
  cwd: string;
  /** Milliseconds a network or process probe may take. */
  timeoutMs: number;
}

/** One check: a stable id (for --json), a title, and the probe. A check that throws counts as a problem. */
export interface DoctorCheck {
  id: string;
  title: string;
  run(ctx: DoctorContext): Promise<CheckResult>;
}
