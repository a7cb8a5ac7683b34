// Targeted wake-ups: each broker LISTENs on its own channel besides the shared one, and delivery and
// receipt wake-ups are sent only to the brokers whose online presence rows hold a recipient (the
// presence row names its broker). A member online nowhere gets no wake-up: its hello drains.
import { MAX_PAYLOAD_BYTES, type WakeupKind } from "./wakeup-payload.js";

/** A broker's own channel is this prefix and its broker id (≤ 61 of PostgreSQL's 63 bytes). */
export const BROKER_CHANNEL_PREFIX = "claudemesh_b_";
/** Broker ids that make a channel name (the broker's own are 24 hex digits). */
export const BROKER_ID_PATTERN = "^[A-Za-z0-9_-]{1,48}$";
const BROKER_ID = new RegExp(BROKER_ID_PATTERN);
/** Room left in a payload for `{"o" : <origin>, "r" : [], "k" : <kind>}` and json's spacing. */
const PAYLOAD_OVERHEAD_BYTES = 200;

/** The channel broker `brokerId` LISTENs on for wake-ups addressed to it; null when the id cannot name one. */
export function brokerChannel(brokerId: string): string | null {
  return BROKER_ID.test(brokerId) ? `${BROKER_CHANNEL_PREFIX}${brokerId}` : null;
}

/** How many of these ids fit one payload, whatever their length (each is a JSON string plus ", "). */
export function idsPerPayload(ids: readonly string[]): number {
  let widest = 1;
  for (const id of ids) widest = Math.max(widest, Buffer.byteLength(JSON.stringify(id)) + 2);
  return Math.max(1, Math.floor((MAX_PAYLOAD_BYTES - PAYLOAD_OVERHEAD_BYTES) / widest));
}

/** Parameter numbers of the holder wake-up SQL. */
export interface HolderParams {
  /** text[]: the recipients (or senders, for receipts) to wake. */
  ids: number;
  /** text: this store's instance id (`o`, so the origin ignores its own notifications). */
  origin: number;
  /** int: ids per payload (idsPerPayload). */
  perPayload: number;
  /** text[]: broker ids attached to this store (woken in-process, not notified). */
  exclude: number;
}

/**
 * A SELECT that NOTIFYs, per broker holding some of the ids online, payloads `{o, r[, k]}` on that
 * broker's channel (the format of wakeup-payload.ts; `deliveries` carries no `k`). One row per payload.
 * `also`: a further condition on the presence row `p` of each id to wake.
 */
export function holderWakeupsSql(
  p: HolderParams,
  kind: Exclude<WakeupKind, "revoked">,
  also?: string,
): string {
  const k = kind === "deliveries" ? "" : `, 'k', '${kind}'`;
  return `SELECT pg_notify('${BROKER_CHANNEL_PREFIX}' || h.broker_id,
      json_build_object('o', $${p.origin}::text, 'r', json_agg(h.member_id ORDER BY h.member_id)${k})::text)
    FROM (
      SELECT p.broker_id, p.member_id,
        (row_number() OVER (PARTITION BY p.broker_id ORDER BY p.member_id) - 1) / $${p.perPayload}::int AS part
      FROM presence p
      WHERE p.member_id = ANY ($${p.ids}::text[]) AND p.online
        AND p.broker_id ~ '${BROKER_ID_PATTERN}' AND p.broker_id <> ALL ($${p.exclude}::text[])${also ? ` AND ${also}` : ""}
    ) h
    GROUP BY h.broker_id, h.part`;
}

/** A SELECT of the ids with no online presence row (one column, `id`): nobody was woken for them. */
export function unheldSql(idsParam: number): string {
  return `SELECT u.id FROM unnest($${idsParam}::text[]) AS u (id)
    WHERE NOT EXISTS (SELECT 1 FROM presence p WHERE p.member_id = u.id AND p.online)`;
}

/** The four holder parameters in HolderParams order, appended to `params`; returns their numbers. */
export function pushHolderParams(
  params: unknown[],
  ids: readonly string[],
  origin: string,
  exclude: readonly string[],
): HolderParams {
  params.push([...ids], origin, idsPerPayload(ids), [...exclude]);
  const n = params.length;
  return { ids: n - 3, origin: n - 2, perPayload: n - 1, exclude: n };
}
