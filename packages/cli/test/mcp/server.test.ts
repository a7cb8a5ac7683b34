// mcp server — the five tools through a real MCP client (in-memory transport) over fake mesh links: validation, replies, pushes.
import { afterEach, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { InboundMessage, SendResult } from "@claudemesh/client";
import type { Peer } from "@claudemesh/protocol";
import { createClaudemeshServer, type ClaudemeshServer } from "../../src/mcp/server.js";
import type { ToolLink } from "../../src/mcp/tools.js";

const key = (c: string): string => c.repeat(64);

function peer(name: string, pubkey: string, extra: Partial<Peer> = {}): Peer {
  return {
    memberId: `m-${name}`,
    pubkey,
    displayName: name,
    role: "member",
    parent: null,
    status: "idle",
    summary: null,
    online: true,
    lastSeenAt: null,
    channels: [],
    ...extra,
  };
}

function message(text: string, sentAt: string, meshSlug = "team"): InboundMessage {
  return {
    messageId: `id-${text}`,
    meshId: "mesh",
    meshSlug,
    from: "bob",
    fromPubkey: key("1"),
    targetSpec: key("a"),
    kind: "direct",
    priority: "next",
    text,
    sentAt,
  };
}

/** A fake mesh link whose client calls are recorded and scripted. */
class FakeLink implements ToolLink {
  sends: Array<{ targetSpec: string; message: string; priority: string }> = [];
  summaries: string[] = [];
  statuses: Array<{ status: string; source?: string }> = [];
  inbox: InboundMessage[] = [];
  sendResult: () => Promise<SendResult> = async () => ({ messageId: "msg-1", queued: false });
  fail: string | null = null;
  live = true;
  readonly displayName = "me";

  constructor(
    readonly meshSlug: string,
    readonly pubkey: string,
    private readonly others: Peer[],
  ) {}

  async peers(): Promise<{ peers: Peer[]; live: boolean }> {
    return { peers: [peer("me", this.pubkey), ...this.others], live: this.live };
  }

  requireClient() {
    const check = (): void => {
      if (this.fail) throw new Error(this.fail);
    };
    return {
      send: (targetSpec: string, message: string, priority: "now" | "next" | "low") => {
        this.sends.push({ targetSpec, message, priority });
        return this.sendResult();
      },
      setSummary: async (summary: string) => {
        check();
        this.summaries.push(summary);
      },
      setStatus: async (status: "idle" | "working" | "dnd", source?: "manual" | "jsonl") => {
        check();
        this.statuses.push({ status, ...(source ? { source } : {}) });
      },
      drainInbox: () => this.inbox.splice(0),
    };
  }
}

const logs: string[] = [];
const log = { info: (m: string) => void logs.push(m), warn: (m: string) => void logs.push(m) };
let open: Array<{ client: Client; server: ClaudemeshServer }> = [];

async function connect(
  links: FakeLink[],
  options: { replyWaitMs?: number; initialize?: boolean } = {},
): Promise<{ client: Client; server: ClaudemeshServer; pushes: Array<Record<string, unknown>> }> {
  const server = createClaudemeshServer({
    links,
    version: "9.9.9",
    log,
    ...(options.replyWaitMs !== undefined ? { replyWaitMs: options.replyWaitMs } : {}),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  const client = new Client({ name: "test", version: "0" });
  const pushes: Array<Record<string, unknown>> = [];
  client.fallbackNotificationHandler = async (n) => {
    pushes.push(n as unknown as Record<string, unknown>);
  };
  await server.mcp.connect(serverSide);
  await client.connect(clientSide);
  open.push({ client, server });
  return { client, server, pushes };
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

afterEach(async () => {
  for (const { client, server } of open) {
    await client.close();
    await server.mcp.close();
  }
  open = [];
  logs.length = 0;
});

describe("mcp server - handshake", () => {
  it("declares claude/channel, tools and instructions naming this session", async () => {
    const { client } = await connect([new FakeLink("team", key("a"), [])]);
    expect(client.getServerCapabilities()?.experimental).toEqual({ "claude/channel": {} });
    expect(client.getServerVersion()).toMatchObject({ name: "claudemesh", version: "9.9.9" });
    expect(client.getInstructions()).toContain('"me" in mesh team');
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(tools).toEqual(["check_messages", "list_peers", "send_message", "set_status", "set_summary"]);
  });
});

describe("mcp server - send_message", () => {
  it("resolves the name, sends with the default priority, and returns the message id", async () => {
    const link = new FakeLink("team", key("a"), [peer("bob", key("1"))]);
    const { client } = await connect([link]);
    const result = await call(client, "send_message", { to: "bob", message: "hi" });
    expect(result.isError).toBeFalsy();
    expect(link.sends).toEqual([{ targetSpec: key("1"), message: "hi", priority: "next" }]);
    expect(text(result)).toBe(
      "Sent to bob (11111111) in mesh team (message id msg-1) — delivered to the broker and pushed to the recipient(s).",
    );
    expect(result.structuredContent).toEqual({
      messageId: "msg-1",
      queued: false,
      sent: true,
      to: "bob (11111111)",
      mesh: "team",
    });
  });

  it("says when the broker queued it for an offline or busy recipient", async () => {
    const link = new FakeLink("team", key("a"), [peer("bob", key("1"))]);
    link.sendResult = async () => ({ messageId: "msg-2", queued: true });
    const { client } = await connect([link]);
    const result = await call(client, "send_message", { to: "bob", message: "hi", priority: "low" });
    expect(text(result)).toContain("queued: a recipient is offline or busy");
    expect(link.sends[0]?.priority).toBe("low");
  });

  it("answers 'queued' when the ack does not come in time, and logs the late outcome", async () => {
    const link = new FakeLink("team", key("a"), [peer("bob", key("1"))]);
    let ack!: (r: SendResult) => void;
    link.sendResult = () => new Promise((resolve) => (ack = resolve));
    const { client } = await connect([link], { replyWaitMs: 20 });
    const result = await call(client, "send_message", { to: "bob", message: "later" });
    expect(result.isError).toBeFalsy();
    expect(text(result)).toMatch(/^Queued for bob \(11111111\) in mesh team: the broker is not reachable/);
    expect(result.structuredContent).toMatchObject({ messageId: null, queued: true, sent: false });
    ack({ messageId: "late-1", queued: false });
    await new Promise((r) => setTimeout(r, 10));
    expect(logs.some((l) => l.includes("delivered to the broker as late-1"))).toBe(true);
  });

  it("turns a send failure into a tool error with its message", async () => {
    const link = new FakeLink("team", key("a"), [peer("bob", key("1"))]);
    link.sendResult = () => Promise.reject(new Error("outbound queue is full (100 messages waiting)"));
    const { client } = await connect([link]);
    const result = await call(client, "send_message", { to: "bob", message: "x" });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("outbound queue is full");
  });

  it.each([
    ["a missing message", { to: "bob" }, /message/],
    ["an empty message", { to: "bob", message: "" }, /message must not be empty/],
    ["a blank target", { to: "   ", message: "x" }, /to must name a peer/],
    ["an unknown priority", { to: "bob", message: "x", priority: "urgent" }, /priority/],
  ])("rejects %s before sending", async (_name, args, pattern) => {
    const link = new FakeLink("team", key("a"), [peer("bob", key("1"))]);
    const { client } = await connect([link]);
    const result = await call(client, "send_message", args);
    expect(result.isError).toBe(true);
    expect(text(result)).toMatch(pattern);
    expect(link.sends).toEqual([]);
  });

  it("reports an unknown target with the candidates and sends nothing", async () => {
    const link = new FakeLink("team", key("a"), [peer("bob", key("1")), peer("carol", key("2"))]);
    const { client } = await connect([link]);
    const result = await call(client, "send_message", { to: "zed", message: "x" });
    expect(result.isError).toBe(true);
    expect(text(result)).toContain("bob (11111111), carol (22222222)");
    expect(link.sends).toEqual([]);
  });
});

describe("mcp server - list_peers, check_messages, set_summary, set_status", () => {
  it("lists peers per mesh, marks you, and notes a stale list", async () => {
    const team = new FakeLink("team", key("a"), [
      peer("bob", key("1"), { status: "working", summary: "on it" }),
    ]);
    const infra = new FakeLink("infra", key("b"), [peer("dave", key("4"))]);
    infra.live = false;
    const { client } = await connect([team, infra]);
    const all = text(await call(client, "list_peers"));
    expect(all).toContain("mesh team — 2 peers:");
    expect(all).toContain("- me (you)");
    expect(all).toContain("- bob · member · online · working");
    expect(all).toContain("mesh infra — 2 peers:");
    expect(all).toContain("broker unreachable for infra: showing the last known list");
    const one = text(await call(client, "list_peers", { mesh_slug: "infra" }));
    expect(one).not.toContain("mesh team");
    const bad = await call(client, "list_peers", { mesh_slug: "Not A Slug" });
    expect(bad.isError).toBe(true);
  });

  it("drains every mesh's buffer, oldest first, then says there is nothing new", async () => {
    const team = new FakeLink("team", key("a"), []);
    const infra = new FakeLink("infra", key("b"), []);
    team.inbox.push(message("second", "2025-06-01T12:00:02.000Z"));
    infra.inbox.push(message("first", "2025-06-01T12:00:01.000Z", "infra"));
    const { client } = await connect([team, infra]);
    const got = text(await call(client, "check_messages"));
    expect(got.indexOf("first")).toBeLessThan(got.indexOf("second"));
    expect(got).toMatch(/^2 new messages/);
    expect(text(await call(client, "check_messages"))).toBe("No new messages.");
  });

  it("sets the summary in every mesh, trimmed, and rejects empty or over-long ones", async () => {
    const team = new FakeLink("team", key("a"), []);
    const infra = new FakeLink("infra", key("b"), []);
    const { client } = await connect([team, infra]);
    expect(text(await call(client, "set_summary", { summary: "  fixing auth  " }))).toBe(
      "Summary updated (mesh team, infra).",
    );
    expect(team.summaries).toEqual(["fixing auth"]);
    expect(infra.summaries).toEqual(["fixing auth"]);
    for (const summary of ["", "   ", "x".repeat(281)]) {
      const result = await call(client, "set_summary", { summary });
      expect(result.isError).toBe(true);
    }
    expect(team.summaries).toHaveLength(1);
  });

  it("sets a manual status, reports partial failures, and fails when every mesh fails", async () => {
    const team = new FakeLink("team", key("a"), []);
    const infra = new FakeLink("infra", key("b"), []);
    infra.fail = "mesh infra: not connected yet";
    const { client } = await connect([team, infra]);
    const partial = await call(client, "set_status", { status: "dnd" });
    expect(partial.isError).toBeFalsy();
    expect(text(partial)).toBe(
      "Status set to dnd (mesh team). Failed for mesh infra: mesh infra: not connected yet.",
    );
    expect(team.statuses).toEqual([{ status: "dnd", source: "manual" }]);
    team.fail = "down";
    expect((await call(client, "set_status", { status: "idle" })).isError).toBe(true);
    expect((await call(client, "set_status", { status: "busy" })).isError).toBe(true);
  });

  it("explains that no mesh is joined", async () => {
    const { client } = await connect([]);
    expect(text(await call(client, "set_status", { status: "idle" }))).toContain("no mesh is connected");
    expect(text(await call(client, "send_message", { to: "bob", message: "x" }))).toContain("in no mesh");
    expect(text(await call(client, "check_messages"))).toBe("No new messages.");
  });
});

describe("mcp server - claude/channel pushes", () => {
  it("holds pushes until the client has initialized, then sends each as notifications/claude/channel", async () => {
    const server = createClaudemeshServer({ links: [], version: "0", log });
    server.pushMessage(message("early", "2025-06-01T12:00:00.000Z"));
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "test", version: "0" });
    const pushes: Array<{ method: string; params: unknown }> = [];
    client.fallbackNotificationHandler = async (n) =>
      void pushes.push(n as { method: string; params: unknown });
    await server.mcp.connect(serverSide);
    await client.connect(clientSide);
    open.push({ client, server });
    server.pushMessage(message("late", "2025-06-01T12:00:01.000Z"));
    await new Promise((r) => setTimeout(r, 20));
    expect(pushes.map((p) => p.method)).toEqual([
      "notifications/claude/channel",
      "notifications/claude/channel",
    ]);
    expect(pushes[0]?.params).toEqual({
      content: "early",
      meta: {
        from: "bob",
        from_pubkey: key("1"),
        mesh: "team",
        priority: "next",
        message_id: "id-early",
        sent_at: "2025-06-01T12:00:00.000Z",
      },
    });
    expect((pushes[1]?.params as { content: string }).content).toBe("late");
  });
});
