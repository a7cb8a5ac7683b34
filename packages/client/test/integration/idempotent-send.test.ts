// BrokerClient against a real broker: a send whose ack was lost is written again under the same id and stored once.
import { describe, expect, it } from "vitest";
import type { BrokerClient } from "../../src/broker-client.js";
import { wsSocketFactory, type ClientSocket, type SocketFactory } from "../../src/transport.js";
import { FAST, liveBroker, collect, meshWith, waitFor, type LiveMember } from "../helpers/live.js";

const live = liveBroker();

function connect(m: LiveMember, factory?: SocketFactory): Promise<BrokerClient> {
  return live.connect(m, factory ? { ...FAST, socketFactory: factory } : FAST);
}

describe("BrokerClient live - idempotent sends", () => {
  it("a resend after a lost ack is acked with the first messageId and delivered once", async () => {
    const [alice, bob] = await meshWith(live.url, ["alice", "bob"]);
    if (!alice || !bob) throw new Error("setup");
    const sendIds: string[] = [];
    let loseNextAck = true;
    // Records the ids of written send frames; swallows the first ack and drops that connection.
    const lossy: SocketFactory = (url, handlers) => {
      let socket: ClientSocket | null = null;
      socket = wsSocketFactory(url, {
        ...handlers,
        onMessage(text) {
          if (loseNextAck && text.includes('"type":"ack"')) {
            loseNextAck = false;
            socket?.terminate();
            return;
          }
          handlers.onMessage(text);
        },
      });
      const inner = socket;
      return {
        send(text) {
          if (text.includes('"type":"send"')) sendIds.push((JSON.parse(text) as { id: string }).id);
          return inner.send(text);
        },
        close: (code, reason, done) => inner.close(code, reason, done),
        terminate: () => inner.terminate(),
      };
    };
    const a = await connect(alice, lossy);
    const b = await connect(bob);
    const atB = collect(b);

    const sent = await a.send(bob.pubkey, "exactly one copy", "now");
    expect(loseNextAck).toBe(false);
    expect(sendIds).toHaveLength(2);
    expect(sendIds[1]).toBe(sendIds[0]);
    await waitFor(() => atB.length >= 1, 5_000, "bob's message");
    // Give a second copy, if one had been stored, the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(atB.map((m) => m.messageId)).toEqual([sent.messageId]);
    expect(atB[0]?.text).toBe("exactly one copy");
  });
});
