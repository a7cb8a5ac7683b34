// What each Claude Code hook gets from the MCP server (SPEC §5.2): pending messages as context, a Stop block for `now`, a rewake, and status.
import type { HookReply } from "../hooks/entry.js";
import type { DeliveryCoordinator } from "./coordinator.js";
import { frameMessages } from "./framing.js";
import type { HookEvent, HookHandler, HookInput } from "./hook-server.js";

export interface HookHandlerDeps {
  coordinator: DeliveryCoordinator;
  /** The session is working (a prompt was submitted) or idle (a reply finished). */
  onStatus(status: "working" | "idle"): void;
  /** A hook told us where the session's transcript is (it changes after /clear). */
  onTranscript(path: string): void;
  /** A pending message this old is the rewake hook's, not a push route's (default 2 s). */
  rewakeGraceMs?: number;
}

function additionalContext(event: "UserPromptSubmit" | "PostToolUse", text: string): HookReply {
  return {
    stdout: JSON.stringify({ hookSpecificOutput: { hookEventName: event, additionalContext: text } }),
  };
}

/** The hook answers: only messages no route gave the model yet are handed out, and each becomes in_context at once. */
export function createHookHandler(deps: HookHandlerDeps): HookHandler {
  const { coordinator } = deps;
  // One rewake waiter at a time: each Stop starts a new one, and the older process can go.
  let rewaking: AbortController | null = null;
  const framed = (batch: ReturnType<DeliveryCoordinator["take"]>): string =>
    frameMessages(batch.map((d) => d.entry));
  return {
    async handle(
      event: HookEvent,
      input: HookInput,
      waitMs: number,
      signal: AbortSignal,
    ): Promise<HookReply> {
      if (input.transcript_path) deps.onTranscript(input.transcript_path);
      switch (event) {
        case "SessionStart":
          return {};
        case "UserPromptSubmit": {
          deps.onStatus("working");
          const batch = coordinator.take("hook");
          return batch.length > 0 ? additionalContext(event, framed(batch)) : {};
        }
        case "PostToolUse": {
          const batch = coordinator.take("hook");
          return batch.length > 0 ? additionalContext(event, framed(batch)) : {};
        }
        case "Stop": {
          // stop_hook_active: this stop already follows a block of ours — never loop.
          if (!input.stop_hook_active) {
            const batch = coordinator.take("hook", (e) => e.priority === "now");
            if (batch.length > 0)
              return { stdout: JSON.stringify({ decision: "block", reason: framed(batch) }) };
          }
          deps.onStatus("idle");
          return {};
        }
        case "Rewake": {
          rewaking?.abort();
          const mine = new AbortController();
          rewaking = mine;
          signal.addEventListener("abort", () => mine.abort(), { once: true });
          const batch = await coordinator.waitForPending(
            Math.max(0, waitMs - 250),
            deps.rewakeGraceMs ?? 2_000,
            mine.signal,
          );
          if (rewaking === mine) rewaking = null;
          return batch.length > 0 ? { stderr: framed(batch), exit: 2 } : {};
        }
      }
    },
  };
}
