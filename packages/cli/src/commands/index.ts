// Every `claudemesh` command, in the order `claudemesh --help` lists them (SPEC §6); each module loads on use.
import type { CommandEntry } from "../cli/dispatcher.js";

/**
 * Name and summary are here so `claudemesh --help` prints without loading any command module (each
 * pulls in crypto, zod schemas or ws); a test checks every summary equals its module's.
 */
export const COMMANDS: CommandEntry[] = [
  {
    name: "broker",
    summary:
      "Run a broker: HTTP + WebSocket on one port, SQLite store in the config dir unless --db says otherwise.",
    load: async () => (await import("./broker.js")).brokerCommand,
  },
  {
    name: "mesh create",
    summary: "Create a mesh on a broker; you become its first admin.",
    load: async () => (await import("./mesh-create.js")).meshCreateCommand,
  },
  {
    name: "invite",
    summary: "Print an invite link for a mesh you administer (made and signed offline).",
    load: async () => (await import("./invite.js")).inviteCommand,
  },
  {
    name: "join",
    summary: "Join a mesh with an invite link (ic://join/…).",
    load: async () => (await import("./join.js")).joinCommand,
  },
  {
    name: "list",
    summary: "List the meshes this machine belongs to.",
    load: async () => (await import("./list.js")).listCommand,
  },
  {
    name: "leave",
    summary:
      "Leave a mesh: revoke this machine's member (and its agents) on the broker, then forget its keys here.",
    load: async () => (await import("./leave.js")).leaveCommand,
  },
  {
    name: "revoke",
    summary: "Remove a member (with its agents) or an agent from a mesh on the broker, at once.",
    load: async () => (await import("./revoke.js")).revokeCommand,
  },
  {
    name: "agents",
    summary: "List your agents in a mesh (one per Claude Code session name): online or offline, last seen.",
    load: async () => (await import("./agents.js")).agentsCommand,
  },
  {
    name: "agents retire",
    summary: "Retire one of your agents: revoke it on the broker and delete its key on this machine.",
    load: async () => (await import("./agents.js")).agentsRetireCommand,
  },
  {
    name: "send",
    summary: "Send an end-to-end encrypted message to a peer, #channel or * (everyone).",
    load: async () => (await import("./send.js")).sendCommand,
  },
  {
    name: "peers",
    summary: "List the peers of a mesh: people and their agents, with status and summary.",
    load: async () => (await import("./peers.js")).peersCommand,
  },
  {
    name: "inbox",
    summary: "Print the messages waiting for you (your member identity, not your agents').",
    load: async () => (await import("./inbox.js")).inboxCommand,
  },
  {
    name: "status",
    summary:
      "Show your status and who set it, or set it by hand: idle, working or dnd (only 'now' messages get through).",
    load: async () => (await import("./status.js")).statusCommand,
  },
  {
    name: "install",
    summary: "Register the MCP server with Claude Code and add the status hooks (safe to run again).",
    load: async () => (await import("./install.js")).installCommand,
  },
  {
    name: "uninstall",
    summary: "Remove the MCP server registration and the status hooks that 'install' added.",
    load: async () => (await import("./uninstall.js")).uninstallCommand,
  },
  {
    name: "doctor",
    summary:
      "Check this machine's set-up (broker, key files, Claude Code registration, hooks) and say how to fix it.",
    load: async () => (await import("./doctor/index.js")).doctorCommand,
  },
  {
    name: "hook",
    summary:
      "Claude Code hook: hand this session's pending peer messages to the model and report its status (run by Claude Code; installed by 'claudemesh install').",
    load: async () => (await import("./hook.js")).hookCommand,
  },
  {
    name: "mcp",
    summary: "Run the MCP server for one Claude Code session (stdio; started by Claude Code, see 'install').",
    load: async () => (await import("./mcp.js")).mcpCommand,
  },
  {
    name: "demo",
    summary:
      "Start a throw-away broker, join two agents and show their conversation beside what the broker stored.",
    load: async () => (await import("./demo.js")).demoCommand,
  },
];
