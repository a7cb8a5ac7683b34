// Store rules of broker liveness (SPEC §3 "Leases die with their holder", §7): heartbeat rows, and
// releasing the leases and presences of a broker that is gone.
import { exec, rows, type Op } from "./op.js";

/**
 * A lease owner is a presence id, and a broker's presence ids start with its broker id and this
 * separator. Broker ids are hex, so the first separator ends the broker id and one statement finds
 * every lease a broker held; the whole id stays an opaque id of the wire (`[A-Za-z0-9_-]`).
 */
export const LEASE_OWNER_SEPARATOR = "-";

/** The lease-owner prefix of every lease `brokerId` writes. */
export function leaseOwnerPrefix(brokerId: string): string {
  return `${brokerId}${LEASE_OWNER_SEPARATOR}`;
}

/** Records that `brokerId` is alive at `now`; the first beat inserts its row. */
export function* beatBroker(brokerId: string, now: number): Op<void> {
  yield* exec(
    `INSERT INTO brokers (broker_id, started_at, heartbeat_at) VALUES (?, ?, ?)
     ON CONFLICT (broker_id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at`,
    [brokerId, now, now],
  );
}

/** A broker stopping cleanly takes its row away (it has released its leases itself). */
export function* removeBroker(brokerId: string): Op<void> {
  yield* exec("DELETE FROM brokers WHERE broker_id = ?", [brokerId]);
}

/** Brokers other than `selfBrokerId` whose last beat is older than `staleBefore`. */
export function* staleBrokers(selfBrokerId: string, staleBefore: number): Op<string[]> {
  const result = yield* rows(
    "SELECT broker_id FROM brokers WHERE heartbeat_at < ? AND broker_id <> ? ORDER BY broker_id",
    [staleBefore, selfBrokerId],
  );
  return result.map((r) => String(r.broker_id));
}

/** Undelivered rows leased by one broker: `substr` is exact and behaves the same in both dialects. */
const LEASED_BY_BROKER = "lease_owner IS NOT NULL AND delivered_at IS NULL AND substr(lease_owner, 1, ?) = ?";
/** Undelivered rows leased by anyone but one broker (SQLite start-up: the file has one broker). */
const LEASED_BY_OTHERS =
  "lease_owner IS NOT NULL AND delivered_at IS NULL AND substr(lease_owner, 1, ?) <> ?";

function* releaseWhere(where: string, prefix: string): Op<string[]> {
  const params = [prefix.length, prefix];
  const recipients = yield* rows(
    `SELECT DISTINCT recipient_member_id FROM deliveries WHERE ${where}`,
    params,
  );
  if (recipients.length === 0) return [];
  // The prefix is re-checked: a row claimed by a live connection meanwhile has a new owner and keeps it.
  yield* exec(`UPDATE deliveries SET lease_until = NULL, lease_owner = NULL WHERE ${where}`, params);
  return recipients.map((r) => String(r.recipient_member_id));
}

/**
 * Releases everything a gone broker held, run in one transaction: deletes its row only if its beat
 * is still older than `staleBefore` (of brokers noticing it at once exactly one wins, and a broker
 * that beat again meanwhile is left alone), then drops its leases and marks its presences offline.
 * Returns the recipients whose deliveries became claimable (to wake), or null when it lost.
 */
export function* releaseBroker(brokerId: string, staleBefore: number, now: number): Op<string[] | null> {
  const won = yield* exec("DELETE FROM brokers WHERE broker_id = ? AND heartbeat_at < ?", [
    brokerId,
    staleBefore,
  ]);
  if (won === 0) return null;
  const recipients = yield* releaseWhere(LEASED_BY_BROKER, leaseOwnerPrefix(brokerId));
  yield* exec("UPDATE presence SET online = ?, disconnected_at = ? WHERE broker_id = ? AND online = ?", [
    0,
    now,
    brokerId,
    1,
  ]);
  return recipients;
}

/**
 * SQLite start-up (one broker per database file): every other broker is gone, whatever its last
 * beat — so the leases of the process this one replaces come back at once. Drops every lease not
 * written by `selfBrokerId` (also owners from before migration 6), marks other brokers' presences
 * offline and deletes their rows. Returns the recipients to wake.
 */
export function* releaseAllOtherBrokers(selfBrokerId: string, now: number): Op<string[]> {
  const recipients = yield* releaseWhere(LEASED_BY_OTHERS, leaseOwnerPrefix(selfBrokerId));
  yield* exec(
    "UPDATE presence SET online = ?, disconnected_at = ? WHERE broker_id IS NOT NULL AND broker_id <> ? AND online = ?",
    [0, now, selfBrokerId, 1],
  );
  yield* exec("DELETE FROM brokers WHERE broker_id <> ?", [selfBrokerId]);
  return recipients;
}
