// The five agent-facing tools of SPEC §5 — zod input schemas and handlers over the session's mesh links.
import { z } from "zod";
import type { InboundMessage, SendResult } from "@claudemesh/client";
import { MAX_SUMMARY_CHARS, PrioritySchema, SlugSchema, StatusSchema, type Peer } from "@claudemesh/protocol";
import { formatMessages, formatPeerList, type ListedPeer } from "./format.js";
import { resolveAcross, type TargetLink } from "./target.js";

/** How long send_message waits for the broker's ack before answering "queued locally". */
export const SEND_REPLY_WAIT_MS = 5_000;

/** What a tool needs from one mesh: MeshLink fits; tests pass fakes. */
export interface ToolLink extends TargetLink {
  readonly meshSlug: string;
  readonly pubkey: string;
  readonly displayName: string;
  peers(): Promise<{ peers: Peer[]; live: boolean }>;
  requireClient(): {
    send(targetSpec: string, message: string, priority: "now" | "next" | "low"): Promise<SendResult>;
    setSummary(summary: string): Promise<void>;
    setStatus(status: "idle" | "working" | "dnd", source?: "manual" | "jsonl"): Promise<void>;
    drainInbox(): InboundMessage[];
  };
}

export interface ToolResult {
  [key: string]: unknown;
  content: Array<{ type: "text"; text: string }>;
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

function ok(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return { content: [{ type: "text", text }], ...(structuredContent ? { structuredContent } : {}) };
}

/** A tool error the agent can read and act on (MCP `isError` result, not a protocol error). */
export function toolError(err: unknown): ToolResult {
  const message = err instanceof Error ? err.message : String(err);
  return { content: [{ type: "text", text: message }], isError: true };
}

// ------------------------------------------------------------------ input schemas (zod raw shapes)

export const sendMessageInput = {
  to: z
    .string()
    .trim()
    .min(1, "to must name a peer, #channel or *")
    .max(200)
    .describe(
      "Recipient: a display name, a pubkey or unique hex prefix (8+ chars), #channel, or * for everyone; prefix mesh-slug: when in several meshes",
    ),
  message: z.string().min(1, "message must not be empty").describe("The text to send (end-to-end encrypted)"),
  priority: PrioritySchema.optional().describe(
    "now = interrupt even if busy; next (default) = when idle; low = whenever convenient",
  ),
};

export const listPeersInput = {
  mesh_slug: SlugSchema.optional().describe("Only this mesh (default: every mesh this session is in)"),
};

export const checkMessagesInput = {};

export const setSummaryInput = {
  summary: z
    .string()
    .trim()
    .min(1, "summary must not be empty")
    .max(MAX_SUMMARY_CHARS, `summary must be at most ${MAX_SUMMARY_CHARS} characters`)
    .describe("1–2 sentences on what you are doing, shown to peers (max 280 chars)"),
};

export const setStatusInput = {
  status: StatusSchema.describe("idle, working, or dnd (do not disturb: only priority now gets through)"),
};

// ------------------------------------------------------------------ handlers

type Args<T extends Record<string, z.ZodType>> = z.infer<z.ZodObject<T>>;

function selectLinks<L extends ToolLink>(links: readonly L[], slug: string | undefined): L[] {
  if (slug === undefined) return [...links];
  const found = links.filter((l) => l.meshSlug === slug);
  if (found.length === 0)
    throw new Error(
      `not in a mesh "${slug}" (connected: ${links.map((l) => l.meshSlug).join(", ") || "none"})`,
    );
  return found;
}

/** Resolves after `ms` with undefined, or with the promise's value if that settles first. */
async function settleWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface ToolDeps {
  links: readonly ToolLink[];
  /** Logs the outcome of sends that were still unacknowledged when the tool answered. */
  onLateSendResult?: (outcome: string) => void;
  replyWaitMs?: number;
}

export async function sendMessage(deps: ToolDeps, args: Args<typeof sendMessageInput>): Promise<ToolResult> {
  try {
    const target = await resolveAcross(deps.links, args.to);
    const link = target.link as ToolLink;
    const priority = args.priority ?? "next";
    const sending = link.requireClient().send(target.targetSpec, args.message, priority);
    const result = await settleWithin(sending, deps.replyWaitMs ?? SEND_REPLY_WAIT_MS);
    const where = `${target.label} in mesh ${link.meshSlug}`;
    if (result === undefined) {
      sending.then(
        (r) =>
          deps.onLateSendResult?.(`queued message to ${where} delivered to the broker as ${r.messageId}`),
        (e: unknown) =>
          deps.onLateSendResult?.(
            `queued message to ${where} failed: ${e instanceof Error ? e.message : String(e)}`,
          ),
      );
      return ok(
        `Queued for ${where}: the broker is not reachable right now; the message will be sent when the connection returns.`,
        { messageId: null, queued: true, sent: false, to: target.label, mesh: link.meshSlug },
      );
    }
    const state = result.queued
      ? "queued: a recipient is offline or busy and will get it when available"
      : "delivered to the broker and pushed to the recipient(s)";
    return ok(`Sent to ${where} (message id ${result.messageId}) — ${state}.`, {
      messageId: result.messageId,
      queued: result.queued,
      sent: true,
      to: target.label,
      mesh: link.meshSlug,
    });
  } catch (err) {
    return toolError(err);
  }
}

export async function listPeers(deps: ToolDeps, args: Args<typeof listPeersInput>): Promise<ToolResult> {
  try {
    const links = selectLinks(deps.links, args.mesh_slug);
    const groups: Array<{ meshSlug: string; peers: ListedPeer[]; live: boolean }> = [];
    for (const link of links) {
      const { peers, live } = await link.peers();
      groups.push({
        meshSlug: link.meshSlug,
        live,
        peers: peers.map((p) => ({ ...p, meshSlug: link.meshSlug, you: p.pubkey === link.pubkey })),
      });
    }
    const stale = groups.filter((g) => !g.live).map((g) => g.meshSlug);
    const note =
      stale.length > 0 ? `\n\n(broker unreachable for ${stale.join(", ")}: showing the last known list)` : "";
    return ok(formatPeerList(groups) + note, {
      meshes: groups.map((g) => ({ mesh: g.meshSlug, live: g.live, peers: g.peers })),
    });
  } catch (err) {
    return toolError(err);
  }
}

export function checkMessages(deps: ToolDeps): ToolResult {
  try {
    const messages: InboundMessage[] = [];
    for (const link of deps.links) {
      try {
        messages.push(...link.requireClient().drainInbox());
      } catch {
        // A mesh that is not connected yet has no messages buffered.
      }
    }
    // Stable sort: per-sender order from each client is kept for equal timestamps.
    messages.sort((a, b) => Date.parse(a.sentAt) - Date.parse(b.sentAt));
    return ok(formatMessages(messages), { messages });
  } catch (err) {
    return toolError(err);
  }
}

/** Applies `action` to every mesh and reports per mesh; an error only when all failed. */
async function everyMesh(
  links: readonly ToolLink[],
  action: (link: ToolLink) => Promise<void>,
  done: string,
): Promise<ToolResult> {
  if (links.length === 0)
    return toolError(new Error("no mesh is connected; run 'claudemesh join <link>' first"));
  const failures: string[] = [];
  for (const link of links) {
    try {
      await action(link);
    } catch (err) {
      failures.push(`mesh ${link.meshSlug}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failures.length === links.length) return toolError(new Error(failures.join("; ")));
  const okMeshes = links
    .map((l) => l.meshSlug)
    .filter((slug) => !failures.some((f) => f.startsWith(`mesh ${slug}:`)));
  const partial = failures.length > 0 ? ` Failed for ${failures.join("; ")}.` : "";
  return ok(`${done} (mesh ${okMeshes.join(", ")}).${partial}`);
}

export function setSummary(deps: ToolDeps, args: Args<typeof setSummaryInput>): Promise<ToolResult> {
  return everyMesh(deps.links, (l) => l.requireClient().setSummary(args.summary), "Summary updated");
}

export function setStatus(deps: ToolDeps, args: Args<typeof setStatusInput>): Promise<ToolResult> {
  // A manual status outranks the transcript reading for the fresh window (SPEC §3 status model).
  return everyMesh(
    deps.links,
    (l) => l.requireClient().setStatus(args.status, "manual"),
    `Status set to ${args.status}`,
  );
}
