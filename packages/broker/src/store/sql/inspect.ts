// Read-only views of what the store holds, for operators and the demo: never used on the message path.
import type { StoredEnvelope } from "../types.js";
import { BODY_OF_DELIVERY_COLUMNS } from "./group-bodies.js";
import { rows, type Op } from "./op.js";
import { toGroupBody } from "./rows.js";

/**
 * Every stored envelope of `messageId`, one per recipient, in storage order (delivered ones included
 * until swept); for a group message each names the one shared body row beside its sealed key.
 */
export function* storedEnvelopes(messageId: string): Op<StoredEnvelope[]> {
  const found = yield* rows(
    `SELECT message_id, target_spec, priority, nonce, ciphertext, ${BODY_OF_DELIVERY_COLUMNS}
       FROM deliveries WHERE message_id = ? ORDER BY seq`,
    [messageId],
  );
  return found.map((row) => ({
    messageId: String(row.message_id),
    targetSpec: String(row.target_spec),
    priority: String(row.priority),
    nonce: String(row.nonce),
    ciphertext: String(row.ciphertext),
    body: toGroupBody(row),
  }));
}
