// Every `claudemesh` command, in the order `claudemesh --help` lists them (SPEC §6); each module loads on use.
import type { CommandEntry } from "../cli/dispatcher.js";

export const COMMANDS: CommandEntry[] = [
  { name: "broker", load: async () => (await import("./broker.js")).brokerCommand },
  { name: "mesh create", load: async () => (await import("./mesh-create.js")).meshCreateCommand },
  { name: "invite", load: async () => (await import("./invite.js")).inviteCommand },
  { name: "join", load: async () => (await import("./join.js")).joinCommand },
  { name: "list", load: async () => (await import("./list.js")).listCommand },
  { name: "leave", load: async () => (await import("./leave.js")).leaveCommand },
  { name: "send", load: async () => (await import("./send.js")).sendCommand },
  { name: "peers", load: async () => (await import("./peers.js")).peersCommand },
  { name: "inbox", load: async () => (await import("./inbox.js")).inboxCommand },
  { name: "status", load: async () => (await import("./status.js")).statusCommand },
  { name: "install", load: async () => (await import("./install.js")).installCommand },
  { name: "uninstall", load: async () => (await import("./uninstall.js")).uninstallCommand },
  { name: "hook", load: async () => (await import("./hook.js")).hookCommand },
  { name: "mcp", load: async () => (await import("./mcp.js")).mcpCommand },
  { name: "demo", load: async () => (await import("./demo.js")).demoCommand },
];
