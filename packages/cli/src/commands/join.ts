// `claudemesh join <link>`: redeems an invite with a fresh member key and saves the membership (SPEC §2 POST /join).
import { joinMesh, readInvite } from "@claudemesh/client";
import { generateKeypair } from "@claudemesh/crypto";
import { findMesh, loadConfig, updateConfig, upsertMesh } from "../config/index.js";
import { stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK } from "../cli/errors.js";
import { println } from "../cli/io.js";
import { personName } from "./shared.js";

export const joinCommand: Command = {
  name: "join",
  summary: "Join a mesh with an invite link (ic://join/…).",
  positionals: [{ name: "link" }],
  options: {
    name: {
      type: "string",
      placeholder: "NAME",
      description:
        "your display name in the mesh (default: your login name); if taken, the broker adds a suffix and join says so",
    },
  },
  details: [
    "Agents of your Claude Code sessions are enrolled under this membership automatically (claudemesh install).",
  ],
  async run(args, { env, io }) {
    const link = args.positionals[0] as string;
    const displayName = personName(stringOption(args, "name"), env, "--name");
    // Checked locally first (shape, expiry, signature) so a bad link fails before any key is made or network used.
    const invite = readInvite({ link });
    const existing = findMesh(loadConfig(env, { missingOk: true }), invite.mesh_slug);
    if (existing?.meshId === invite.mesh_id) {
      // Joining twice is harmless: keep the membership (and its mailbox) we already have.
      println(io, `already a member of "${existing.slug}" as "${existing.displayName}" — nothing to do`);
      return EXIT_OK;
    }
    if (existing) {
      throw new CliError(
        `a different mesh "${existing.slug}" is configured here — 'claudemesh leave ${existing.slug}' first`,
      );
    }
    const kp = generateKeypair();
    const keypair = { pubkey: kp.publicKey, secretKey: kp.secretKey };
    const joined = await joinMesh({ link, keypair, displayName });
    updateConfig(env, (config) =>
      upsertMesh(config, {
        meshId: joined.meshId,
        slug: joined.meshSlug,
        brokerUrl: joined.brokerUrl,
        memberId: joined.memberId,
        // The name the broker admitted us under (another member may hold the one asked for): peers see this one.
        displayName: joined.displayName,
        role: joined.role,
        pubkey: keypair.pubkey,
        secretKey: keypair.secretKey,
        joinedAt: new Date().toISOString(),
      }),
    );
    println(
      io,
      `joined "${joined.meshSlug}" as "${joined.displayName}" (${joined.role}) via ${joined.brokerUrl}`,
    );
    if (joined.displayName !== displayName) {
      println(
        io,
        `note: the name "${displayName}" is taken in "${joined.meshSlug}", so the broker named you "${joined.displayName}" — peers see and address you as "${joined.displayName}"`,
      );
    }
    return EXIT_OK;
  },
};
