// Drives a real `claudemesh mcp` process with the MCP SDK client over stdio, recording pushes and any non-JSON-RPC stdout.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CLI_BIN, REPO } from "./processes.js";

export interface ChannelPush {
  content: string;
  meta: Record<string, unknown>;
}

export interface McpSession {
  client: Client;
  pid: number;
  /** Every `notifications/claude/channel` received, in order. */
  pushes: ChannelPush[];
  /** Transport/protocol errors — a line on stdout that is not a JSON-RPC message lands here. */
  errors: Error[];
  stderr: () => string;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult>;
  /** Text of a successful tool call (fails the test on an error result). */
  text(name: string, args?: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

const sessions = new Set<McpSession>();

export async function startMcp(options: {
  configDir: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
}): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_BIN, "mcp", ...(options.args ?? [])],
    cwd: options.cwd ?? REPO,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: options.configDir,
      CLAUDEMESH_CONFIG_DIR: options.configDir,
      ...options.env,
    },
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  const client = new Client({ name: "claudemesh-e2e", version: "0.0.0" });
  const pushes: ChannelPush[] = [];
  const errors: Error[] = [];
  client.onerror = (err) => errors.push(err);
  client.fallbackNotificationHandler = async (notification) => {
    if (notification.method === "notifications/claude/channel")
      pushes.push(notification.params as unknown as ChannelPush);
  };
  try {
    await client.connect(transport);
  } catch (err) {
    // The transport started the process; do not leave it behind.
    await transport.close().catch(() => undefined);
    throw new Error(
      `claudemesh mcp did not start: ${err instanceof Error ? err.message : String(err)}; stderr: ${stderr}`,
    );
  }
  const pid = transport.pid ?? 0;
  const call = async (name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const session: McpSession = {
    client,
    pid,
    pushes,
    errors,
    stderr: () => stderr,
    call,
    async text(name, args) {
      const result = await call(name, args);
      const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
      if (result.isError) throw new Error(`${name} failed: ${text}`);
      return text;
    },
    async close() {
      sessions.delete(session);
      await client.close().catch(() => undefined);
      // StdioClientTransport ends stdin, then signals; make sure nothing outlives the test.
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    },
  };
  sessions.add(session);
  return session;
}

/** Closes every MCP session still open (afterAll/afterEach). */
export async function closeAllMcp(): Promise<void> {
  await Promise.all([...sessions].map((s) => s.close()));
}

/** Polls `probe` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    // Each probe is usually an MCP tool call and a broker round trip: poll gently.
    await new Promise((r) => setTimeout(r, 200));
  }
}
