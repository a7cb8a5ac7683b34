// `claudemesh mesh create <slug>`: generates the owner key, creates the mesh on the broker, saves it (SPEC §2 POST /meshes).
import { createMesh, brokerUrls } from "@claudemesh/client";
import { generateKeypair } from "@claudemesh/crypto";
import { MAX_NAME_CHARS } from "@claudemesh/protocol";
import { findMesh, loadConfig, updateConfig, upsertMesh } from "../config/index.js";
import { stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK, UsageError } from "../cli/errors.js";
import { eprintln, println } from "../cli/io.js";
import { checkSlug, defaultBrokerUrl, personName } from "./shared.js";

export const meshCreateCommand: Command = {
  name: "mesh create",
  summary: "Create a mesh on a broker; you become its first admin.",
  positionals: [{ name: "slug" }],
  options: {
    name: { type: "string", placeholder: "N", description: "human-readable mesh name (default: the slug)" },
    broker: {
      type: "string",
      placeholder: "URL",
      description: "broker URL (default: CLAUDEMESH_BROKER_URL, else http://127.0.0.1:7900)",
    },
    as: {
      type: "string",
      placeholder: "NAME",
      description: "your display name in the mesh (default: your login name)",
    },
    token: {
      type: "string",
      placeholder: "T",
      description: "mesh-creation token, if the broker requires one (default: CLAUDEMESH_CREATION_TOKEN)",
    },
  },
  details: ["example: claudemesh mesh create my-team --as alice"],
  async run(args, { env, io }) {
    const slug = checkSlug(args.positionals[0] as string);
    const name = stringOption(args, "name") ?? slug;
    if (name.trim() === "" || name.length > MAX_NAME_CHARS) {
      throw new UsageError(`--name must be 1–${MAX_NAME_CHARS} characters`);
    }
    const ownerName = personName(stringOption(args, "as"), env, "--as");
    const brokerUrl = brokerUrls(stringOption(args, "broker") ?? defaultBrokerUrl(env)).httpBase;
    const token = stringOption(args, "token") ?? (env.CLAUDEMESH_CREATION_TOKEN || undefined);
    if (findMesh(loadConfig(env, { missingOk: true }), slug)) {
      throw new CliError(
        `a mesh "${slug}" is already configured here — pick another slug or 'claudemesh leave ${slug}' first`,
      );
    }

    const kp = generateKeypair();
    const keypair = { pubkey: kp.publicKey, secretKey: kp.secretKey };
    const created = await createMesh({
      brokerUrl,
      name,
      slug,
      ownerName,
      keypair,
      ...(token ? { token } : {}),
    });
    updateConfig(env, (config) =>
      upsertMesh(config, {
        meshId: created.meshId,
        slug,
        name,
        brokerUrl,
        memberId: created.memberId,
        displayName: ownerName,
        role: "admin",
        pubkey: keypair.pubkey,
        secretKey: keypair.secretKey,
        joinedAt: new Date().toISOString(),
      }),
    );
    println(io, `created mesh "${slug}" on ${brokerUrl}; you are "${ownerName}" (admin)`);
    eprintln(
      io,
      `next: claudemesh invite --mesh ${slug}   (then on the other machine: claudemesh join <link>)`,
    );
    return EXIT_OK;
  },
};
