// Text layout of `claudemesh demo`: each message as the sender wrote it, as the broker stored it, and as the recipient read it.
import type { StoredEnvelope } from "@claudemesh/broker";

const WIDTH = 78;
/** Width of the "alice sent" / "broker stored" / "bob read" column. */
const LABEL_WIDTH = 15;

/** Cuts `text` to `max` characters with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

export function heading(title: string): string {
  const line = "─".repeat(Math.max(3, WIDTH - title.length - 4));
  return `── ${title} ${line}`;
}

export interface ExchangeView {
  index: number;
  from: string;
  to: string;
  sent: string;
  stored: readonly StoredEnvelope[];
  received: string;
  messageId: string;
}

/** True when no stored field contains the plaintext (or any line of it). */
export function storedIsOpaque(plaintext: string, stored: readonly StoredEnvelope[]): boolean {
  const needles = [plaintext, ...plaintext.split(/\s+/).filter((w) => w.length >= 6)];
  return stored.every((row) => needles.every((n) => !row.ciphertext.includes(n) && !row.nonce.includes(n)));
}

/** One exchange, three views side by side (stacked: terminals are narrow). */
export function renderExchange(view: ExchangeView): string {
  const lines = [heading(`message ${view.index}: ${view.from} → ${view.to}`)];
  const label = (text: string): string => `  ${text.padEnd(LABEL_WIDTH)}`;
  lines.push(`${label(`${view.from} sent`)}"${view.sent}"`);
  for (const row of view.stored) {
    const bytes = Math.floor((row.ciphertext.replace(/=+$/, "").length * 3) / 4);
    lines.push(
      `${label("broker stored")}id ${view.messageId} · to ${clip(row.targetSpec, 12)} · ${row.priority} · nonce ${clip(row.nonce, 14)} · ${bytes} bytes:`,
    );
    lines.push(`${label("")}${clip(row.ciphertext, WIDTH - LABEL_WIDTH - 2)}`);
  }
  const opaque = storedIsOpaque(view.sent, view.stored);
  lines.push(`${label(`${view.to} read`)}"${view.received}"`);
  lines.push(
    `  ${opaque ? "✓" : "✗"} the stored row ${opaque ? "holds no plaintext" : "CONTAINS PLAINTEXT"}; ${
      view.received === view.sent ? "✓ decrypted text matches what was sent" : "✗ decrypted text differs"
    }`,
  );
  return lines.join("\n");
}
