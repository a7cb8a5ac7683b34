// Versioned schema migrations, written once against the dialect's column types (applied by migrate()).
import type { Dialect } from "./dialect.js";
import { backfillNameKeys } from "./members.js";
import { exec, first, type Op } from "./op.js";

export interface Migration {
  readonly version: number;
  readonly name: string;
  statements(d: Dialect): string[];
  /** Rewrites existing rows with a rule written in TypeScript, after the statements that need it. */
  backfill?: () => Op<void>;
  /** Statements run after the backfill (e.g. a unique index over the backfilled column). */
  after?: (d: Dialect) => string[];
}

/** Append-only: never edit a released migration, add the next version instead. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "initial schema",
    statements: (d) => {
      const t = d.types;
      return [
        `CREATE TABLE meshes (
        id TEXT PRIMARY KEY,
        slug TEXT NOT NULL,
        name TEXT NOT NULL,
        owner_member_id TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        CONSTRAINT meshes_slug_unique UNIQUE (slug)
      )`,
        // Agent peers are member rows with a parent (SPEC §1); revocation is soft so history stays.
        `CREATE TABLE members (
        id TEXT PRIMARY KEY,
        mesh_id TEXT NOT NULL REFERENCES meshes (id),
        pubkey TEXT NOT NULL,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
        parent_member_id TEXT REFERENCES members (id),
        created_at ${t.bigint} NOT NULL,
        revoked_at ${t.bigint},
        CONSTRAINT members_mesh_pubkey_unique UNIQUE (mesh_id, pubkey),
        CONSTRAINT members_mesh_name_unique UNIQUE (mesh_id, display_name)
      )`,
        `CREATE INDEX members_parent ON members (parent_member_id) WHERE parent_member_id IS NOT NULL`,
        // One counter per invite, claimed with a conditional upsert (SPEC §2 Invites).
        `CREATE TABLE invite_uses (
        mesh_id TEXT NOT NULL REFERENCES meshes (id),
        invite_id TEXT NOT NULL,
        uses INTEGER NOT NULL,
        max_uses INTEGER NOT NULL,
        first_used_at ${t.bigint} NOT NULL,
        last_used_at ${t.bigint} NOT NULL,
        PRIMARY KEY (mesh_id, invite_id)
      )`,
        `CREATE TABLE presence (
        member_id TEXT PRIMARY KEY REFERENCES members (id),
        presence_id TEXT,
        broker_id TEXT,
        session_id TEXT,
        pid INTEGER,
        cwd TEXT,
        online ${t.bool} NOT NULL,
        connected_at ${t.bigint},
        last_seen_at ${t.bigint},
        disconnected_at ${t.bigint},
        status TEXT NOT NULL CHECK (status IN ('idle', 'working', 'dnd')),
        status_source TEXT NOT NULL CHECK (status_source IN ('hook', 'manual', 'jsonl')),
        status_at ${t.bigint} NOT NULL,
        summary TEXT
      )`,
        `CREATE INDEX presence_broker ON presence (broker_id) WHERE broker_id IS NOT NULL`,
        // One row per recipient of a message; seq is storage order (per-sender FIFO, SPEC §3).
        // Only nonce + ciphertext and routing metadata are stored (SPEC §4).
        `CREATE TABLE deliveries (
        seq ${t.serialKey},
        message_id TEXT NOT NULL,
        mesh_id TEXT NOT NULL,
        recipient_member_id TEXT NOT NULL REFERENCES members (id),
        sender_member_id TEXT NOT NULL REFERENCES members (id),
        target_spec TEXT NOT NULL,
        priority TEXT NOT NULL CHECK (priority IN ('now', 'next', 'low')),
        nonce TEXT NOT NULL,
        ciphertext TEXT NOT NULL,
        created_at ${t.bigint} NOT NULL,
        lease_until ${t.bigint},
        lease_owner TEXT,
        delivered_at ${t.bigint},
        -- message_id first: with time-ordered message ids new entries append instead of landing
        -- on random index pages (the main cost of a batch insert); same uniqueness either way.
        CONSTRAINT deliveries_message_recipient_unique UNIQUE (message_id, recipient_member_id)
      )`,
        // Claims and pending counts scan only the recipient's undelivered rows, already in seq order.
        `CREATE INDEX deliveries_pending ON deliveries (recipient_member_id, seq) WHERE delivered_at IS NULL`,
        // releaseLeases on disconnect touches only leased rows (markDelivered clears the lease).
        `CREATE INDEX deliveries_lease_owner ON deliveries (lease_owner) WHERE lease_owner IS NOT NULL`,
        ...d.queueTableTuning,
        `CREATE TABLE pending_hook_status (
        mesh_id TEXT NOT NULL,
        pubkey TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('idle', 'working', 'dnd')),
        cwd TEXT NOT NULL,
        pid INTEGER NOT NULL,
        session_id TEXT,
        received_at ${t.bigint} NOT NULL,
        PRIMARY KEY (mesh_id, pubkey)
      )`,
        `CREATE TABLE channel_members (
        mesh_id TEXT NOT NULL REFERENCES meshes (id),
        channel TEXT NOT NULL,
        member_id TEXT NOT NULL REFERENCES members (id),
        PRIMARY KEY (mesh_id, channel, member_id)
      )`,
        // Metadata only: never plaintext, ciphertext, keys or tokens (SPEC §4).
        `CREATE TABLE audit_log (
        id ${t.serialKey},
        mesh_id TEXT,
        action TEXT NOT NULL,
        actor_pubkey TEXT,
        detail TEXT NOT NULL,
        at ${t.bigint} NOT NULL
      )`,
        `CREATE INDEX audit_log_mesh ON audit_log (mesh_id, id)`,
      ];
    },
  },
  {
    version: 2,
    name: "claim indexes that skip leased deliveries",
    // With N pushes awaiting client_ack, a claim through deliveries_pending stepped over those N
    // leased rows every time (measured: 0.43 ms per claim at 3,000 in flight on SQLite). Unleased
    // rows and live or expired leases now each have their own index, so a claim reads only what it
    // takes; deliveries_pending goes, saving one index update per insert and per acknowledgement.
    statements: () => [
      `CREATE INDEX deliveries_unleased ON deliveries (recipient_member_id, seq)
       WHERE delivered_at IS NULL AND lease_until IS NULL`,
      `CREATE INDEX deliveries_leased ON deliveries (recipient_member_id, lease_until)
       WHERE delivered_at IS NULL AND lease_until IS NOT NULL`,
      `DROP INDEX deliveries_pending`,
    ],
  },
  {
    version: 3,
    name: "delivery receipts",
    // Where each (message, recipient) stands once it is no longer just queued (SPEC §3 receipts).
    // A queued copy is its undelivered deliveries row; a receipt row is written when that changes
    // (client_ack, shown, expiry, revocation), so it outlives the delivery row the sweep deletes and
    // the hot insert path writes nothing extra. Metadata only. `notified` is false while the sender
    // has not been pushed this state yet.
    statements: (d) => [
      `CREATE TABLE receipts (
        message_id TEXT NOT NULL,
        recipient_member_id TEXT NOT NULL,
        mesh_id TEXT NOT NULL,
        sender_member_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('delivered', 'shown', 'expired', 'revoked')),
        state_at ${d.types.bigint} NOT NULL,
        notified ${d.types.bool} NOT NULL,
        PRIMARY KEY (message_id, recipient_member_id)
      )`,
      // Retention: receipts go once their last change is older than the retention window.
      `CREATE INDEX receipts_state_at ON receipts (state_at)`,
      // Receipts a sender has not been pushed yet (pulled on its hello and on wake-ups).
      `CREATE INDEX receipts_unnotified ON receipts (sender_member_id, state_at) WHERE NOT notified`,
    ],
  },
  {
    version: 4,
    name: "send idempotency keys",
    // A send's client id is its idempotency key (SPEC §3): a retry of a stored send is acked again
    // with the stored message id. Kept for the retention window, like the messages themselves.
    statements: (d) => [
      `CREATE TABLE send_ids (
        mesh_id TEXT NOT NULL,
        sender_member_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        created_at ${d.types.bigint} NOT NULL,
        PRIMARY KEY (mesh_id, sender_member_id, client_id)
      )`,
      `CREATE INDEX send_ids_created_at ON send_ids (created_at)`,
    ],
  },
  {
    version: 5,
    name: "replay keys of signed requests",
    // SPEC §2 / §3 check 5: a signed hello or HTTP body is accepted once, on every broker of the
    // store and across restarts. One row per accepted signature hash until its window ends; the
    // sweep drops expired rows, so the table holds at most one skew window of accepted requests.
    statements: (d) => [
      `CREATE TABLE replay_keys (
        replay_key TEXT PRIMARY KEY,
        expires_at ${d.types.bigint} NOT NULL
      )`,
      `CREATE INDEX replay_keys_expires_at ON replay_keys (expires_at)`,
    ],
  },
  {
    version: 6,
    name: "broker heartbeats",
    // SPEC §3 "Leases die with their holder", §7: every broker beats its row; a broker whose beat is
    // older than the gone-after window is gone, and whoever notices first releases its leases (a
    // lease owner starts with the broker id) and marks its presences offline, then deletes the row.
    statements: (d) => [
      `CREATE TABLE brokers (
        broker_id TEXT PRIMARY KEY,
        started_at ${d.types.bigint} NOT NULL,
        heartbeat_at ${d.types.bigint} NOT NULL
      )`,
    ],
  },
  {
    version: 8,
    name: "group message bodies stored once",
    // SPEC §4 revision 2: a `*` / `#name` message is encrypted once; its body and signature are one
    // row here, and each recipient's deliveries row (routing, lease, FIFO as before) holds only its
    // sealed key in nonce/ciphertext. Direct rows queued before this migration stay as they are. An
    // old fan-out copy (`*` / `#name`, its own full crypto_box for one recipient, no body row) is
    // converted into a direct copy addressed to that recipient: the revision-2 push of a `*`/`#name`
    // target must carry a body, and the direct form opens with the sender's key exactly as before.
    statements: (d) => [
      `UPDATE deliveries
         SET target_spec = (SELECT pubkey FROM members WHERE members.id = deliveries.recipient_member_id)
       WHERE target_spec = '*' OR target_spec LIKE '#%'`,
      `CREATE TABLE message_bodies (
        message_id TEXT PRIMARY KEY,
        mesh_id TEXT NOT NULL,
        nonce TEXT NOT NULL,
        ciphertext TEXT NOT NULL,
        sig TEXT NOT NULL,
        created_at ${d.types.bigint} NOT NULL
      )`,
      `CREATE INDEX message_bodies_created_at ON message_bodies (created_at)`,
    ],
  },
  {
    version: 9,
    name: "broker endpoints",
    // SPEC §3 "Leases die with their holder": a broker records where it listens (host name, bound
    // address and port). A broker that binds the same endpoint on the same host replaces that one —
    // two live processes cannot hold one port — so it releases its predecessor's leases at once
    // instead of waiting for the beat to go stale (ws/broker-heartbeat.ts).
    statements: () => [`ALTER TABLE brokers ADD COLUMN endpoint TEXT`],
  },
  {
    version: 10,
    name: "retention sweep on indexes",
    // The retention sweep walks these instead of scanning the queue: delivered rows waiting to be
    // dropped, and undelivered rows by age (also what expireStep reads). (Version 9 is brokers.endpoint.)
    statements: () => [
      `CREATE INDEX deliveries_delivered ON deliveries (seq) WHERE delivered_at IS NOT NULL`,
      `CREATE INDEX deliveries_expiry ON deliveries (created_at) WHERE delivered_at IS NULL`,
    ],
  },
  {
    version: 11,
    name: "display-name keys",
    // Joins and agent enrolments checked a new name against every name of the mesh (a full read
    // per join). name_key holds the name's skeleton (protocol displayNameSkeleton: case, accents
    // and look-alikes folded), and a unique index over (mesh_id, name_key) answers "is it taken"
    // with an indexed lookup — and makes two members with one skeleton impossible even when joins
    // race on different brokers. Revoked members keep their keys (their names stay taken). The
    // peers list pages in (created_at, id) order on members_mesh_created, and reads the channels
    // of a page's members on channel_members_member.
    statements: () => [`ALTER TABLE members ADD COLUMN name_key TEXT`],
    backfill: backfillNameKeys,
    after: () => [
      `CREATE UNIQUE INDEX members_mesh_name_key ON members (mesh_id, name_key)`,
      `CREATE INDEX members_mesh_created ON members (mesh_id, created_at, id)`,
      `CREATE INDEX channel_members_member ON channel_members (member_id)`,
    ],
  },
];

export const LATEST_SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/** Raised when the database was migrated by a newer claudemesh than this one. */
export class SchemaTooNewError extends Error {
  override readonly name = "SchemaTooNewError";
}

/**
 * Applies one migration if it is not recorded yet; the caller runs this inside one transaction
 * (PostgreSQL: holding an advisory lock, so concurrent brokers apply each version exactly once).
 * Returns true when the migration ran.
 */
export function* applyMigration(d: Dialect, migration: Migration, now: number): Op<boolean> {
  yield* exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at ${d.types.bigint} NOT NULL
    )`,
  );
  const newest = yield* first("SELECT MAX(version) AS version FROM schema_migrations");
  const newestVersion =
    newest?.version === null || newest?.version === undefined ? 0 : Number(newest.version);
  if (newestVersion > LATEST_SCHEMA_VERSION) {
    throw new SchemaTooNewError(
      `database schema is at version ${newestVersion} but this broker knows up to ${LATEST_SCHEMA_VERSION}: upgrade claudemesh`,
    );
  }
  const applied = yield* first("SELECT version FROM schema_migrations WHERE version = ?", [
    migration.version,
  ]);
  if (applied) return false;
  for (const statement of migration.statements(d)) yield* exec(statement);
  if (migration.backfill) yield* migration.backfill();
  for (const statement of migration.after?.(d) ?? []) yield* exec(statement);
  yield* exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [
    migration.version,
    migration.name,
    now,
  ]);
  return true;
}
