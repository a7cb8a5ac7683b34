// What waits for members just admitted, read after their admissions committed: one store read per
// event-loop turn for every hello that finished its admission in that turn.
import type { Store, Waiting } from "../store/types.js";

const NOTHING: Waiting = { deliveries: false, receipts: false };
/** A failed read is answered with this: the hello then claims and pulls as if something waited. */
const EVERYTHING: Waiting = { deliveries: true, receipts: true };

export class MailProbe {
  private queued = new Map<string, Array<(waiting: Waiting) => void>>();
  private scheduled = false;

  constructor(
    private readonly store: Pick<Store, "waitingMail">,
    private readonly onError: (error: unknown) => void,
  ) {}

  /**
   * What waits for `memberId` as a read that starts after this call sees it (batched with the
   * other calls of this turn). Never rejects: on a store error every member is told everything waits.
   */
  waiting(memberId: string): Promise<Waiting> {
    return new Promise((resolve) => {
      const resolvers = this.queued.get(memberId);
      if (resolvers) resolvers.push(resolve);
      else this.queued.set(memberId, [resolve]);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queued;
    this.queued = new Map();
    let found: Map<string, Waiting> | null = null;
    try {
      found = await this.store.waitingMail([...batch.keys()]);
    } catch (error) {
      this.onError(error);
    }
    for (const [memberId, resolvers] of batch) {
      const waiting = found ? (found.get(memberId) ?? NOTHING) : EVERYTHING;
      for (const resolve of resolvers) resolve(waiting);
    }
  }
}

/**
 * What a hello whose admission read `admitted` has to pull. On SQLite every write of this process
 * wakes every listener of its store, so the admission's own read tells. PostgreSQL asks once more
 * after the commit: a send on another broker that committed after the admission's snapshot was
 * taken woke only the brokers its own snapshot saw holding this identity (its previous broker, or
 * none), and a read made after the admission's commit is the one that finds it.
 */
export async function waitingAfterAdmission(
  probe: MailProbe | null,
  memberId: string,
  admitted: Waiting,
): Promise<Waiting> {
  if (!probe || (admitted.deliveries && admitted.receipts)) return admitted;
  const later = await probe.waiting(memberId);
  return {
    deliveries: admitted.deliveries || later.deliveries,
    receipts: admitted.receipts || later.receipts,
  };
}
