// The seam between the connection and the parts of BrokerClient above it: write frames while authenticated, describe the link.
import type { ClientFrame } from "@claudemesh/protocol";

/** What the inbound, send, request, receipt and presence parts need from the connection. */
export interface FrameLink {
  /** http(s) base URL of the broker, for error messages. */
  readonly httpBase: string;
  /** True between hello_ack and the next drop: only then do writes reach the broker. */
  readonly authenticated: boolean;
  /** Writes `frame` when authenticated; returns false (nothing written) otherwise. */
  write(frame: ClientFrame): boolean;
  /** Writes already-serialized frame text when authenticated; returns false otherwise. */
  writeText(text: string): boolean;
  /** `connected`, or the state and the last failure (for not_connected / queue_full messages). */
  describeLink(): string;
}
