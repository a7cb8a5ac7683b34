// Group messages (SPEC §4 revision 2): encrypted once, signed once, the key sealed per recipient; any tamper or forgery opens to null.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import sodium from "libsodium-wrappers";
import { canonicalGroup } from "@claudemesh/protocol";
import {
  fromBase64,
  generateKeypair,
  openGroup,
  sealGroup,
  toBase64,
  toHex,
  type GroupPushFields,
  type SealedGroup,
} from "../src/index.js";
import {
  ALICE,
  BOB,
  CAROL,
  FC,
  NOT_ON_CURVE_PUBKEY,
  anyText,
  expectArgumentError,
  flipBase64,
  flipHex,
} from "./helpers.js";

await sodium.ready;

const MESH = "mesh-1";
const nonEmptyText = anyText.filter((t) => t.length > 0);

/** The push a recipient at `index` of `sealed.keys` receives from ALICE. */
function pushFor(sealed: SealedGroup, index: number, targetSpec = "*"): GroupPushFields {
  const { to: _to, ...key } = sealed.keys[index]!;
  return { meshId: MESH, targetSpec, senderPubkey: ALICE.publicKey, body: sealed.body, sig: sealed.sig, key };
}

describe("sealGroup / openGroup round trip", () => {
  it("every recipient opens the same text; nobody else does", () => {
    fc.assert(
      fc.property(nonEmptyText, fc.constantFrom("*", "#ops", "#dev-2"), (text, targetSpec) => {
        const sealed = sealGroup(text, [BOB.publicKey, CAROL.publicKey], ALICE.secretKey, MESH, targetSpec);
        expect(sealed.keys.map((k) => k.to)).toEqual([BOB.publicKey, CAROL.publicKey]);
        expect(openGroup(pushFor(sealed, 0, targetSpec), BOB.secretKey)).toBe(text);
        expect(openGroup(pushFor(sealed, 1, targetSpec), CAROL.secretKey)).toBe(text);
        // Bob's sealed key is Bob's: Carol cannot use it, nor can the sender's own key open it as a recipient.
        expect(openGroup(pushFor(sealed, 0, targetSpec), CAROL.secretKey)).toBeNull();
        expect(openGroup(pushFor(sealed, 0, targetSpec), generateKeypair().secretKey)).toBeNull();
      }),
      FC,
    );
  });

  it("encrypts once: the body does not grow with recipients, each key adds a fixed 48-byte sealed key", () => {
    const text = "x".repeat(48_000);
    const recipients = Array.from({ length: 50 }, () => generateKeypair().publicKey);
    const sealed = sealGroup(text, recipients, ALICE.secretKey, MESH, "*");
    expect(fromBase64(sealed.body.ciphertext)).toHaveLength(48_000 + 16);
    expect(sealed.keys).toHaveLength(50);
    for (const key of sealed.keys) {
      expect(fromBase64(key.sealedKey)).toHaveLength(48);
      expect(fromBase64(key.nonce)).toHaveLength(24);
    }
    expect(new Set(sealed.keys.map((k) => k.nonce)).size).toBe(50);
  });

  it("signs the canonical group string of SPEC §4 over the ciphertext's BLAKE2b-256", () => {
    const sealed = sealGroup("hi", [BOB.publicKey], ALICE.secretKey, MESH, "#ops");
    const hash = toHex(sodium.crypto_generichash(32, fromBase64(sealed.body.ciphertext), null));
    const canonical = canonicalGroup(MESH, "#ops", sealed.body.nonce, hash);
    expect(canonical).toBe(`claudemesh-group|v1|${MESH}|#ops|${sealed.body.nonce}|${hash}`);
    expect(
      sodium.crypto_sign_verify_detached(
        sodium.from_hex(sealed.sig),
        sodium.from_string(canonical),
        sodium.from_hex(ALICE.publicKey),
      ),
    ).toBe(true);
  });
});

describe("openGroup refuses every tamper with null", () => {
  const sealed = sealGroup("the plan is at 3pm", [BOB.publicKey], ALICE.secretKey, MESH, "#ops");
  const good = pushFor(sealed, 0, "#ops");

  it("opens the untampered push (control)", () => {
    expect(openGroup(good, BOB.secretKey)).toBe("the plan is at 3pm");
  });

  it("any flipped bit of body ciphertext, body nonce, sig, sealed key or key nonce", () => {
    const ct = fromBase64(good.body.ciphertext).length;
    fc.assert(
      fc.property(fc.nat(), fc.integer({ min: 0, max: 7 }), (n, bit) => {
        const variants: GroupPushFields[] = [
          { ...good, body: { ...good.body, ciphertext: flipBase64(good.body.ciphertext, n % ct, bit) } },
          { ...good, body: { ...good.body, nonce: flipBase64(good.body.nonce, n % 24, bit) } },
          { ...good, sig: flipHex(good.sig, n % 64, bit) },
          { ...good, key: { ...good.key, sealedKey: flipBase64(good.key.sealedKey, n % 48, bit) } },
          { ...good, key: { ...good.key, nonce: flipBase64(good.key.nonce, n % 24, bit) } },
        ];
        for (const variant of variants) expect(openGroup(variant, BOB.secretKey)).toBeNull();
      }),
      FC,
    );
  });

  it("any changed canonical field: meshId, targetSpec, senderPubkey", () => {
    for (const variant of [
      { ...good, meshId: "mesh-2" },
      { ...good, targetSpec: "#ops2" },
      { ...good, targetSpec: "*" },
      { ...good, senderPubkey: CAROL.publicKey },
    ]) {
      expect(openGroup(variant, BOB.secretKey)).toBeNull();
    }
  });

  it("a truncated or extended body, a wrong-length key, a missing field", () => {
    const ctBytes = fromBase64(good.body.ciphertext);
    for (const variant of [
      { ...good, body: { ...good.body, ciphertext: toBase64(ctBytes.subarray(0, ctBytes.length - 1)) } },
      { ...good, body: { ...good.body, ciphertext: toBase64(new Uint8Array([...ctBytes, 0])) } },
      { ...good, body: { ...good.body, ciphertext: toBase64(ctBytes.subarray(0, 15)) } },
      { ...good, key: { ...good.key, sealedKey: toBase64(fromBase64(good.key.sealedKey).subarray(0, 47)) } },
      { ...good, key: { ...good.key, nonce: "" } },
      { ...good, body: undefined },
      { ...good, key: undefined },
      { ...good, sig: "" },
    ]) {
      expect(openGroup(variant as unknown as GroupPushFields, BOB.secretKey)).toBeNull();
    }
  });

  it("never throws, whatever it is given", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (push, secretKey) => {
        expect(openGroup(push as GroupPushFields, secretKey as string)).toBeNull();
      }),
      FC,
    );
    expect(openGroup(good, "00")).toBeNull();
    expect(openGroup({ ...good, senderPubkey: NOT_ON_CURVE_PUBKEY }, BOB.secretKey)).toBeNull();
  });
});

describe("no recipient can forge a body another recipient accepts under the same key", () => {
  it("a body re-encrypted under K by Bob (who knows K) is refused by Carol", () => {
    fc.assert(
      fc.property(nonEmptyText, nonEmptyText, (original, forged) => {
        fc.pre(original !== forged);
        const sealed = sealGroup(original, [BOB.publicKey, CAROL.publicKey], ALICE.secretKey, MESH, "*");
        // Bob recovers K from his own sealed key, exactly as openGroup does.
        const bobPush = pushFor(sealed, 0);
        const shared = sodium.crypto_box_beforenm(
          sodium.crypto_sign_ed25519_pk_to_curve25519(sodium.from_hex(ALICE.publicKey)),
          sodium.crypto_sign_ed25519_sk_to_curve25519(sodium.from_hex(BOB.secretKey)),
        );
        const key = sodium.crypto_box_open_easy_afternm(
          fromBase64(bobPush.key.sealedKey),
          fromBase64(bobPush.key.nonce),
          shared,
        );
        const nonce = sodium.randombytes_buf(24);
        const forgedBody = {
          nonce: toBase64(nonce),
          ciphertext: toBase64(sodium.crypto_secretbox_easy(sodium.from_string(forged), nonce, key)),
        };
        // Same nonce too, so only the ciphertext differs from what Alice signed.
        const sameNonceBody = {
          nonce: sealed.body.nonce,
          ciphertext: toBase64(
            sodium.crypto_secretbox_easy(sodium.from_string(forged), fromBase64(sealed.body.nonce), key),
          ),
        };
        for (const body of [forgedBody, sameNonceBody]) {
          expect(openGroup({ ...pushFor(sealed, 1), body }, CAROL.secretKey)).toBeNull();
        }
        // Control: Carol opens Alice's real body.
        expect(openGroup(pushFor(sealed, 1), CAROL.secretKey)).toBe(original);
      }),
      FC,
    );
  });
});

describe("sealGroup argument checks", () => {
  it("refuses bad recipients before any work, naming the argument", () => {
    const seal = (recipients: unknown): unknown =>
      sealGroup("m", recipients as string[], ALICE.secretKey, MESH, "*");
    expectArgumentError(() => seal(BOB.publicKey), "recipientPubkeysHex");
    expectArgumentError(() => seal([]), "recipientPubkeysHex");
    expectArgumentError(() => seal(Array.from({ length: 1001 }, () => BOB.publicKey)), "recipientPubkeysHex");
    expectArgumentError(() => seal([BOB.publicKey, "xy"]), "recipientPubkeysHex[1]");
    expectArgumentError(
      () => seal([BOB.publicKey, CAROL.publicKey, BOB.publicKey]),
      "recipientPubkeysHex[2]",
    );
    expectArgumentError(() => seal([BOB.publicKey, NOT_ON_CURVE_PUBKEY]), "recipientPubkeysHex[1]");
  });

  it("refuses a bad message, sender key, meshId or targetSpec", () => {
    expectArgumentError(() => sealGroup(1 as never, [BOB.publicKey], ALICE.secretKey, MESH, "*"), "message");
    expectArgumentError(() => sealGroup("\ud800", [BOB.publicKey], ALICE.secretKey, MESH, "*"), "message");
    expectArgumentError(() => sealGroup("m", [BOB.publicKey], "00", MESH, "*"), "senderSecretKeyHex");
    expectArgumentError(() => sealGroup("m", [BOB.publicKey], ALICE.secretKey, "a|b", "*"), "meshId");
    expectArgumentError(() => sealGroup("m", [BOB.publicKey], ALICE.secretKey, "", "*"), "meshId");
    for (const target of [BOB.publicKey, "ops", "#a|b", ""]) {
      expectArgumentError(() => sealGroup("m", [BOB.publicKey], ALICE.secretKey, MESH, target), "targetSpec");
    }
  });
});
