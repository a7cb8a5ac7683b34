// `claudemesh hook <working|idle>`: Claude Code hook → signed POST /hook/set-status for this session's agent, never blocking Claude Code.
import { z } from "zod";
import type { Status } from "@claudemesh/protocol";
import {
  findSessionsForHook,
  loadAgentKey,
  loadConfig,
  findMesh,
  type Env,
  type SessionRecord,
} from "../config/index.js";
import { choicePositional } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { EXIT_OK } from "../cli/errors.js";
import { eprintln, type Io } from "../cli/io.js";

/** Hard ceiling on the whole hook, start to finish (issue 4 item 5: returns within 1 s even when the broker is down). */
export const HOOK_BUDGET_MS = 1_000;
/** Share of the budget stdin may take (Claude Code writes its JSON and closes at once). */
const STDIN_BUDGET_MS = 200;
/** Leaves time for process creation (before timeOrigin) and exit, so the whole hook stays under 1 s as Claude Code sees it. */
const EXIT_MARGIN_MS = 300;

/** The fields of Claude Code's hook input we use; everything else is ignored. */
const HookInputSchema = z
  .object({
    session_id: z.string().max(128).optional(),
    cwd: z.string().max(4096).optional(),
    transcript_path: z.string().optional(),
  })
  .catchall(z.unknown());

export type HookInput = z.infer<typeof HookInputSchema>;

/** Parses Claude Code's hook JSON; anything unreadable counts as no input. */
export function parseHookInput(text: string | undefined): HookInput {
  if (text === undefined || text.trim() === "") return {};
  try {
    const result = HookInputSchema.safeParse(JSON.parse(text));
    return result.success ? result.data : {};
  } catch {
    return {};
  }
}

interface HookTarget {
  session: SessionRecord;
  brokerUrl: string;
  meshId: string;
  keypair: { pubkey: string; secretKey: string };
}

/** The agent identities (with their broker) of the sessions this hook belongs to. */
function hookTargets(env: Env, sessions: SessionRecord[]): HookTarget[] {
  if (sessions.length === 0) return [];
  const config = loadConfig(env);
  const targets: HookTarget[] = [];
  for (const session of sessions) {
    for (const agent of session.agents) {
      const mesh = findMesh(config, agent.meshSlug);
      const key = loadAgentKey(env, agent.meshSlug, agent.agentName);
      if (!mesh || !key || key.pubkey !== agent.agentPubkey) continue;
      targets.push({ session, brokerUrl: mesh.brokerUrl, meshId: mesh.meshId, keypair: key });
    }
  }
  return targets;
}

/** Debug-only reporting: a hook is silent unless CLAUDEMESH_DEBUG is set. */
function debug(env: Env, io: Io, line: string): void {
  if (env.CLAUDEMESH_DEBUG) eprintln(io, `claudemesh hook: ${line}`);
}

/** Posts `status` for every agent of the hook's session(s), all within `deadline`; never throws. */
async function reportStatus(env: Env, io: Io, status: Status, deadline: number): Promise<void> {
  const input = parseHookInput(await io.readStdin(STDIN_BUDGET_MS));
  const cwd = input.cwd ?? io.cwd();
  const sessions = findSessionsForHook({
    env,
    cwd,
    ...(input.session_id ? { sessionId: input.session_id } : {}),
  });
  const targets = hookTargets(env, sessions);
  if (targets.length === 0) {
    debug(env, io, "no claudemesh session found for this Claude Code session");
    return;
  }
  // Loaded only when there is something to send: keeps the common no-session path fast.
  const { postHookStatus } = await import("@claudemesh/client");
  const timeoutMs = Math.max(1, Math.floor(deadline - Date.now())); // AbortSignal.timeout needs an integer
  const results = await Promise.allSettled(
    targets.map((t) =>
      postHookStatus({
        brokerUrl: t.brokerUrl,
        meshId: t.meshId,
        keypair: t.keypair,
        status,
        cwd: t.session.cwd,
        pid: t.session.pid,
        ...(input.session_id ? { sessionId: input.session_id } : {}),
        timeoutMs,
      }),
    ),
  );
  results.forEach((r, i) =>
    debug(
      env,
      io,
      `${targets[i]?.session.agents[0]?.agentName ?? "?"}: ${r.status === "fulfilled" ? r.value : String((r.reason as Error).message)}`,
    ),
  );
}

export const hookCommand: Command = {
  name: "hook",
  summary: "Report this Claude Code session's status (run by Claude Code hooks; always exits 0 quickly).",
  positionals: [{ name: "working|idle" }],
  options: {},
  details: [
    "Reads Claude Code's hook JSON from stdin, finds the session's agent and posts a signed status.",
    "Gives up silently after 1 s, when the broker is down, or when nothing is configured (CLAUDEMESH_DEBUG=1 to see why).",
  ],
  async run(args, { env, io }) {
    const status = choicePositional(args.positionals[0] as string, "status", ["working", "idle"] as const);
    // The budget counts from process start when known, so module loading is paid from it too.
    const deadline = Math.floor(io.startedAt ?? Date.now()) + HOOK_BUDGET_MS - EXIT_MARGIN_MS;
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
    });
    try {
      await Promise.race([
        reportStatus(env, io, status, deadline).catch((err: unknown) =>
          debug(env, io, String((err as Error)?.message ?? err)),
        ),
        budget,
      ]);
    } finally {
      clearTimeout(timer);
    }
    return EXIT_OK;
  },
};
