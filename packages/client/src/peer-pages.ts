// Paging through list_peers replies (claudemesh extension, docs/PROTOCOL.md): limit/after checks and the bounded walk.
import { MAX_PEERS_PAGE, type ClientFrame, type Peer } from "@claudemesh/protocol";
import { ClientError } from "./errors.js";

export interface PeersPage {
  peers: Peer[];
  /** The cursor of the following page; null on the last page. */
  next: string | null;
}

/** Most peers listPeers() collects by default (ten full pages). */
export const DEFAULT_MAX_PEERS = 10_000;

/** The list_peers frame for one page; throws `invalid_argument` for a limit the broker would refuse. */
export function listPeersFrame(
  id: string,
  limit: number | undefined,
  after: string | undefined,
): ClientFrame {
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PEERS_PAGE)) {
    throw new ClientError(
      "invalid_argument",
      `limit must be a whole number from 1 to ${MAX_PEERS_PAGE}, not ${limit}`,
    );
  }
  return {
    type: "list_peers",
    id,
    ...(limit === undefined ? {} : { limit }),
    ...(after === undefined ? {} : { after }),
  };
}

/**
 * Up to `max` peers in join order, fetching full pages through `fetchPage`; `truncated` is true
 * when more exist. Rejects with `invalid_argument` unless `max` is a positive whole number.
 */
export async function collectPeers(
  fetchPage: (limit: number, after: string | undefined) => Promise<PeersPage>,
  max: number,
): Promise<{ peers: Peer[]; truncated: boolean }> {
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new ClientError("invalid_argument", `max must be a positive whole number of peers, not ${max}`);
  }
  const peers: Peer[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await fetchPage(Math.min(MAX_PEERS_PAGE, max - peers.length), after);
    peers.push(...page.peers.slice(0, max - peers.length));
    // A broker without pages never sets next: its one reply is the whole list.
    if (page.next === null || page.peers.length === 0) return { peers, truncated: false };
    if (peers.length >= max) return { peers, truncated: true };
    after = page.next;
  }
}
