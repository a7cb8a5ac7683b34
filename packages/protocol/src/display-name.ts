// Display-name rules shared by the CLI and the broker (SPEC §1, §6): Unicode letters, NFC form, no controls, a skeleton for look-alikes.
import { MAX_NAME_CHARS } from "./constants.js";

/**
 * Allowed: Unicode letters (with their combining marks), digits, space and `. _ @ + -`. Not
 * allowed anywhere: `:` (separates a `mesh-slug:` prefix), controls, format characters (bidi
 * overrides, zero-width joiners), other symbols. The first character may not be a space, `+`, `#`
 * or `*` (`#`/`*` are not allowed at all: they name channel and broadcast targets); the last may
 * not be a space.
 */
const NAME_RE = /^[\p{L}\p{N}_.@-][\p{L}\p{M}\p{N} _.@+-]*$/u;

/** NFC form with surrounding whitespace removed: what a client sends and the broker stores. */
export function normalizeDisplayName(raw: string): string {
  return raw.normalize("NFC").trim();
}

/**
 * Why `name` is not a valid display name, or null when it is. Names must already be in NFC form
 * (normalizeDisplayName) so that the bytes a person signs are the bytes the broker stores.
 */
export function displayNameProblem(name: string): string | null {
  if (name.length === 0) return "must not be empty";
  if ([...name].length > MAX_NAME_CHARS) return `must be at most ${MAX_NAME_CHARS} characters`;
  if (name !== name.normalize("NFC")) return "must be in Unicode NFC form (normalize it first)";
  if (/\s$/u.test(name)) return "must not end with a space";
  if (!NAME_RE.test(name)) {
    return "must use letters (any script), digits, space and . _ @ + - (no controls, no leading space or +)";
  }
  return null;
}

/**
 * Cross-script letters that render like a Latin one (the commonest Cyrillic and Greek homoglyphs of
 * Unicode's confusables list); enough to stop `раul` (Cyrillic р, а) passing for `paul`.
 */
const HOMOGLYPHS: Readonly<Record<string, string>> = {
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  і: "i",
  ї: "i",
  ј: "j",
  һ: "h",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  α: "a",
  β: "b",
  ε: "e",
  η: "n",
  ι: "i",
  κ: "k",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
  ϲ: "c",
  ϳ: "j",
  ı: "i",
  ℓ: "l",
};

/**
 * The form two names are compared in for "same name in this mesh": NFKC (folds compatibility
 * forms such as fullwidth letters), case-folded, combining marks stripped (so `José` and `Jose`
 * collide), common homoglyphs mapped to Latin, and `0`/`1` read as `o`/`l`. Two names with one
 * skeleton are one name: the broker never gives both out.
 */
export function displayNameSkeleton(name: string): string {
  const folded = name
    .normalize("NFKC")
    .toLowerCase()
    .normalize("NFD")
    .replace(/\p{M}+/gu, "")
    .normalize("NFC");
  let out = "";
  for (const ch of folded) out += HOMOGLYPHS[ch] ?? ch;
  return out.replace(/0/g, "o").replace(/1/g, "l");
}
