// `claudemesh invite`: prints an `ic://join/…` link signed offline by an admin identity (SPEC §2 Invites).
import { randomId, signInvite } from "@claudemesh/crypto";
import { encodeInviteLink, RoleSchema, type Role } from "@claudemesh/protocol";
import { loadConfig, selectMesh } from "../config/index.js";
import { choiceOption, intOption, stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK, UsageError } from "../cli/errors.js";
import { eprintln, println } from "../cli/io.js";

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3_600, d: 86_400 };
/** Longest invite lifetime accepted: a year. */
export const MAX_INVITE_SECONDS = 365 * 86_400;
export const DEFAULT_INVITE_SECONDS = 86_400;
export const MAX_INVITE_USES = 1_000_000;

/** Parses `24h`, `7d`, `30m`, `90s` or a bare number of seconds. */
export function parseDuration(raw: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * (UNIT_SECONDS[match[2] || "s"] ?? 1) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > MAX_INVITE_SECONDS) {
    throw new UsageError(
      `--expires must be like 30m, 24h, 7d or a number of seconds (at most 365d), got "${raw}"`,
    );
  }
  return seconds;
}

/** True for a broker URL only this machine can reach. */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "[::1]" || /^127\./.test(host);
  } catch {
    return false;
  }
}

export const inviteCommand: Command = {
  name: "invite",
  summary: "Print an invite link for a mesh you administer (made and signed offline).",
  positionals: [],
  options: {
    mesh: {
      type: "string",
      placeholder: "SLUG",
      description: "mesh to invite to (default: the only one configured)",
    },
    role: {
      type: "string",
      placeholder: "member|admin",
      description: "role the invitee gets (default: member)",
    },
    uses: { type: "string", placeholder: "N", description: "how many joins the link allows (default: 1)" },
    expires: { type: "string", placeholder: "24h|7d|<seconds>", description: "link lifetime (default: 24h)" },
    "broker-url": {
      type: "string",
      placeholder: "URL",
      description:
        "broker URL the invitee connects to (default: the broker's --public-url when it has one, else the URL you use)",
    },
  },
  details: ["The link goes to stdout alone, so LINK=$(claudemesh invite) works; details go to stderr."],
  async run(args, { env, io }) {
    const role: Role = choiceOption(args, "role", RoleSchema.options) ?? "member";
    const uses = intOption(args, "uses", 1, MAX_INVITE_USES) ?? 1;
    const expiresRaw = stringOption(args, "expires");
    const lifetime = expiresRaw === undefined ? DEFAULT_INVITE_SECONDS : parseDuration(expiresRaw);
    const mesh = selectMesh(loadConfig(env), stringOption(args, "mesh"), env);
    if (mesh.role !== "admin") {
      throw new CliError(
        `you are a member of "${mesh.slug}", not an admin — ask an admin of the mesh for an invite`,
      );
    }
    const brokerUrl = stringOption(args, "broker-url") ?? mesh.publicUrl ?? mesh.brokerUrl;
    if (!/^(?:https?|wss?):\/\/[^\s/]+/.test(brokerUrl)) {
      throw new UsageError(`--broker-url must be an http(s):// or ws(s):// URL, got "${brokerUrl}"`);
    }
    const expiresAt = Math.floor(Date.now() / 1000) + lifetime;
    const payload = signInvite(
      {
        v: 1,
        mesh_id: mesh.meshId,
        mesh_slug: mesh.slug,
        broker_url: brokerUrl,
        invite_id: randomId(),
        role,
        max_uses: uses,
        expires_at: expiresAt,
        inviter_pubkey: mesh.pubkey,
      },
      mesh.secretKey,
    );
    println(io, encodeInviteLink(payload));
    if (isLoopback(brokerUrl)) {
      eprintln(
        io,
        `note: the link points at ${brokerUrl}, which only this machine can reach — for other machines run 'claudemesh broker --host 0.0.0.0 --public-url URL' and create the mesh again, or pass --broker-url URL`,
      );
    }
    const usesText = uses === 1 ? "1 use" : `${uses} uses`;
    eprintln(
      io,
      `invite to "${mesh.slug}" as ${role}, ${usesText}, via ${brokerUrl}, expires ${new Date(expiresAt * 1000).toISOString()} — join with: claudemesh join <link>`,
    );
    return EXIT_OK;
  },
};
