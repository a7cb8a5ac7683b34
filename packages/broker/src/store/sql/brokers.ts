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
/**
 * Undelivered rows whose lease owner belongs to no broker row: every live broker beats its row
 * before it accepts a connection, so such a holder is gone (a row another broker released, or an
 * owner written before migration 6).
 */
const LEASED_BY_NO_BROKER = `lease_owner IS NOT NULL AND delivered_at IS NULL AND NOT EXISTS (
  SELECT 1 FROM brokers b WHERE substr(lease_owner, 1, length(b.broker_id) + 1) = b.broker_id || '${LEASE_OWNER_SEPARATOR}')`;

/**
 * Records where `brokerId` listens and returns the other brokers that recorded the same endpoint:
 * its predecessors on this host and port (two live processes cannot bind one port), gone whatever
 * their last beat says.
 */
export function* claimEndpoint(brokerId: string, endpoint: string): Op<string[]> {
  yield* exec("UPDATE brokers SET endpoint = ? WHERE broker_id = ?", [endpoint, brokerId]);
  const result = yield* rows(
    "SELECT broker_id FROM brokers WHERE endpoint = ? AND broker_id <> ? ORDER BY broker_id",
    [endpoint, brokerId],
  );
  return result.map((r) => String(r.broker_id));
}

function* releaseWhere(where: string, params: readonly unknown[]): Op<string[]> {
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
  const prefix = leaseOwnerPrefix(brokerId);
  const recipients = yield* releaseWhere(LEASED_BY_BROKER, [prefix.length, prefix]);
  yield* exec("UPDATE presence SET online = ?, disconnected_at = ? WHERE broker_id = ? AND online = ?", [
    0,
    now,
    brokerId,
    1,
  ]);
  return recipients;
}

/**
 * Drops the leases whose owner belongs to no broker row (see LEASED_BY_NO_BROKER); run at start-up,
 * after this broker's first beat. Returns the recipients to wake.
 */
export function* releaseOrphanLeases(): Op<string[]> {
  return yield* releaseWhere(LEASED_BY_NO_BROKER, []);
}
