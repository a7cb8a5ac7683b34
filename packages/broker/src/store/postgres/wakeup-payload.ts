// NOTIFY payloads for delivery wake-ups: JSON {o: origin store instance, r: recipient ids}, split so
// each stays under PostgreSQL's 8,000-byte payload limit. Receipt wake-ups add `k: "receipts"`
// (the ids are then senders with receipts to pull); revocation notices `k: "revoked"` (revoked member ids).

/** PostgreSQL rejects NOTIFY payloads of 8,000 bytes or more; keep a margin. */
export const MAX_PAYLOAD_BYTES = 7_900;

export type WakeupKind = "deliveries" | "receipts" | "revoked";

export interface Wakeup {
  origin: string;
  recipients: string[];
  kind: WakeupKind;
}

function encode(origin: string, recipients: readonly string[], kind: WakeupKind): string {
  return JSON.stringify(
    kind === "deliveries" ? { o: origin, r: recipients } : { o: origin, r: recipients, k: kind },
  );
}

/** One or more payloads that together name every recipient, each ≤ MAX_PAYLOAD_BYTES. */
export function encodeWakeups(
  origin: string,
  recipients: readonly string[],
  kind: WakeupKind = "deliveries",
): string[] {
  const encode1 = (ids: readonly string[]) => encode(origin, ids, kind);
  const emptyBytes = Buffer.byteLength(encode1([]));
  const payloads: string[] = [];
  let current: string[] = [];
  let bytes = emptyBytes;
  for (const id of recipients) {
    // Each id adds its JSON string form plus a separating comma.
    const idBytes = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (emptyBytes + idBytes > MAX_PAYLOAD_BYTES)
      throw new Error("wake-up payload: a recipient id is too long for NOTIFY");
    if (current.length > 0 && bytes + idBytes > MAX_PAYLOAD_BYTES) {
      payloads.push(encode1(current));
      current = [];
      bytes = emptyBytes;
    }
    current.push(id);
    bytes += idBytes;
  }
  if (current.length > 0) payloads.push(encode1(current));
  return payloads;
}

/**
 * A NOTIFY payload as a JSON object, or null when it is not one (every payload kind of these
 * channels is an object; another program may share them).
 */
export function parsePayloadObject(payload: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return null;
  }
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/** Parses a payload; null for anything malformed (another program may share the channel). */
export function decodeWakeup(payload: string): Wakeup | null {
  const value = parsePayloadObject(payload);
  if (!value) return null;
  const { o, r, k } = value;
  if (typeof o !== "string" || !Array.isArray(r) || !r.every((id) => typeof id === "string")) return null;
  if (k !== undefined && k !== "receipts" && k !== "revoked") return null;
  return { origin: o, recipients: r as string[], kind: k ?? "deliveries" };
}
