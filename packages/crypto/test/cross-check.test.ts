// Cross-checks against independent implementations (node:crypto/OpenSSL, @noble/curves, tweetnacl), so a wrong conversion or encoding cannot pass.
import {
  createPrivateKey,
  createPublicKey,
  sign as nodeSign,
  verify as nodeVerify,
  type KeyObject,
} from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { blake2b } from "@noble/hashes/blake2.js";
import fc from "fast-check";
import nacl from "tweetnacl";
import { describe, expect, it } from "vitest";
import {
  decryptDirect,
  encryptDirect,
  fromBase64,
  fromHex,
  keypairFromSeed,
  openGroup,
  sealGroup,
  signDetached,
  toBase64,
  toHex,
  verifyDetached,
} from "../src/index.js";
import {
  ALICE,
  BOB,
  CAROL,
  FC,
  MIXED_ORDER_PUBKEY,
  NOT_ON_CURVE_PUBKEY,
  SMALL_ORDER_PUBKEY,
  anyText,
} from "./helpers.js";

const b64url = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url");
const seedOf = (secretKeyHex: string): Uint8Array => fromHex(secretKeyHex.slice(0, 64));
const utf8 = new TextEncoder();

function nodePrivateKey(secretKeyHex: string): KeyObject {
  const d = seedOf(secretKeyHex);
  const x = fromHex(secretKeyHex.slice(64));
  return createPrivateKey({ key: { kty: "OKP", crv: "Ed25519", d: b64url(d), x: b64url(x) }, format: "jwk" });
}

function nodePublicKey(pubkeyHex: string): KeyObject {
  return createPublicKey({
    key: { kty: "OKP", crv: "Ed25519", x: b64url(fromHex(pubkeyHex)) },
    format: "jwk",
  });
}

/** X25519 keys computed by @noble/curves, independently of libsodium's conversion. */
const nobleX25519Public = (pubkeyHex: string): Uint8Array => ed25519.utils.toMontgomery(fromHex(pubkeyHex));
const nobleX25519Secret = (secretKeyHex: string): Uint8Array =>
  ed25519.utils.toMontgomerySecret(seedOf(secretKeyHex));

const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(toHex);
const messageArb = fc.uint8Array({ maxLength: 300 });

describe("ed25519 against node:crypto (OpenSSL)", () => {
  it("derives the same public key from a seed", () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const ours = keypairFromSeed(seed);
        const jwk = createPublicKey(nodePrivateKey(ours.secretKey)).export({ format: "jwk" });
        expect(jwk.x).toBe(b64url(fromHex(ours.publicKey)));
      }),
      FC,
    );
  });

  it("our signatures verify with node:crypto and equal its (deterministic) signatures", () => {
    fc.assert(
      fc.property(seedArb, messageArb, (seed, message) => {
        const kp = keypairFromSeed(seed);
        const ours = signDetached(message, kp.secretKey);
        expect(nodeVerify(null, message, nodePublicKey(kp.publicKey), fromHex(ours))).toBe(true);
        expect(toHex(nodeSign(null, message, nodePrivateKey(kp.secretKey)))).toBe(ours);
      }),
      FC,
    );
  });

  it("node:crypto signatures verify with verifyDetached, and fail under another key", () => {
    fc.assert(
      fc.property(seedArb, messageArb, (seed, message) => {
        const kp = keypairFromSeed(seed);
        const theirs = toHex(nodeSign(null, message, nodePrivateKey(kp.secretKey)));
        expect(verifyDetached(message, theirs, kp.publicKey)).toBe(true);
        expect(
          verifyDetached(message, theirs, CAROL.publicKey === kp.publicKey ? BOB.publicKey : CAROL.publicKey),
        ).toBe(false);
      }),
      FC,
    );
  });

  it("signs text as its UTF-8 bytes, as node:crypto reads them", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const signature = signDetached(text, ALICE.secretKey);
        expect(
          nodeVerify(null, Buffer.from(text, "utf8"), nodePublicKey(ALICE.publicKey), fromHex(signature)),
        ).toBe(true);
      }),
      FC,
    );
  });
});

describe("ed25519 against @noble/curves", () => {
  it("noble verifies our signatures and we verify noble's", () => {
    fc.assert(
      fc.property(seedArb, messageArb, (seed, message) => {
        const kp = keypairFromSeed(seed);
        expect(toHex(ed25519.getPublicKey(fromHex(seed)))).toBe(kp.publicKey);
        expect(
          ed25519.verify(fromHex(signDetached(message, kp.secretKey)), message, fromHex(kp.publicKey)),
        ).toBe(true);
        expect(verifyDetached(message, toHex(ed25519.sign(message, fromHex(seed))), kp.publicKey)).toBe(true);
      }),
      FC,
    );
  });

  it("confirms the bad-point fixtures are what their names say", () => {
    expect(() => ed25519.Point.fromHex(NOT_ON_CURVE_PUBKEY)).toThrow();
    expect(ed25519.Point.fromHex(SMALL_ORDER_PUBKEY).isSmallOrder()).toBe(true);
    const mixed = ed25519.Point.fromHex(MIXED_ORDER_PUBKEY);
    expect(mixed.isSmallOrder()).toBe(false);
    expect(mixed.isTorsionFree()).toBe(false);
  });
});

describe("crypto_box against tweetnacl with @noble-converted X25519 keys", () => {
  it("our envelopes open with tweetnacl", () => {
    fc.assert(
      fc.property(anyText, seedArb, seedArb, (text, senderSeed, recipientSeed) => {
        const sender = keypairFromSeed(senderSeed);
        const recipient = keypairFromSeed(recipientSeed);
        const env = encryptDirect(text, recipient.publicKey, sender.secretKey);
        const opened = nacl.box.open(
          fromBase64(env.ciphertext),
          fromBase64(env.nonce),
          nobleX25519Public(sender.publicKey),
          nobleX25519Secret(recipient.secretKey),
        );
        expect(opened).not.toBeNull();
        expect(Buffer.from(opened!).toString("utf8")).toBe(text);
      }),
      FC,
    );
  });

  it("tweetnacl boxes open with decryptDirect", () => {
    fc.assert(
      fc.property(anyText, seedArb, seedArb, (text, senderSeed, recipientSeed) => {
        const sender = keypairFromSeed(senderSeed);
        const recipient = keypairFromSeed(recipientSeed);
        const nonce = nacl.randomBytes(24);
        const boxed = nacl.box(
          utf8.encode(text),
          nonce,
          nobleX25519Public(recipient.publicKey),
          nobleX25519Secret(sender.secretKey),
        );
        const env = { nonce: toBase64(nonce), ciphertext: toBase64(boxed) };
        expect(decryptDirect(env, sender.publicKey, recipient.secretKey)).toBe(text);
      }),
      FC,
    );
  });

  it("a group message opens with tweetnacl and @noble's BLAKE2b: sealed key, signature and body", () => {
    fc.assert(
      fc.property(
        anyText.filter((t) => t.length > 0),
        (text) => {
          const { body, sig, keys } = sealGroup(
            text,
            [BOB.publicKey, CAROL.publicKey],
            ALICE.secretKey,
            "m1",
            "*",
          );
          const ciphertext = fromBase64(body.ciphertext);
          const hash = toHex(blake2b(ciphertext, { dkLen: 32 }));
          const canonical = `claudemesh-group|v1|m1|*|${body.nonce}|${hash}`;
          expect(
            nacl.sign.detached.verify(utf8.encode(canonical), fromHex(sig), fromHex(ALICE.publicKey)),
          ).toBe(true);
          for (const [entry, kp] of [
            [keys[0]!, BOB],
            [keys[1]!, CAROL],
          ] as const) {
            const key = nacl.box.open(
              fromBase64(entry.sealedKey),
              fromBase64(entry.nonce),
              nobleX25519Public(ALICE.publicKey),
              nobleX25519Secret(kp.secretKey),
            );
            expect(key).not.toBeNull();
            const opened = nacl.secretbox.open(ciphertext, fromBase64(body.nonce), key!);
            expect(Buffer.from(opened!).toString("utf8")).toBe(text);
          }
        },
      ),
      FC,
    );
  });

  it("a group message built by tweetnacl and @noble opens with openGroup", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const key = nacl.randomBytes(32);
        const nonce = nacl.randomBytes(24);
        const ciphertext = nacl.secretbox(utf8.encode(text), nonce, key);
        const bodyNonce = toBase64(nonce);
        const hash = toHex(blake2b(ciphertext, { dkLen: 32 }));
        const canonical = `claudemesh-group|v1|m1|#ops|${bodyNonce}|${hash}`;
        const sig = toHex(nacl.sign.detached(utf8.encode(canonical), fromHex(ALICE.secretKey)));
        const keyNonce = nacl.randomBytes(24);
        const sealedKey = nacl.box(
          key,
          keyNonce,
          nobleX25519Public(BOB.publicKey),
          nobleX25519Secret(ALICE.secretKey),
        );
        const push = {
          meshId: "m1",
          targetSpec: "#ops",
          senderPubkey: ALICE.publicKey,
          body: { nonce: bodyNonce, ciphertext: toBase64(ciphertext) },
          sig,
          key: { nonce: toBase64(keyNonce), sealedKey: toBase64(sealedKey) },
        };
        expect(openGroup(push, BOB.secretKey)).toBe(text);
        expect(openGroup(push, CAROL.secretKey)).toBeNull();
      }),
      FC,
    );
  });

  it("is discriminating: skipping the ed25519→X25519 conversion does not open our box", () => {
    const env = encryptDirect("check", BOB.publicKey, ALICE.secretKey);
    const unconverted = nacl.box.open(
      fromBase64(env.ciphertext),
      fromBase64(env.nonce),
      fromHex(ALICE.publicKey),
      seedOf(BOB.secretKey),
    );
    expect(unconverted).toBeNull();
  });
});
