// Neutralizes peer-supplied text (SPEC §5): no tag-like sequence can open or close framing, no control sequence reaches a terminal.

/**
 * Characters escaped wherever they appear: C0 controls except tab and newline (ESC, CR, BEL, …),
 * DEL, C1 controls (0x80–0x9F: CSI, OSC, … are single code points there), and the Unicode
 * bidirectional overrides/isolates and line/paragraph separators that can make displayed text
 * differ from its logical order or break a line where a reader does not see one.
 */
const CONTROL =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

/**
 * `<` (or a look-alike: fullwidth ＜, small ﹤, single angle ‹) that starts something tag-shaped:
 * `<name`, `</name`, `<!`, `<?` (no parser takes `< name` as a tag). Escaping every such opener — not only a list of known tags — covers
 * `<system-reminder`, `<channel`, `</channel>`, `<cross-session-message`, `<function_results`,
 * `<invoke` and any tag a future client starts trusting. `a < b` and `x<3` stay as they are.
 */
const TAG_OPENER = /[<\uff1c\ufe64\u2039](?=\/?[A-Za-z_!?:])/gu;

/** The namespace prefix of Anthropic's function-call markup, broken wherever it appears. */
const ANTML = /antml/giu;

function escapeControl(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return `\\u{${code.toString(16).padStart(4, "0")}}`;
}

/**
 * Peer text made safe to place inside framing that a model or a terminal reads: control
 * characters become visible `\u{001b}` escapes, tag openers become `&lt;`, and `antml` is broken
 * up as `ant&#109;l`. Newlines and tabs are kept; nothing is removed, so the reader still sees
 * what the peer wrote. Idempotent on its own output.
 */
export function neutralize(text: string): string {
  return text
    .replace(CONTROL, escapeControl)
    .replace(TAG_OPENER, "&lt;")
    .replace(ANTML, (m) => `${m.slice(0, 3)}&#${m.charCodeAt(3)};${m.slice(4)}`);
}

/** A single-line field (a display name, a summary, a mesh slug): neutralized, with newlines and tabs escaped too. */
export function neutralizeLine(text: string): string {
  return neutralize(text).replace(/[\n\t]/g, escapeControl);
}
