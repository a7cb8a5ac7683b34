// The compiled package loads under plain Node ESM (libsodium's ESM entry + top-level await) and works synchronously.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../dist/index.js", import.meta.url));
const built = existsSync(DIST);
if (!built) console.warn(`skipping dist import test: ${DIST} is missing (run npm run build)`);

// Runs in a child process so nothing of vitest's module handling is involved.
const SCRIPT = `
const m = await import(${JSON.stringify(DIST)});
const a = m.generateKeypair();
const b = m.generateKeypair();
const hello = m.signHello("mesh_1", "member_1", a.publicKey, a.secretKey, 1000);
const verified = m.verifyHelloSignature({ meshId: "mesh_1", memberId: "member_1", pubkey: a.publicKey, ...hello }, 1000);
const env = m.encryptDirect("over dist", b.publicKey, a.secretKey);
console.log(JSON.stringify({ verified, opened: m.decryptDirect(env, a.publicKey, b.secretKey) }));
`;

describe.skipIf(!built)("compiled dist", () => {
  it("imports in plain Node ESM and signs, verifies, encrypts and decrypts", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", SCRIPT], {
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({ verified: { ok: true }, opened: "over dist" });
  });
});
