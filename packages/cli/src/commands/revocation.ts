// Revocation as this machine's member (SPEC §2 POST /members/revoke): signs, calls, and turns refusals into actionable errors.
import type { MeshEntry } from "../config/index.js";
import { CliError } from "../cli/errors.js";

/** Who is revoked, as the person typed or saw it (for messages). */
export interface RevokeTarget {
  pubkey: string;
  label: string;
}

function codeOf(err: unknown): string | undefined {
  return err instanceof Error && err.name === "ClientError" ? (err as { code?: string }).code : undefined;
}

/**
 * Revokes `target` signed by this machine's member of `mesh` (an admin, the target itself, or
 * its parent). Returns every pubkey the broker revoked (the target and its agents). `last_admin`
 * is left to the caller (only `leave` meets it, and it has its own advice); other refusals become
 * a CliError saying what to do. With `goneIsDone`, a broker that no longer knows the member (or the
 * mesh) counts as success with nothing revoked.
 */
export async function revokeAsMember(
  mesh: MeshEntry,
  target: RevokeTarget,
  options: { goneIsDone?: boolean } = {},
): Promise<string[]> {
  const { revokeMember } = await import("@claudemesh/client");
  try {
    return await revokeMember({
      brokerUrl: mesh.brokerUrl,
      meshId: mesh.meshId,
      targetPubkey: target.pubkey,
      by: { pubkey: mesh.pubkey, secretKey: mesh.secretKey },
    });
  } catch (err) {
    const code = codeOf(err);
    // Leaving a mesh the broker no longer has this member in is already done on the broker's side.
    if (options.goneIsDone && (code === "not_found" || code === "unauthorized")) return [];
    switch (code) {
      case "forbidden":
        throw new CliError(
          `only an admin of "${mesh.slug}" (or the member an agent belongs to) can revoke ${target.label} — you are a ${mesh.role} there; ask an admin to run 'claudemesh revoke'`,
        );
      case "not_found":
        throw new CliError(
          `${target.label} is not a member or agent of "${mesh.slug}" on ${mesh.brokerUrl} (already removed?) — 'claudemesh peers' lists who is there`,
        );
      case "unauthorized":
        throw new CliError(
          `the broker at ${mesh.brokerUrl} does not know your member of "${mesh.slug}" — 'claudemesh leave ${mesh.slug} --local-only' forgets it here`,
        );
      case "revoked":
        throw new CliError(
          `your membership of "${mesh.slug}" was revoked — 'claudemesh leave ${mesh.slug} --local-only' forgets it here`,
        );
      default:
        throw err;
    }
  }
}

/** True when `err` is the broker's `last_admin` refusal (SPEC §2). */
export function isLastAdmin(err: unknown): boolean {
  return codeOf(err) === "last_admin";
}

/** True when `err` means the broker could not be reached at all (no answer, so nothing was revoked). */
export function isUnreachable(err: unknown): boolean {
  const code = codeOf(err);
  return code === "unreachable" || code === "timeout";
}
