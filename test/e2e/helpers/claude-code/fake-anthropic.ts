// A scripted local stand-in for the Anthropic Messages API (127.0.0.1, ephemeral port) that real Claude Code talks to in e2e tests.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One content block of a request message, as Claude Code sends it (only the fields tests read are typed). */
export interface RequestBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | RequestBlock[];
  [key: string]: unknown;
}

export interface RequestMessage {
  role: "user" | "assistant" | "system";
  content: string | RequestBlock[];
}

/** The parsed body of one POST /v1/messages. */
export interface MessagesRequest {
  model?: string;
  stream?: boolean;
  system?: string | { type: string; text: string }[];
  tools?: { name: string; [key: string]: unknown }[];
  messages: RequestMessage[];
  [key: string]: unknown;
}

/**
 * Every request the fake saw. `kind`:
 * - "main": a turn of the session's main loop (the request carries tools) — answered by the script;
 * - "side": Claude Code's own side calls without tools (session title generation, summaries, …) —
 *   answered with a fixed short text and never consuming a script turn;
 * - "count_tokens": POST /v1/messages/count_tokens;
 * - "other": anything else (e.g. GET /api/hello), answered 404.
 */
export interface RecordedRequest {
  seq: number;
  method: string;
  url: string;
  kind: "main" | "side" | "count_tokens" | "other";
  /** Parsed JSON body (an empty object when there was none or it did not parse). */
  body: MessagesRequest;
  /** Index among "main" requests (0-based); undefined for other kinds. */
  mainIndex?: number;
  receivedAt: number;
}

/** What the scripted model answers. */
export type Turn =
  | { type: "text"; text: string }
  | { type: "tool_use"; name: string; input: Record<string, unknown>; text?: string };

/** Decides the next main-loop turn from the request and its 0-based index among main requests. */
export type Script = (req: MessagesRequest, index: number) => Turn;

export interface FakeAnthropic {
  /** e.g. http://127.0.0.1:43121 — the value for ANTHROPIC_BASE_URL. */
  readonly url: string;
  /** All recorded requests, in arrival order (a live array). */
  readonly requests: RecordedRequest[];
  /** Only the main-loop requests. */
  mainRequests(): RecordedRequest[];
  /** Resolves with the first recorded request (past or future) matching predicate; rejects after timeoutMs. */
  waitForRequest(predicate: (req: RecordedRequest) => boolean, timeoutMs: number): Promise<RecordedRequest>;
  /** Forgets every recorded request and restarts the main-request index at 0 (between tests sharing one fake). */
  clear(): void;
  /** Replaces the script (takes effect for the next main request). */
  setScript(script: Script): void;
  close(): Promise<void>;
}

/** Text of every text block of a message (string content counts as one block), joined by newlines. */
export function messageText(message: RequestMessage): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((block) => (block.type === "text" && typeof block.text === "string" ? block.text : ""))
    .filter((text) => text !== "")
    .join("\n");
}

/** The last message with role "user" (Claude Code also sends role "system" context messages after it). */
export function lastUserMessage(req: MessagesRequest): RequestMessage | undefined {
  return [...(req.messages ?? [])].reverse().find((message) => message.role === "user");
}

/** Text of the last user message; "" when there is none. */
export function lastUserText(req: MessagesRequest): string {
  const message = lastUserMessage(req);
  return message === undefined ? "" : messageText(message);
}

/**
 * What the user (or a peer) typed in the last user message: its text without the
 * `<system-reminder>…</system-reminder>` blocks Claude Code prepends (attribution, context notes).
 */
export function lastUserPrompt(req: MessagesRequest): string {
  return lastUserText(req)
    .replace(/<system-reminder>[\s\S]*?<\/system-reminder>\n?/g, "")
    .trim();
}

/** True when the last user message carries a tool_result block (the model's tool call came back). */
export function endsWithToolResult(req: MessagesRequest): boolean {
  const message = lastUserMessage(req);
  return (
    message !== undefined &&
    Array.isArray(message.content) &&
    message.content.some((block) => block.type === "tool_result")
  );
}

/** The tool_result blocks of the last user message. */
export function toolResults(req: MessagesRequest): RequestBlock[] {
  const message = lastUserMessage(req);
  if (message === undefined || !Array.isArray(message.content)) return [];
  return message.content.filter((block) => block.type === "tool_result");
}

/** Every text the model can read in a request: system prompt, all message texts and tool results, joined. */
export function requestText(req: MessagesRequest): string {
  const parts: string[] = [];
  if (typeof req.system === "string") parts.push(req.system);
  else if (Array.isArray(req.system)) parts.push(...req.system.map((block) => block.text));
  const walk = (blocks: string | RequestBlock[] | undefined): void => {
    if (typeof blocks === "string") parts.push(blocks);
    else if (Array.isArray(blocks))
      for (const block of blocks) {
        if (typeof block.text === "string") parts.push(block.text);
        if (block.type === "tool_result") walk(block.content);
      }
  };
  for (const message of req.messages ?? []) walk(message.content);
  return parts.join("\n");
}

/** Default script: answers every main request with "ok <index>". */
export const echoScript: Script = (_req, index) => ({ type: "text", text: `ok ${index}` });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

interface Block {
  type: "text" | "tool_use";
  text?: string;
  id?: string;
  name?: string;
  input?: Record<string, unknown>;
}

function blocksOf(turn: Turn, seq: number): Block[] {
  if (turn.type === "text") return [{ type: "text", text: turn.text }];
  const blocks: Block[] = [];
  if (turn.text !== undefined) blocks.push({ type: "text", text: turn.text });
  blocks.push({ type: "tool_use", id: `toolu_fake_${seq}`, name: turn.name, input: turn.input });
  return blocks;
}

function respond(res: ServerResponse, body: MessagesRequest, blocks: Block[], seq: number): void {
  const stopReason = blocks.some((block) => block.type === "tool_use") ? "tool_use" : "end_turn";
  const id = `msg_fake_${seq}`;
  const usage = { input_tokens: 1, output_tokens: 1 };
  if (body.stream !== true) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        id,
        type: "message",
        role: "assistant",
        model: body.model ?? "claude-fake",
        content: blocks,
        stop_reason: stopReason,
        stop_sequence: null,
        usage,
      }),
    );
    return;
  }
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  const event = (name: string, data: unknown): void => {
    res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  event("message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model: body.model ?? "claude-fake",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage,
    },
  });
  blocks.forEach((block, index) => {
    if (block.type === "text") {
      event("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "text", text: "" },
      });
      event("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "text_delta", text: block.text },
      });
    } else {
      event("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: block.id, name: block.name, input: {} },
      });
      event("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input ?? {}) },
      });
    }
    event("content_block_stop", { type: "content_block_stop", index });
  });
  event("message_delta", {
    type: "message_delta",
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: 1 },
  });
  event("message_stop", { type: "message_stop" });
  res.end();
}

/**
 * Starts the fake on 127.0.0.1 with an ephemeral port. Main-loop requests (those carrying a
 * non-empty `tools` array) are answered by `script(body, mainIndex)`; a script that throws gets
 * an HTTP 500 with the error text (Claude Code then reports an API error), so a broken script is
 * visible in the session output rather than hanging it.
 */
export async function startFakeAnthropic(
  options: {
    script?: Script;
    /** Overrides how a POST /v1/messages is classified (default: main when it carries tools). */
    classify?: (body: MessagesRequest) => "main" | "side";
  } = {},
): Promise<FakeAnthropic> {
  const classify =
    options.classify ??
    ((body: MessagesRequest) => (Array.isArray(body.tools) && body.tools.length > 0 ? "main" : "side"));
  let script: Script = options.script ?? echoScript;
  const requests: RecordedRequest[] = [];
  const waiters = new Set<{
    predicate: (req: RecordedRequest) => boolean;
    resolve: (req: RecordedRequest) => void;
  }>();
  let seq = 0;
  let mainCount = 0;

  const record = (entry: RecordedRequest): void => {
    requests.push(entry);
    for (const waiter of [...waiters])
      if (waiter.predicate(entry)) {
        waiters.delete(waiter);
        waiter.resolve(entry);
      }
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
      let body: MessagesRequest = { messages: [] };
      try {
        if (raw !== "") body = JSON.parse(raw) as MessagesRequest;
      } catch {
        body = { messages: [] };
      }
      const url = req.url ?? "";
      const mySeq = ++seq;
      const path = url.split("?")[0];
      if (req.method === "POST" && path === "/v1/messages/count_tokens") {
        record({ seq: mySeq, method: "POST", url, kind: "count_tokens", body, receivedAt: Date.now() });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ input_tokens: 10 }));
        return;
      }
      if (req.method !== "POST" || path !== "/v1/messages") {
        record({ seq: mySeq, method: req.method ?? "", url, kind: "other", body, receivedAt: Date.now() });
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ type: "error", error: { type: "not_found_error", message: "fake" } }));
        return;
      }
      if (classify(body) === "side") {
        record({ seq: mySeq, method: "POST", url, kind: "side", body, receivedAt: Date.now() });
        respond(res, body, [{ type: "text", text: "Fake side reply" }], mySeq);
        return;
      }
      const mainIndex = mainCount++;
      record({ seq: mySeq, method: "POST", url, kind: "main", body, mainIndex, receivedAt: Date.now() });
      let turn: Turn;
      try {
        turn = script(body, mainIndex);
      } catch (error) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            type: "error",
            error: { type: "api_error", message: `fake script failed: ${String(error)}` },
          }),
        );
        return;
      }
      respond(res, body, blocksOf(turn, mySeq), mySeq);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    mainRequests: () => requests.filter((entry) => entry.kind === "main"),
    waitForRequest(predicate, timeoutMs) {
      const seen = requests.find(predicate);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          predicate,
          resolve: (entry: RecordedRequest) => {
            clearTimeout(timer);
            resolve(entry);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `fake Anthropic API: no matching request within ${timeoutMs} ms (${requests.length} recorded: ${requests
                .map((entry) => `${entry.kind}#${entry.seq}`)
                .join(", ")})`,
            ),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    clear() {
      requests.length = 0;
      mainCount = 0;
    },
    setScript(next) {
      script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
