// Reads what the broker stored for a message, straight from its SQLite file (read-only), to show it is ciphertext only (SPEC §4).
import Database from "better-sqlite3";

export interface StoredEnvelope {
  messageId: string;
  targetSpec: string;
  priority: string;
  nonce: string;
  ciphertext: string;
}

/** A read-only view of the broker's `deliveries` table: nothing here can change the store. */
export class StoredMessages {
  private readonly db: Database.Database;
  private readonly byId: Database.Statement<[string], StoredEnvelope>;

  constructor(dbPath: string) {
    this.db = new Database(dbPath, { readonly: true, fileMustExist: true });
    this.byId = this.db.prepare<[string], StoredEnvelope>(
      `SELECT message_id AS messageId, target_spec AS targetSpec, priority, nonce, ciphertext
         FROM deliveries WHERE message_id = ? ORDER BY seq`,
    );
  }

  /** Every stored envelope of `messageId` (one per recipient). */
  envelopes(messageId: string): StoredEnvelope[] {
    return this.byId.all(messageId);
  }

  close(): void {
    this.db.close();
  }
}
