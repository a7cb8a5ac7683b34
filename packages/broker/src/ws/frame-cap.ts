// Frame size caps (SPEC §7): a frame ≤ maxFrameBytes, except a group send, whose cap grows by a fixed amount per recipient key.
import type { ClientFrame } from "@claudemesh/protocol";
import type { BrokerOptions } from "../context.js";

type CapOptions = Pick<
  BrokerOptions,
  "maxFrameBytes" | "groupFrameBytesPerRecipient" | "maxConnectionsPerMesh"
>;

/**
 * The `ws` maxPayload: the largest group frame there can be (a key for every connection a mesh
 * may hold). Anything larger is closed with 1009 by `ws` before it is buffered; frames between
 * maxFrameBytes and this are judged by oversizeAllowed once parsed.
 */
export function wsMaxPayload(o: CapOptions): number {
  return o.maxFrameBytes + o.groupFrameBytesPerRecipient * o.maxConnectionsPerMesh;
}

/** Cap of a group send frame carrying `recipients` keys (counted up to the connection cap). */
export function groupFrameCap(o: CapOptions, recipients: number): number {
  return o.maxFrameBytes + o.groupFrameBytesPerRecipient * Math.min(recipients, o.maxConnectionsPerMesh);
}

/** A parsed frame's group keys, when it is a group send. */
function groupKeys(frame: ClientFrame): number | null {
  if (frame.type !== "send") return null;
  const keys = (frame as { keys?: unknown }).keys;
  return Array.isArray(keys) ? keys.length : null;
}

/**
 * For a frame of `bytes` > maxFrameBytes: true when it is a group send within its cap. Everything
 * else over maxFrameBytes (a direct send, any other frame, something that does not parse) closes
 * the connection with 1009, as SPEC §3 says of frames over the size cap.
 */
export function oversizeAllowed(o: CapOptions, frame: ClientFrame | null, bytes: number): boolean {
  if (!frame) return false;
  const keys = groupKeys(frame);
  return keys !== null && bytes <= groupFrameCap(o, keys);
}
