// A FrameLink over a FakeSocket, so the parts of BrokerClient are unit-tested without a Connection.
import type { ClientFrame } from "@claudemesh/protocol";
import type { FrameLink } from "../../src/link.js";
import { FakeSocket } from "./fake-socket.js";

export interface FakeLink extends FrameLink {
  /** Flip to simulate hello_ack (true) and a drop (false). */
  authenticated: boolean;
  /** Everything written while authenticated, recorded by the fake socket. */
  readonly socket: FakeSocket;
}

const ignore = (): void => undefined;

export function fakeLink(authenticated = true): FakeLink {
  const socket = new FakeSocket("ws://127.0.0.1:7900/ws", 0, {
    onOpen: ignore,
    onMessage: ignore,
    onPing: ignore,
    onClose: ignore,
    onError: ignore,
  });
  const link: FakeLink = {
    httpBase: "http://127.0.0.1:7900",
    authenticated,
    socket,
    write(frame: ClientFrame): boolean {
      return link.writeText(JSON.stringify(frame));
    },
    writeText(text: string): boolean {
      return link.authenticated && socket.send(text);
    },
    describeLink(): string {
      return link.authenticated ? "connected" : "reconnecting: connect ECONNREFUSED";
    },
  };
  return link;
}
