// `claudemesh mcp`: the per-session stdio MCP server (SPEC §5) — identities, broker links, tools, pushes, jsonl status, clean exit.
import { Writable, type Readable } from "node:stream";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { InboundMessage } from "@claudemesh/client";
import { CLAUDEMESH_VERSION } from "@claudemesh/protocol";
import {
  isConfigError,
  loadConfig,
  registerSession,
  type Env,
  type MeshEntry,
  type SessionRegistration,
} from "../config/index.js";
import { MCP_USAGE, McpUsageError, parseMcpArgs, type McpArgs } from "./args.js";
import { MeshLink } from "./link.js";
import { createMcpLog, guardConsole, guardStdout, type McpLog } from "./log.js";
import { createClaudemeshServer } from "./server.js";
import { SessionDelivery } from "../delivery/session-delivery.js";
import type { EarlyInit } from "./early-init.js";

/** The streams the server runs on: the process's own stdio in production, pipes in tests. */
export interface McpIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

/** The CLI's text Io (stdout/stderr as functions): the server then speaks on the process's own stdio. */
export interface TextIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

function isStreamIo(io: McpIo | TextIo): io is McpIo {
  return typeof (io as McpIo).stdout.write === "function";
}

/**
 * Streams for `io`: as given, or — for the CLI's text Io, whose writers go to this process's
 * stdout/stderr anyway — the process's own stdin/stdout (MCP frames need a real stream) with
 * diagnostics through the Io's stderr writer.
 */
function toStreams(io: McpIo | TextIo): McpIo {
  if (isStreamIo(io)) return io;
  const stderr = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      io.stderr(chunk.toString("utf8"));
      callback();
    },
  });
  return { stdin: process.stdin, stdout: process.stdout, stderr };
}

/** Start-up waits at most this long for enrollment before starting delivery; the rest continues in the background. */
const STARTUP_WAIT_MS = 5_000;

/**
 * Optional tuning from the environment (SPEC §7 numbers stay the defaults):
 * `CLAUDEMESH_RECONNECT_BACKOFF_MS` — comma-separated reconnect/enrollment retry delays in ms
 * (default 1000,2000,4000,8000,16000,30000); `CLAUDEMESH_MCP_REPLY_WAIT_MS` — how long
 * send_message waits for the broker's ack before answering "queued" (default 5000).
 * A malformed value is ignored with a warning.
 */
export function mcpTunables(env: Env, log: McpLog): { backoffMs?: number[]; replyWaitMs?: number } {
  const out: { backoffMs?: number[]; replyWaitMs?: number } = {};
  const backoff = env.CLAUDEMESH_RECONNECT_BACKOFF_MS;
  if (backoff) {
    const steps = backoff.split(",").map((v) => Number(v.trim()));
    if (steps.every((n) => Number.isInteger(n) && n > 0)) out.backoffMs = steps;
    else
      log.warn(
        `CLAUDEMESH_RECONNECT_BACKOFF_MS="${backoff}" ignored: expected positive integers like 1000,2000,4000`,
      );
  }
  const wait = env.CLAUDEMESH_MCP_REPLY_WAIT_MS;
  if (wait) {
    const ms = Number(wait);
    if (Number.isInteger(ms) && ms > 0) out.replyWaitMs = ms;
    else log.warn(`CLAUDEMESH_MCP_REPLY_WAIT_MS="${wait}" ignored: expected a positive integer (ms)`);
  }
  return out;
}

/** The meshes to serve: all joined ones, or those named by --mesh (an unknown slug is a usage error). */
function chooseMeshes(env: Env, args: McpArgs, log: McpLog): MeshEntry[] {
  let meshes: MeshEntry[];
  try {
    meshes = loadConfig(env).meshes;
  } catch (err) {
    // Still serve MCP: the tools then explain that no mesh is joined, instead of Claude Code
    // reporting a crashed server with no hint.
    if (isConfigError(err)) {
      log.warn(err.message);
      return [];
    }
    throw err;
  }
  if (args.meshes.length === 0) return meshes;
  const unknown = args.meshes.filter((slug) => !meshes.some((m) => m.slug === slug));
  if (unknown.length > 0)
    throw new McpUsageError(
      `--mesh ${unknown.join(", ")}: not joined (joined: ${meshes.map((m) => m.slug).join(", ") || "none"})`,
    );
  return meshes.filter((m) => args.meshes.includes(m.slug));
}

/** Resolves when stdin ends or closes, the transport closes, or SIGTERM/SIGINT arrives. */
function untilStopped(
  io: McpIo,
  transport: StdioServerTransport,
): { stopped: Promise<string>; dispose: () => void } {
  let dispose = (): void => undefined;
  const stopped = new Promise<string>((resolve) => {
    const onEnd = (): void => resolve("stdin closed");
    const onTerm = (): void => resolve("SIGTERM");
    const onInt = (): void => resolve("SIGINT");
    io.stdin.once("end", onEnd);
    io.stdin.once("close", onEnd);
    transport.onclose = () => resolve("transport closed");
    process.once("SIGTERM", onTerm);
    process.once("SIGINT", onInt);
    dispose = () => {
      io.stdin.off("end", onEnd);
      io.stdin.off("close", onEnd);
      process.off("SIGTERM", onTerm);
      process.off("SIGINT", onInt);
    };
  });
  return { stopped, dispose: () => dispose() };
}

/**
 * Runs the MCP server until the MCP client goes away. Returns the exit code: 0 after a clean
 * shutdown, 2 for usage errors. Only MCP frames are written to `io.stdout`.
 */
export async function runMcpServer(
  args: readonly string[],
  env: Env,
  givenIo: McpIo | TextIo,
  /** The front that already answered initialize (commands/mcp.ts); the transport then reads and writes through it. */
  front?: EarlyInit,
): Promise<number> {
  const io = toStreams(givenIo);
  const log = createMcpLog(io.stderr);
  let parsed: McpArgs;
  try {
    parsed = parseMcpArgs(args);
  } catch (err) {
    if (err instanceof McpUsageError) {
      io.stderr.write(`claudemesh mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (parsed.help) {
    io.stdout.write(
      `${MCP_USAGE}\n\nRuns one agent session's MCP server on stdio: tools send_message, list_peers, check_messages,\nset_summary, set_status, message_status; inbound messages go into the session through Claude Code's\nsession inbox socket, else its hooks or check_messages.\n  --name NAME     agent name in every mesh (default: the working directory's name)\n  --mesh SLUG     serve only this mesh (repeatable; default: all joined meshes)\n  --channel NAME  join #NAME in every served mesh (repeatable)\n  --push-channels also push as notifications/claude/channel (only with Claude Code channels enabled)\n`,
    );
    return 0;
  }

  const restoreConsole = guardConsole(io.stderr);
  const { frames, restore: restoreStdout } = guardStdout(io.stdout, io.stderr);
  const cwd = process.cwd();
  const sessionId = env.CLAUDE_CODE_SESSION_ID || undefined;
  const tunables = mcpTunables(env, log);
  const links: MeshLink[] = [];
  let session: SessionRegistration | undefined;
  let delivery: SessionDelivery | null = null;
  try {
    let meshes: MeshEntry[];
    try {
      meshes = chooseMeshes(env, parsed, log);
    } catch (err) {
      if (err instanceof McpUsageError) {
        io.stderr.write(`claudemesh mcp: ${err.message}\n`);
        return 2;
      }
      throw err;
    }

    // The ledger must exist before the first push arrives (an offline queue drains at hello).
    const early: Array<{ slug: string; message: InboundMessage }> = [];
    for (const mesh of meshes) {
      try {
        links.push(
          new MeshLink({
            env,
            mesh,
            requestedName: parsed.name,
            cwd,
            sessionId,
            channels: parsed.channels,
            log,
            onMessage: (m) => {
              if (delivery) delivery.receive(mesh.slug, m);
              else early.push({ slug: mesh.slug, message: m });
            },
            ...(tunables.backoffMs
              ? { clientOptions: { backoffMs: tunables.backoffMs }, enrollBackoffMs: tunables.backoffMs }
              : {}),
          }),
        );
      } catch (err) {
        log.warn(`mesh ${mesh.slug}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (links.length > 0) {
      session = registerSession({
        env,
        cwd,
        ...(sessionId !== undefined ? { sessionId } : {}),
        agents: links.map((l) => ({
          meshSlug: l.meshSlug,
          meshId: l.meshId,
          agentName: l.identity.name,
          agentPubkey: l.pubkey,
        })),
      });
    }

    const server = createClaudemeshServer({
      links,
      version: CLAUDEMESH_VERSION,
      log,
      takeMessages: () => delivery?.coordinator.take("check_messages").map((d) => d.entry) ?? [],
      ...(tunables.replyWaitMs !== undefined ? { replyWaitMs: tunables.replyWaitMs } : {}),
    });
    delivery = new SessionDelivery({
      env,
      cwd,
      log,
      inboxDisabled: env.CLAUDEMESH_INBOX_SOCKET === "off",
      links: links.map((l) => ({
        meshSlug: l.meshSlug,
        pubkey: l.pubkey,
        sendShown: (ids) => l.requireClient().sendReceipt(ids, "shown"),
        setStatus: (status) =>
          void l.client
            ?.setStatus(status, "jsonl")
            .catch((err: unknown) => log.warn(`mesh ${l.meshSlug}: status not sent: ${String(err)}`)),
      })),
      laterRoutes: [server.channelRoute(parsed.pushChannels)],
    });
    for (const { slug, message } of early.splice(0)) delivery.receive(slug, message);

    // Answer Claude Code at once: enrollment and the broker connection go on in the background
    // (a tool called before they finish waits a moment for them, or says it is still connecting).
    const transport = front
      ? new StdioServerTransport(front.input, front.output(frames))
      : new StdioServerTransport(io.stdin, frames);
    transport.onerror = (err) => log.warn(`MCP transport: ${err.message}`);
    const { stopped: stoppedHere, dispose } = untilStopped(io, transport);
    const stopped = front ? Promise.race([stoppedHere, front.signalled]) : stoppedHere;
    await server.mcp.connect(transport);
    await Promise.race([
      Promise.allSettled(links.map((l) => l.start())),
      new Promise((resolve) => setTimeout(resolve, STARTUP_WAIT_MS).unref()),
    ]);
    // After the links: a status read at once (registry, transcript) finds their clients.
    await delivery.start();
    log.info(
      links.length > 0
        ? `serving ${links.map((l) => `"${l.displayName}" in ${l.meshSlug}`).join(", ")}; route: ${delivery.describeRoute()}`
        : "serving with no mesh joined",
    );

    const reason = await stopped;
    dispose();
    log.info(`shutting down (${reason})`);
    await server.mcp.close().catch(() => undefined);
    return 0;
  } finally {
    front?.close();
    await Promise.allSettled(links.map((l) => l.close()));
    await delivery?.close();
    session?.unregister();
    restoreStdout();
    restoreConsole();
  }
}
