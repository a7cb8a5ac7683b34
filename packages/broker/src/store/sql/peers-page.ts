// The store read behind one `list_peers` page (SPEC §3): a keyset page of the mesh's active members
// in join order, with their parents' pubkeys, presence rows and channels — every read on an index.
import type { PeersPage, PresenceRow } from "../types.js";
import { first, rows, type Op } from "./op.js";
import { PRESENCE_COLUMNS, toMember, toPresence } from "./rows.js";

/**
 * Active members only (an agent of a revoked member is revoked too, SPEC §1), in (created_at, id)
 * order on members_mesh_created; the row-value comparison resumes after the cursor's key.
 */
const PAGE_SQL = (withCursor: boolean) =>
  "SELECT m.id, m.mesh_id, m.pubkey, m.display_name, m.role, m.parent_member_id, m.created_at, " +
  "m.revoked_at, p.pubkey AS parent_pubkey " +
  "FROM members m LEFT JOIN members p ON p.id = m.parent_member_id " +
  "WHERE m.mesh_id = ? " +
  (withCursor ? "AND (m.created_at, m.id) > (?, ?) " : "") +
  "AND m.revoked_at IS NULL AND p.revoked_at IS NULL " +
  "ORDER BY m.created_at, m.id LIMIT ?";

const placeholders = (n: number) => Array.from({ length: n }, () => "?").join(", ");

/**
 * Up to `limit` active members of the mesh that joined after the member `after` (null: from the
 * first), with what their peers entries need. Null when `after` is not a member of this mesh.
 * Rows are never deleted (revocation is soft), so a cursor from an earlier page always resolves,
 * and a keyset page neither skips nor repeats members that exist throughout, whatever joins meanwhile.
 */
export function* listPeersPage(
  meshId: string,
  page: { after: string | null; limit: number },
): Op<PeersPage | null> {
  const params: unknown[] = [meshId];
  if (page.after !== null) {
    const cursor = yield* first("SELECT created_at, id FROM members WHERE id = ? AND mesh_id = ?", [
      page.after,
      meshId,
    ]);
    if (!cursor) return null;
    params.push(cursor.created_at, cursor.id);
  }
  const found = yield* rows(PAGE_SQL(page.after !== null), [...params, page.limit + 1]);
  const more = found.length > page.limit;
  const pageRows = more ? found.slice(0, page.limit) : found;
  const members = pageRows.map(toMember);
  const parentPubkeys = new Map<string, string>();
  for (const r of pageRows) {
    if (r.parent_member_id !== null && r.parent_pubkey !== null)
      parentPubkeys.set(String(r.parent_member_id), String(r.parent_pubkey));
  }
  const presence: PresenceRow[] = [];
  const channelsByMember = new Map<string, string[]>();
  if (members.length > 0) {
    const ids = members.map((m) => m.id);
    const presenceRows = yield* rows(
      `SELECT ${PRESENCE_COLUMNS} FROM presence WHERE member_id IN (${placeholders(ids.length)})`,
      ids,
    );
    presence.push(...presenceRows.map(toPresence));
    const channelRows = yield* rows(
      `SELECT member_id, channel FROM channel_members WHERE member_id IN (${placeholders(ids.length)}) ` +
        "ORDER BY member_id, channel",
      ids,
    );
    for (const r of channelRows) {
      const memberId = String(r.member_id);
      const list = channelsByMember.get(memberId);
      if (list) list.push(String(r.channel));
      else channelsByMember.set(memberId, [String(r.channel)]);
    }
  }
  return { members, parentPubkeys, presence, channelsByMember, more };
}
