// NOTIFY payloads of relayed hooks (HookNotice, on the shared channel) and their answers
// (HookAnswer, on the waiting broker's own channel). Metadata only; a few hundred bytes each.
import type { HookAnswer, HookNotice } from "../types.js";
import { parsePayloadObject } from "./wakeup-payload.js";

const STATUSES = new Set(["idle", "working", "dnd"]);
const RESULTS = new Set(["applied", "ignored", "pending"]);

export function encodeHookNotice(origin: string, n: HookNotice): string {
  return JSON.stringify({
    o: origin,
    k: "hook",
    q: n.requestId,
    f: n.fromBrokerId,
    m: n.memberId,
    h: n.meshId,
    p: n.pubkey,
    s: n.status,
    t: n.at,
  });
}

export function encodeHookAnswer(origin: string, a: HookAnswer): string {
  return JSON.stringify({ o: origin, k: "hook_answer", q: a.requestId, b: a.toBrokerId, r: a.result });
}

export type HookMessage =
  | { kind: "hook"; origin: string; notice: HookNotice }
  | { kind: "hook_answer"; origin: string; answer: HookAnswer };

const isText = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= 256;

/** Parses a hook notice or answer; null for any other payload (other kinds, malformed, foreign). */
export function decodeHookMessage(payload: string): HookMessage | null {
  // Cheap pre-check: most payloads on these channels are delivery wake-ups.
  if (!payload.includes('"k":"hook')) return null;
  const v = parsePayloadObject(payload);
  if (!v) return null;
  if (!isText(v.o) || !isText(v.q)) return null;
  if (v.k === "hook") {
    const { f, m, h, p, s, t } = v;
    if (!isText(f) || !isText(m) || !isText(h) || !isText(p)) return null;
    if (typeof s !== "string" || !STATUSES.has(s) || typeof t !== "number" || !Number.isFinite(t))
      return null;
    return {
      kind: "hook",
      origin: v.o,
      notice: {
        requestId: v.q,
        fromBrokerId: f,
        memberId: m,
        meshId: h,
        pubkey: p,
        status: s as HookNotice["status"],
        at: t,
      },
    };
  }
  if (v.k === "hook_answer") {
    if (!isText(v.b) || typeof v.r !== "string" || !RESULTS.has(v.r)) return null;
    return {
      kind: "hook_answer",
      origin: v.o,
      answer: { requestId: v.q, toBrokerId: v.b, result: v.r as HookAnswer["result"] },
    };
  }
  return null;
}
