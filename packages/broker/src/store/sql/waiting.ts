// What waits for a member when it (re)connects: undelivered deliveries (through the unleased and
// leased indexes) and receipts of its messages not pushed to it yet (receipts_unnotified).
import { rows, type Op } from "./op.js";

/** Whether a member has anything to pull. */
export interface Waiting {
  deliveries: boolean;
  receipts: boolean;
}

/** An EXISTS over the member's undelivered deliveries; `member` is a placeholder or a column. */
export function waitingDeliveriesSql(member: string): string {
  return `(EXISTS (
    SELECT 1 FROM deliveries WHERE recipient_member_id = ${member} AND delivered_at IS NULL AND lease_until IS NULL
  ) OR EXISTS (
    SELECT 1 FROM deliveries WHERE recipient_member_id = ${member} AND delivered_at IS NULL AND lease_until IS NOT NULL
  ))`;
}

/** An EXISTS over the receipts of the member's messages that were not pushed to it yet. */
export function waitingReceiptsSql(member: string): string {
  return `EXISTS (SELECT 1 FROM receipts WHERE sender_member_id = ${member} AND NOT notified)`;
}

/** A 0/1, boolean or "t"/"f" column as a boolean. */
export function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "t";
}

/** Most member ids one waitingMail statement asks about (callers batch larger sets). */
export const WAITING_MAIL_BATCH = 500;

/**
 * What waits for each of `memberIds` (at most WAITING_MAIL_BATCH), in one read. A member id the
 * store does not know simply has nothing waiting.
 */
export function* waitingMail(memberIds: readonly string[]): Op<Map<string, Waiting>> {
  const found = new Map<string, Waiting>();
  if (memberIds.length === 0) return found;
  if (memberIds.length > WAITING_MAIL_BATCH)
    throw new Error(`waitingMail: at most ${WAITING_MAIL_BATCH} member ids per call`);
  const values = memberIds.map(() => "(?)").join(", ");
  const result = yield* rows(
    `WITH asked (id) AS (VALUES ${values})
     SELECT asked.id, ${waitingDeliveriesSql("asked.id")} AS deliveries, ${waitingReceiptsSql("asked.id")} AS receipts
     FROM asked`,
    memberIds,
  );
  for (const row of result)
    found.set(String(row.id), { deliveries: truthy(row.deliveries), receipts: truthy(row.receipts) });
  return found;
}
