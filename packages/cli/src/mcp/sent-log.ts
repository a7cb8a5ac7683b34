// This session's recent sends and how message_status describes where they are (SPEC §3 receipts, §5 message_status).
import type { MessageStatus } from "@claudemesh/client";

export interface SentRecord {
  meshSlug: string;
  messageId: string;
  /** Who it went to, as send_message named it ("beta", "#ops", "*"). */
  label: string;
  at: number;
}

/** The last `max` sends of this session, newest last. */
export class SentLog {
  private readonly records: SentRecord[] = [];
  constructor(private readonly max = 50) {}

  add(meshSlug: string, messageId: string, label: string): void {
    this.records.push({ meshSlug, messageId, label, at: Date.now() });
    if (this.records.length > this.max) this.records.shift();
  }

  /** One send by id, or the recent ones (newest last). */
  recent(messageId?: string): SentRecord[] {
    if (messageId === undefined) return [...this.records];
    return this.records.filter((r) => r.messageId === messageId);
  }
}

const ORDER = ["shown", "delivered", "queued", "expired", "revoked"] as const;

/** One line per send: every recipient's state, counted for group sends. */
export function describeStatuses(sent: readonly SentRecord[], statuses: readonly MessageStatus[]): string[] {
  return sent.map((record) => {
    const status = statuses.find((s) => s.messageId === record.messageId);
    const head = `${record.messageId} to ${record.label} (mesh ${record.meshSlug})`;
    if (!status || status.recipients.length === 0)
      return `${head}: no recipient recorded (not stored, or past retention)`;
    if (status.recipients.length === 1) {
      const r = status.recipients[0]!;
      return `${head}: ${r.state} (${r.at})`;
    }
    const counts = ORDER.map(
      (state) => [state, status.recipients.filter((r) => r.state === state).length] as const,
    )
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${state}`);
    return `${head}: ${counts.join(", ")} of ${status.recipients.length} recipients`;
  });
}
