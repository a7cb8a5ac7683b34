// The pure base64url/UTF-8 codec behind invite links, checked against Node's Buffer and a fatal TextDecoder.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { base64urlDecodeText, base64urlEncodeText } from "@claudemesh/protocol";

const RUNS = { numRuns: 500 };
const nodeEncode = (text: string): string => Buffer.from(text, "utf8").toString("base64url");
const nodeEncodeBytes = (bytes: Uint8Array | number[]): string => Buffer.from(bytes).toString("base64url");
/** An independent strict UTF-8 decoder: the WHATWG one with fatal errors. */
function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** Any string of whole code points, astral ones included. */
const unicodeText = fc.string({ unit: "binary", maxLength: 200 });
/** Strings with lone (unpaired) UTF-16 surrogates mixed in. */
const textWithLoneSurrogates = fc.string({
  unit: fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 50,
});

describe("base64url - encoding", () => {
  it("matches Node's base64url for any unicode text, astral characters included", () => {
    fc.assert(
      fc.property(unicodeText, (text) => {
        expect(base64urlEncodeText(text)).toBe(nodeEncode(text));
      }),
      RUNS,
    );
  });

  it("writes a lone surrogate as U+FFFD, like Buffer and TextEncoder", () => {
    fc.assert(
      fc.property(textWithLoneSurrogates, (text) => {
        expect(base64urlEncodeText(text)).toBe(nodeEncode(text));
        expect(base64urlDecodeText(base64urlEncodeText(text))).toBe(
          new TextDecoder().decode(new TextEncoder().encode(text)),
        );
      }),
      RUNS,
    );
    expect(base64urlEncodeText("\ud800")).toBe(nodeEncode("\ufffd"));
  });

  it("pins known vectors (RFC 4648 §10, unpadded, url alphabet)", () => {
    const vectors: [string, string][] = [
      ["", ""],
      ["f", "Zg"],
      ["fo", "Zm8"],
      ["foo", "Zm9v"],
      ["foob", "Zm9vYg"],
      ["fooba", "Zm9vYmE"],
      ["foobar", "Zm9vYmFy"],
      ["\u00ff\u00fe", "w7_Dvg"],
      ["😀", "8J-YgA"],
    ];
    for (const [text, encoded] of vectors) {
      expect(base64urlEncodeText(text)).toBe(encoded);
      expect(base64urlDecodeText(encoded)).toBe(text);
    }
  });

  it("never emits padding or characters outside the url alphabet", () => {
    fc.assert(
      fc.property(unicodeText, (text) => {
        expect(base64urlEncodeText(text)).toMatch(/^[A-Za-z0-9_-]*$/);
      }),
      RUNS,
    );
  });
});

describe("base64url - decoding", () => {
  it("round-trips any unicode text", () => {
    fc.assert(
      fc.property(unicodeText, (text) => {
        expect(base64urlDecodeText(base64urlEncodeText(text))).toBe(text);
      }),
      RUNS,
    );
  });

  it("decodes Node's encoding of any byte sequence exactly when the bytes are valid UTF-8", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base64urlDecodeText(nodeEncodeBytes(bytes))).toBe(strictUtf8(bytes));
      }),
      RUNS,
    );
  });

  it("rejects valid UTF-8 text with one corrupted byte exactly when a strict decoder does", () => {
    const corrupted = fc
      .tuple(
        fc.string({ unit: "binary", minLength: 1, maxLength: 40 }),
        fc.nat(),
        fc.integer({ min: 0x80, max: 0xff }),
      )
      .map(([text, at, byte]) => {
        const bytes = new TextEncoder().encode(text);
        bytes[at % bytes.length] = byte;
        return bytes;
      });
    fc.assert(
      fc.property(corrupted, (bytes) => {
        expect(base64urlDecodeText(nodeEncodeBytes(bytes))).toBe(strictUtf8(bytes));
      }),
      RUNS,
    );
  });

  it("rejects each kind of invalid UTF-8", () => {
    const invalid: [string, number[]][] = [
      ["a lone continuation byte", [0x80]],
      ["0xFF", [0xff]],
      ["0xC0 (always overlong)", [0xc0, 0xaf]],
      ["an overlong 2-byte '/'", [0xc1, 0xbf]],
      ["an overlong 3-byte form", [0xe0, 0x80, 0xaf]],
      ["an overlong 4-byte form", [0xf0, 0x80, 0x80, 0xaf]],
      ["an encoded surrogate (U+D800)", [0xed, 0xa0, 0x80]],
      ["an encoded surrogate (U+DFFF)", [0xed, 0xbf, 0xbf]],
      ["a code point above U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
      ["a 0xF5 lead byte", [0xf5, 0x80, 0x80, 0x80]],
      ["a truncated 3-byte sequence", [0x41, 0xe2, 0x82]],
      ["a truncated 2-byte sequence at the end", [0x41, 0xc2]],
      ["a lead byte followed by ASCII", [0xe2, 0x41, 0x41]],
    ];
    for (const [label, bytes] of invalid) {
      expect(strictUtf8(Uint8Array.from(bytes)), label).toBeNull();
      expect(base64urlDecodeText(nodeEncodeBytes(bytes)), label).toBeNull();
    }
  });

  it("accepts the boundary code points of each UTF-8 length", () => {
    for (const cp of [0x0, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff]) {
      const text = String.fromCodePoint(cp);
      expect(base64urlDecodeText(nodeEncode(text))).toBe(text);
    }
  });

  it("rejects any character outside the base64url alphabet, wherever it is inserted", () => {
    const outsider = fc.constantFrom("+", "/", " ", "\n", ".", "*", "$", "é", "€", "😀", "\u0000");
    fc.assert(
      fc.property(unicodeText, fc.nat(), outsider, (text, at, ch) => {
        const encoded = base64urlEncodeText(text);
        const i = at % (encoded.length + 1);
        expect(base64urlDecodeText(encoded.slice(0, i) + ch + encoded.slice(i))).toBeNull();
      }),
      RUNS,
    );
  });

  it("rejects '=' anywhere but trailing padding", () => {
    expect(base64urlDecodeText("Zm9v=YmFy")).toBeNull();
    expect(base64urlDecodeText("=Zm9v")).toBeNull();
    expect(base64urlDecodeText("Zg===")).toBeNull();
    expect(base64urlDecodeText("Zg==")).toBe("f");
    expect(base64urlDecodeText("Zm8=")).toBe("fo");
  });

  it("rejects lengths no encoding can have (4n+1 characters)", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^(?:[A-Za-z0-9_-]{4}){0,8}[A-Za-z0-9_-]$/), (encoded) => {
        expect(encoded.length % 4).toBe(1);
        expect(base64urlDecodeText(encoded)).toBeNull();
      }),
      RUNS,
    );
  });

  it("decodes the empty string to the empty string", () => {
    expect(base64urlDecodeText("")).toBe("");
  });
});
