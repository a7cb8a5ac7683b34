// doctor check: the registered MCP server starts and negotiates a revision Claude Code registers channels on (≤ 2025-11-25, SPEC §5).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cliInvocation, desiredServer, type McpServerSpec } from "../../claude-code/mcp-registration.js";
import { effectiveRegistration } from "./registration.js";
import type { CheckResult, DoctorCheck } from "./types.js";

/** The newest MCP revision on which Claude Code still registers `claude/channel` notifications (SPEC §5 route 3). */
export const MAX_CHANNEL_REVISION = "2025-11-25";
/** What doctor offers in initialize: a revision newer than any server knows, so the server's own pin shows. */
const OFFERED_REVISION = "2099-12-31";

/**
 * Starts `spec` with an empty temporary config dir (so it contacts no broker and enrolls nothing),
 * sends `initialize`, and returns the reply's result; rejects on exit, bad output or timeout.
 */
export function initializeServer(
  spec: McpServerSpec,
  env: Record<string, string | undefined>,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const scratch = mkdtempSync(join(tmpdir(), "claudemesh-doctor-"));
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    const child = spawn(spec.command, spec.args, {
      env: { ...env, ...spec.env, CLAUDEMESH_CONFIG_DIR: scratch },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    const finish = (fn: () => void): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no initialize reply within ${timeoutMs} ms`))),
      timeoutMs,
    );
    child.on("error", (e) => finish(() => reject(e)));
    child.on("exit", (code) =>
      finish(() =>
        reject(
          new Error(
            `exited ${code ?? "on a signal"} before answering${err ? `: ${err.trim().split("\n")[0]}` : ""}`,
          ),
        ),
      ),
    );
    child.stderr.on("data", (c: Buffer) => (err += c.toString()));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
      for (const line of out.split("\n").slice(0, -1)) {
        let msg: { id?: unknown; result?: Record<string, unknown>; error?: { message?: string } };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          finish(() =>
            reject(new Error(`wrote something other than an MCP frame to stdout: ${line.slice(0, 80)}`)),
          );
          return;
        }
        if (msg.id !== 1) continue;
        if (msg.result) finish(() => resolve(msg.result!));
        else finish(() => reject(new Error(`initialize failed: ${msg.error?.message ?? "no result"}`)));
        return;
      }
    });
    child.stdin.write(
      `${JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: {
          protocolVersion: OFFERED_REVISION,
          capabilities: {},
          clientInfo: { name: "claudemesh-doctor", version: "1" },
        },
      })}\n`,
    );
  }).finally(() => rmSync(scratch, { recursive: true, force: true }));
}

export const mcpRevisionCheck: DoctorCheck = {
  id: "mcp-revision",
  title: "MCP server starts; revision keeps channel notifications",
  async run({ env, cwd, timeoutMs }): Promise<CheckResult> {
    const registered = effectiveRegistration(env, cwd)?.spec;
    const spec = registered ?? desiredServer(cliInvocation(env), env);
    let result: Record<string, unknown>;
    try {
      result = await initializeServer(spec, env, Math.max(timeoutMs, 10_000));
    } catch (err) {
      return {
        ok: false,
        detail: `${registered ? "the registered" : "this"} MCP server did not answer initialize: ${(err as Error).message}`,
        fix: "claudemesh install   (then run claudemesh doctor again; CLAUDEMESH_DEBUG=1 claudemesh mcp shows why it fails)",
      };
    }
    const revision = String(result.protocolVersion ?? "");
    const channel = Boolean(
      (result.capabilities as { experimental?: Record<string, unknown> } | undefined)?.experimental?.[
        "claude/channel"
      ],
    );
    if (revision === "" || revision > MAX_CHANNEL_REVISION) {
      return {
        ok: false,
        detail: `negotiated revision ${revision || "(none)"}: Claude Code registers channel notifications only on revisions up to ${MAX_CHANNEL_REVISION}`,
        fix: "npm install -g claudemesh@latest, then claudemesh install",
      };
    }
    return {
      ok: true,
      detail: `negotiated ${revision}${channel ? "; declares claude/channel" : ""} (note: Claude Code drops channel notifications on revisions after ${MAX_CHANNEL_REVISION})`,
    };
  },
};
