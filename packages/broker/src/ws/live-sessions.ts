// The live authenticated connections of one hub, by member id and by mesh: per-mesh lookups never walk every socket.
import type { Session } from "./session.js";

const NONE: ReadonlyMap<string, Session> = new Map();

/**
 * A `Map` from member id to its live session (newest wins) that also keeps the sessions of each
 * mesh, so "who of this mesh is connected here" (receipt pushes, revocation's snapshot pruning)
 * costs the mesh's connections, not the broker's. Only authenticated sessions are set: the mesh is
 * read from `session.me` when one is set.
 */
export class LiveSessions extends Map<string, Session> {
  private readonly meshes = new Map<string, Map<string, Session>>();

  override set(memberId: string, session: Session): this {
    this.unindex(memberId);
    super.set(memberId, session);
    const meshId = session.me.meshId;
    let members = this.meshes.get(meshId);
    if (!members) this.meshes.set(meshId, (members = new Map()));
    members.set(memberId, session);
    return this;
  }

  override delete(memberId: string): boolean {
    this.unindex(memberId);
    return super.delete(memberId);
  }

  override clear(): void {
    this.meshes.clear();
    super.clear();
  }

  /** The live sessions of `meshId` on this hub, by member id (empty when none). */
  inMesh(meshId: string): ReadonlyMap<string, Session> {
    return this.meshes.get(meshId) ?? NONE;
  }

  /** The meshes with at least one live session here (`has(meshId)`). */
  get meshIds(): Pick<ReadonlySet<string>, "has"> {
    return this.meshes;
  }

  private unindex(memberId: string): void {
    const previous = super.get(memberId);
    if (!previous) return;
    const meshId = previous.me.meshId;
    const members = this.meshes.get(meshId);
    if (!members) return;
    members.delete(memberId);
    if (members.size === 0) this.meshes.delete(meshId);
  }
}
