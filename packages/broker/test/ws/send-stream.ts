// A test sender that keeps a window of direct sends in flight until its socket closes, recording
// which sends were written after a cut-off moment (a revocation) and which of them were acked.
import type { ServerFrame } from "@claudemesh/protocol";
import type { Member } from "../helpers/identity.js";
import type { TestPeer } from "../helpers/ws-client.js";
import { directSend, until } from "./support.js";

export class SendStream {
  /** Send ids in write order; those written once `cutOff()` was called are in `afterCutOff`. */
  readonly written: string[] = [];
  readonly afterCutOff = new Set<string>();
  readonly acked = new Set<string>();
  readonly refused = new Set<string>();
  private cut = false;
  private next = 0;

  constructor(
    private readonly peer: TestPeer,
    private readonly from: Member,
    private readonly to: Member,
    /** Distinguishes this stream's send ids (and texts) from another's. */
    readonly prefix: string,
    /** At most this many sends are written in total (the stream is bounded). */
    private readonly limit = 5_000,
  ) {
    peer.ws.on("message", (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      if (frame.type === "ack" && frame.id.startsWith(prefix)) {
        this.acked.add(frame.id);
        this.writeOne();
      } else if (frame.type === "error" && frame.id?.startsWith(prefix)) {
        this.refused.add(frame.id);
      }
    });
  }

  /** Writes `window` sends; every ack writes one more. */
  start(window = 16): void {
    for (let i = 0; i < window; i++) this.writeOne();
  }

  /** From now on, written sends count as written after the cut-off; writes `extra` at once. */
  cutOff(extra = 4): void {
    this.cut = true;
    for (let i = 0; i < extra; i++) this.writeOne();
  }

  /** Waits until `count` sends were acked (bounded). */
  async ackedAtLeast(count: number): Promise<void> {
    await until(() => this.acked.size >= count, 10_000, `${this.prefix}: ${count} acks`);
  }

  /** Acked sends written after the cut-off (must be none once a revocation has returned). */
  ackedAfterCutOff(): string[] {
    return [...this.acked].filter((id) => this.afterCutOff.has(id));
  }

  private writeOne(): void {
    if (this.peer.ws.readyState !== this.peer.ws.OPEN || this.next >= this.limit) return;
    const id = `${this.prefix}-${this.next++}`;
    this.written.push(id);
    if (this.cut) this.afterCutOff.add(id);
    this.peer.send(directSend(this.from, this.to, id, "next", id));
  }
}
