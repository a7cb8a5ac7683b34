// `claudemesh mesh create <slug>`: generates the owner key, creates the mesh on the broker, saves it (SPEC §2 POST /meshes).
import { accessSync, constants, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createMesh, brokerUrls } from "@claudemesh/client";
import { generateKeypair } from "@claudemesh/crypto";
import { MAX_NAME_CHARS } from "@claudemesh/protocol";
import {
  configPaths,
  ensurePrivateDir,
  FILE_MODE,
  writeFileAtomic,
  findMesh,
  loadConfig,
  updateConfig,
  upsertMesh,
  type Env,
} from "../config/index.js";
import { stringOption } from "../cli/args.js";
import type { Command } from "../cli/command.js";
import { CliError, EXIT_OK, UsageError } from "../cli/errors.js";
import { eprintln, println } from "../cli/io.js";
import { checkSlug, defaultBrokerUrl, personName } from "./shared.js";
import { probeHealth } from "./doctor/broker.js";

/**
 * Fails unless the config can be saved: checked before the broker is asked, because a mesh
 * created there whose owner key is then not saved could never be administered. A real write
 * (a probe file next to config.json, removed at once) — permission bits alone say nothing for root
 * or on a read-only or full file system.
 */
function assertConfigWritable(env: Env): void {
  const { dir, configFile } = configPaths(env);
  const probe = join(dir, `.mesh-create-probe-${process.pid}`);
  try {
    ensurePrivateDir(dir);
    writeFileAtomic(probe, "{}", FILE_MODE);
    rmSync(probe, { force: true });
    if (existsSync(configFile)) accessSync(configFile, constants.W_OK);
  } catch (err) {
    try {
      rmSync(probe, { force: true });
    } catch {
      // not a file we made: leave it
    }
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(
      `cannot write to ${dir} (${code}), so no mesh was created — fix its permissions or free space (or set CLAUDEMESH_CONFIG_DIR), then run this again`,
    );
  }
}

/** The broker's /health: fails early with a next step, and returns its public_url when it has one. */
async function brokerPublicUrl(brokerUrl: string): Promise<string | undefined> {
  const probe = await probeHealth(brokerUrl, 5_000);
  if (!probe.ok) {
    throw new CliError(
      `${probe.reason}, so no mesh was created — start it with 'claudemesh broker' or pass --broker URL`,
    );
  }
  const url = probe.body.public_url;
  return typeof url === "string" && /^(?:https?|wss?):\/\/\S+$/.test(url) ? url : undefined;
}

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

    assertConfigWritable(env);
    const publicUrl = await brokerPublicUrl(brokerUrl);

    const kp = generateKeypair();
    const keypair = { pubkey: kp.publicKey, secretKey: kp.secretKey };
    let created;
    try {
      created = await createMesh({
        brokerUrl,
        name,
        slug,
        ownerName,
        keypair,
        ...(token ? { token } : {}),
      });
    } catch (err) {
      const e = err as { name?: string; code?: string; status?: number };
      if (e.name === "ClientError" && (e.code === "unauthorized" || e.status === 401)) {
        throw new CliError(
          token
            ? "the broker refused the mesh-creation token given (--token or CLAUDEMESH_CREATION_TOKEN) — check it with the broker's operator"
            : "this broker requires a mesh-creation token — pass --token T or set CLAUDEMESH_CREATION_TOKEN (ask the broker's operator for it)",
        );
      }
      throw err;
    }
    const savedPublicUrl = publicUrl !== undefined && publicUrl !== brokerUrl ? publicUrl : undefined;
    updateConfig(env, (config) =>
      upsertMesh(config, {
        meshId: created.meshId,
        slug,
        name,
        brokerUrl,
        ...(savedPublicUrl ? { publicUrl: savedPublicUrl } : {}),
        memberId: created.memberId,
        displayName: ownerName,
        role: "admin",
        pubkey: keypair.pubkey,
        secretKey: keypair.secretKey,
        joinedAt: new Date().toISOString(),
      }),
    );
    println(
      io,
      `created mesh "${slug}" on ${brokerUrl}; you are "${ownerName}" (admin)${savedPublicUrl ? `; invites point at ${savedPublicUrl}` : ""}`,
    );
    eprintln(
      io,
      `next: claudemesh invite --mesh ${slug}   (then on the other machine: claudemesh join <link>)`,
    );
    return EXIT_OK;
  },
};
