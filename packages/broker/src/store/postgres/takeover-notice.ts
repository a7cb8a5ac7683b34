// The takeover notice on the wake-up channel: {o: origin store instance, k: "replaced", m: member id,
// p: replaced presence id or null}, sent by the admission statement itself (delivered at its commit).
import type { Takeover } from "../admission.js";
import { parsePayloadObject } from "./wakeup-payload.js";

export const TAKEOVER_KIND = "replaced";

/**
 * SQL: one NOTIFY per row of `source` (a query with a `presence_id` column). Parameters: channel,
 * origin, member id.
 */
export function notifyTakeoverSql(source: string): string {
  return `SELECT pg_notify(?, json_build_object('o', ?::text, 'k', '${TAKEOVER_KIND}', 'm', ?::text,
    'p', t.presence_id)::text) AS sent FROM (${source}) t`;
}

/** Parses a takeover notice; null for any other payload (delivery, receipt and revocation wake-ups). */
export function decodeTakeoverNotice(payload: string): { origin: string; takeover: Takeover } | null {
  if (!payload.includes(TAKEOVER_KIND)) return null;
  const value = parsePayloadObject(payload);
  if (!value) return null;
  const { o, k, m, p } = value;
  if (k !== TAKEOVER_KIND || typeof o !== "string" || typeof m !== "string") return null;
  if (p !== null && typeof p !== "string") return null;
  return { origin: o, takeover: { memberId: m, presenceId: p } };
}
