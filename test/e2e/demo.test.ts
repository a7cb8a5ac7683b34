// demo — `claudemesh demo` runs a real broker and two members, shows opaque stored rows and the decrypted text, and cleans up.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { DEMO_SCRIPT, runDemo } from "../../packages/cli/src/demo/index.js";

function capture(): { write: (text: string) => void; text: () => string } {
  const chunks: string[] = [];
  return { write: (text) => void chunks.push(text), text: () => chunks.join("") };
}

describe("demo", () => {
  it("exchanges every scripted message both ways, beside ciphertext without plaintext, then removes its temp dir", async () => {
    const out = capture();
    const err = capture();
    const code = await runDemo([], {}, { stdout: out.write, stderr: err.write });
    const text = out.text();
    expect(err.text()).toBe("");
    expect(code).toBe(0);
    for (const line of DEMO_SCRIPT) expect(text).toContain(`"${line.text}"`);
    expect(text.match(/✓ the stored row holds no plaintext/g)).toHaveLength(DEMO_SCRIPT.length);
    expect(text.match(/✓ decrypted text matches what was sent/g)).toHaveLength(DEMO_SCRIPT.length);
    expect(text).not.toContain("✗");
    expect(text).toContain("alice → bob");
    expect(text).toContain("bob → alice");
    const root = /cleaned up: .*, (\S+) removed/.exec(text)?.[1];
    expect(root).toBeDefined();
    expect(existsSync(root as string)).toBe(false);
  });

  it("rejects unexpected arguments with exit 2 and a one-line hint", async () => {
    const out = capture();
    const err = capture();
    expect(await runDemo(["--fast"], {}, { stdout: out.write, stderr: err.write })).toBe(2);
    expect(err.text()).toMatch(/^claudemesh demo: unexpected argument "--fast" — usage: claudemesh demo/);
    expect(err.text().trim().split("\n")).toHaveLength(1);
  });
});
