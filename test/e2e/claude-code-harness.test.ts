// Proves the real-Claude-Code harness: scripted turns, a built-in tool call, and the session inbox socket in print and interactive (tmux) mode.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  endsWithToolResult,
  lastUserPrompt,
  lastUserText,
  requestText,
  startFakeAnthropic,
  toolResults,
  type FakeAnthropic,
  type RecordedRequest,
} from "./helpers/claude-code/fake-anthropic.js";
import { makeScratchHome, type ScratchHome } from "./helpers/claude-code/scratch-home.js";
import {
  inboxUserLine,
  startInteractiveSession,
  startPrintSession,
  startReceiptListener,
  tmuxAvailable,
  writeInbox,
  type ClaudeSession,
  waitForInboxDelivery,
  type ReceiptListener,
} from "./helpers/claude-code/session.js";

const PEER_PREFIX = "Another Claude session sent a message";

let fake: FakeAnthropic;
const homes: ScratchHome[] = [];
const sessions: ClaudeSession[] = [];
const listeners: ReceiptListener[] = [];

const PROBE_SERVER = fileURLToPath(
  new URL("./helpers/claude-code/fixtures/probe-mcp-server.mjs", import.meta.url),
);

function scratch(options: Parameters<typeof makeScratchHome>[0] = {}): ScratchHome {
  const home = makeScratchHome(options);
  homes.push(home);
  return home;
}

const mainWith = (needle: string) => (req: RecordedRequest) =>
  req.kind === "main" && lastUserText(req.body).includes(needle);

beforeAll(async () => {
  fake = await startFakeAnthropic();
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((session) => session.stop()));
  await Promise.all(listeners.splice(0).map((listener) => listener.close()));
  for (const home of homes.splice(0)) home.cleanup();
  fake.clear();
});

afterAll(async () => {
  await fake.close();
});

describe("claude code harness - print mode (stream-json)", () => {
  it("answers a user turn with the scripted text", { timeout: 60_000 }, async () => {
    fake.setScript((req) => ({
      type: "text",
      text: `scripted answer to: ${lastUserPrompt(req).slice(0, 40)}`,
    }));
    const session = await startPrintSession({ home: scratch(), apiUrl: fake.url });
    sessions.push(session);
    session.sendUserTurn("hello harness");
    const result = await session.waitForEvent((event) => event.type === "result", 45_000);
    expect(String(result.result)).toContain("scripted answer to: hello harness");
    await fake.waitForRequest(mainWith("hello harness"), 1_000);
  });

  it(
    "runs a scripted tool_use of the built-in Read tool and sends its result back",
    { timeout: 60_000 },
    async () => {
      const home = scratch();
      const file = join(home.projectDir, "note.txt");
      writeFileSync(file, "NOTE-CONTENT-4711\n");
      fake.setScript((req) =>
        endsWithToolResult(req)
          ? { type: "text", text: "read it" }
          : { type: "tool_use", name: "Read", input: { file_path: file } },
      );
      const session = await startPrintSession({ home, apiUrl: fake.url, args: ["--allowedTools", "Read"] });
      sessions.push(session);
      session.sendUserTurn("please read the note");
      const result = await session.waitForEvent((event) => event.type === "result", 45_000);
      expect(String(result.result)).toContain("read it");
      const followUp = await fake.waitForRequest(
        (req) => req.kind === "main" && endsWithToolResult(req.body),
        1_000,
      );
      expect(JSON.stringify(toolResults(followUp.body))).toContain("NOTE-CONTENT-4711");
    },
  );

  it(
    "an inbox-socket line from an external writer starts a turn, lands in the transcript, and a duplicate comes back as a receipt",
    { timeout: 60_000 },
    async () => {
      fake.setScript(() => ({ type: "text", text: "peer message seen" }));
      const session = await startPrintSession({ home: scratch(), apiUrl: fake.url });
      sessions.push(session);
      const socket = await session.messagingSocket(30_000);
      const listener = await startReceiptListener(socket);
      listeners.push(listener);
      const line = inboxUserLine("HARNESS-PEER-1 hello from outside", { from: listener.from });
      // No user turn was sent: the idle session starts one by itself.
      expect(await writeInbox(socket, [line])).toBe("");
      const request = await fake.waitForRequest(mainWith("HARNESS-PEER-1"), 30_000);
      expect(lastUserText(request.body)).toContain(`${PEER_PREFIX}:\nHARNESS-PEER-1 hello from outside`);
      await session.waitForEvent((event) => event.type === "result", 30_000);
      const entry = await waitForInboxDelivery(session, line.msg_id, 10_000);
      expect(entry.origin).toMatchObject({ kind: "peer", from: listener.from, msg_id: line.msg_id });

      const duplicate = inboxUserLine(line.message.content, { from: listener.from });
      await writeInbox(socket, [duplicate]);
      const receipt = await listener.waitForReceipt((r) => r.orig_msg_id === duplicate.msg_id, 10_000);
      expect(receipt).toMatchObject({
        type: "control",
        action: "peer_message_status",
        status: "dropped",
        drop_reason: "duplicate",
        from: `uds:${socket}`,
      });
    },
  );
});

describe("claude code harness - scratch home with hooks and an MCP server", () => {
  it(
    "a settings.json hook's additionalContext and a `claude mcp add` server's tool result reach the model (structuredContent replaces the text)",
    { timeout: 60_000 },
    async () => {
      const home = scratch({
        settings: {
          hooks: {
            UserPromptSubmit: [
              {
                hooks: [
                  {
                    type: "command",
                    command: `node -e 'process.stdout.write(JSON.stringify({hookSpecificOutput:{hookEventName:"UserPromptSubmit",additionalContext:"HOOK-CTX-4242"}}))'`,
                  },
                ],
              },
            ],
          },
        },
      });
      const log = join(home.root, "probe.log");
      home.addMcpServer({
        name: "probe",
        command: process.execPath,
        args: [PROBE_SERVER],
        env: { PROBE_MCP_LOG: log },
      });
      fake.setScript((req) =>
        endsWithToolResult(req)
          ? { type: "text", text: "probe done" }
          : { type: "tool_use", name: "mcp__probe__probe", input: {} },
      );
      const session = await startPrintSession({
        home,
        apiUrl: fake.url,
        args: ["--allowedTools", "mcp__probe"],
      });
      sessions.push(session);
      session.sendUserTurn("call the probe");
      const result = await session.waitForEvent((event) => event.type === "result", 45_000);
      expect(String(result.result)).toContain("probe done");
      const first = await fake.waitForRequest(mainWith("call the probe"), 1_000);
      expect(requestText(first.body)).toContain("HOOK-CTX-4242");
      const followUp = await fake.waitForRequest(
        (req) => req.kind === "main" && endsWithToolResult(req.body),
        1_000,
      );
      const [toolResult] = toolResults(followUp.body);
      expect(toolResult?.content).toBe(JSON.stringify({ s: "PROBE-STRUCT-PART" }));
      expect(JSON.stringify(followUp.body)).not.toContain("PROBE-TEXT-PART");
      const started = readFileSync(log, "utf8")
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as { event: string; ppid?: number; messagingSocket?: string | null })
        .find((entry) => entry.event === "start");
      // The MCP server is Claude Code's direct child and inherits the inbox socket path.
      expect(started?.ppid).toBe(await session.pid());
      expect(started?.messagingSocket).toBe(await session.messagingSocket());
    },
  );
});

const haveTmux = tmuxAvailable();
if (!haveTmux)
  console.warn("SKIPPED interactive Claude Code harness tests: tmux is not installed (apt-get install tmux)");

describe.skipIf(!haveTmux)("claude code harness - interactive mode (private tmux server)", () => {
  it(
    "an idle interactive session starts a turn by itself for an inbox-socket line",
    { timeout: 60_000 },
    async () => {
      fake.setScript((req) => ({
        type: "text",
        text: lastUserText(req).includes("HARNESS-PEER-TUI") ? "TUI-REPLY-TO-PEER" : "TUI-OTHER",
      }));
      const session = await startInteractiveSession({ home: scratch(), apiUrl: fake.url });
      sessions.push(session);
      const socket = await session.messagingSocket(30_000);
      expect((await session.registry()).messagingSocketPath).toBe(socket);
      await session.waitForStatus("idle", 30_000);
      await writeInbox(socket, [inboxUserLine("HARNESS-PEER-TUI ping")]);
      const request = await fake.waitForRequest(mainWith("HARNESS-PEER-TUI"), 30_000);
      expect(lastUserText(request.body)).toContain(`${PEER_PREFIX}:\nHARNESS-PEER-TUI ping`);
      await session.waitForScreen(/TUI-REPLY-TO-PEER/, 20_000);
    },
  );
});
