// zod schemas of the files under the config dir: config.json (meshes + member keys), agent key files, session records.
import { z } from "zod";
import {
  DisplayNameSchema,
  OpaqueIdSchema,
  PubkeySchema,
  RoleSchema,
  SECRET_KEY_HEX_RE,
  SlugSchema,
} from "@claudemesh/protocol";

/** 128 lowercase hex: libsodium's seed‖pubkey ed25519 secret key (SPEC §1). */
export const SecretKeySchema = z.string().regex(SECRET_KEY_HEX_RE, "must be 128 lowercase hex chars");

/** The current on-disk format; a newer number means a newer claudemesh wrote the file. */
export const CONFIG_VERSION = 1;

/** One joined (or created) mesh and the member identity this machine holds in it. */
export const MeshEntrySchema = z.object({
  meshId: OpaqueIdSchema,
  slug: SlugSchema,
  name: z.string().min(1).optional(),
  /** http(s):// or ws(s):// base of the broker the membership lives on. */
  brokerUrl: z.string().regex(/^(?:https?|wss?):\/\/\S+$/, "must be an http(s) or ws(s) URL"),
  /** The URL other machines reach that broker at (its --public-url), put in invites instead of brokerUrl. */
  publicUrl: z
    .string()
    .regex(/^(?:https?|wss?):\/\/\S+$/, "must be an http(s) or ws(s) URL")
    .optional(),
  memberId: OpaqueIdSchema,
  displayName: DisplayNameSchema,
  role: RoleSchema,
  pubkey: PubkeySchema,
  secretKey: SecretKeySchema,
  /** ISO 8601 time this machine joined or created the mesh. */
  joinedAt: z.string().min(1),
});

export const ConfigSchema = z
  .object({
    version: z.literal(CONFIG_VERSION),
    meshes: z.array(MeshEntrySchema),
  })
  .superRefine((config, ctx) => {
    // Commands select a mesh by slug, so two entries with one slug would make that choice ambiguous.
    const seen = new Set<string>();
    config.meshes.forEach((mesh, index) => {
      if (seen.has(mesh.slug))
        ctx.addIssue({
          code: "custom",
          path: ["meshes", index, "slug"],
          message: `duplicate mesh slug "${mesh.slug}"`,
        });
      seen.add(mesh.slug);
    });
  });

export type MeshEntry = z.infer<typeof MeshEntrySchema>;
export type Config = z.infer<typeof ConfigSchema>;

/** An agent peer's persisted identity (SPEC §1): one file per (mesh, agent name), so its mailbox survives restarts. */
export const AgentKeyFileSchema = z.object({
  version: z.literal(1),
  name: DisplayNameSchema,
  meshSlug: SlugSchema,
  meshId: OpaqueIdSchema,
  pubkey: PubkeySchema,
  secretKey: SecretKeySchema,
  createdAt: z.string().min(1),
  /** Member id the broker gave the agent on enrollment (POST /agents), once known. */
  memberId: OpaqueIdSchema.optional(),
});

export type AgentKeyFile = z.infer<typeof AgentKeyFileSchema>;

/** Who holds an agent name right now: a live process (with its start time, to survive pid reuse). */
export const AgentLockSchema = z.object({
  pid: z.number().int().positive(),
  startTime: z.string().nullable(),
});

export type AgentLock = z.infer<typeof AgentLockSchema>;

/** One agent identity a running session speaks as. */
export const SessionAgentSchema = z.object({
  meshSlug: SlugSchema,
  meshId: OpaqueIdSchema,
  agentName: DisplayNameSchema,
  agentPubkey: PubkeySchema,
});

/** `sessions/<pid>.json`: lets `claudemesh hook` find the agent of its own Claude Code session. */
export const SessionRecordSchema = z.object({
  version: z.literal(1),
  /** The `claudemesh mcp` process. */
  pid: z.number().int().positive(),
  /** Its start time (from /proc), so a reused pid is not mistaken for the session. */
  startTime: z.string().nullable(),
  /** The Claude Code process that spawned it (the MCP server's parent). */
  claudePid: z.number().int().nonnegative(),
  cwd: z.string(),
  /** Claude Code's session id, when the server learned it. */
  sessionId: z.string().max(128).optional(),
  startedAt: z.string(),
  agents: z.array(SessionAgentSchema),
});

export type SessionAgent = z.infer<typeof SessionAgentSchema>;
export type SessionRecord = z.infer<typeof SessionRecordSchema>;
