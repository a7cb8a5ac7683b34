// doctor check: every configured mesh's broker answers GET /health with status ok (SPEC §2).
import { brokerUrls } from "@claudemesh/client";
import { loadConfig } from "../../config/index.js";
import type { CheckResult, DoctorCheck } from "./types.js";

/** GET <broker>/health; the parsed body, or why it failed. */
export async function probeHealth(
  brokerUrl: string,
  timeoutMs: number,
): Promise<{ ok: true; body: Record<string, unknown> } | { ok: false; reason: string }> {
  const url = `${brokerUrls(brokerUrl).httpBase}/health`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.status === 200 && body.status === "ok") return { ok: true, body };
    return {
      ok: false,
      reason: `${url} answered ${res.status} (${String(body.status ?? "no status")}, db ${String(body.db ?? "?")})`,
    };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
    return { ok: false, reason: `cannot reach ${url} (${cause})` };
  }
}

function isLocal(brokerUrl: string): boolean {
  try {
    return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(brokerUrl).hostname);
  } catch {
    return false;
  }
}

export const brokerCheck: DoctorCheck = {
  id: "broker",
  title: "broker reachable",
  async run({ env, timeoutMs }): Promise<CheckResult> {
    let meshes;
    try {
      meshes = loadConfig(env, { missingOk: true }).meshes;
    } catch (err) {
      return { ok: false, detail: (err as Error).message, fix: "fix or move the config file named above" };
    }
    if (meshes.length === 0) {
      return {
        ok: false,
        detail: "no mesh configured, so there is no broker to talk to",
        fix: "claudemesh join <link>   (or: claudemesh mesh create <slug> --broker URL)",
      };
    }
    const results = await Promise.all(
      meshes.map(async (m) => ({ mesh: m, probe: await probeHealth(m.brokerUrl, timeoutMs) })),
    );
    const down = results.filter((r) => !r.probe.ok);
    if (down.length === 0) {
      return {
        ok: true,
        detail: results
          .map(
            (r) =>
              `${r.mesh.slug}: ${r.mesh.brokerUrl} ok${r.probe.ok && typeof r.probe.body.version === "string" ? ` (v${r.probe.body.version})` : ""}`,
          )
          .join("; "),
      };
    }
    const first = down[0]!.mesh;
    return {
      ok: false,
      detail: down.map((r) => `${r.mesh.slug}: ${r.probe.ok ? "" : r.probe.reason}`).join("; "),
      fix: isLocal(first.brokerUrl)
        ? "claudemesh broker   (start the local broker, e.g. in another terminal or as a service)"
        : `check that ${first.brokerUrl} is up and reachable from here (ask the mesh's admin)`,
    };
  },
};
