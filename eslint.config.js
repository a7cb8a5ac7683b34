// One lint config for the whole workspace (ARCHITECTURE.md practice 9).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const PACKAGES = ["protocol", "crypto", "broker", "client", "cli"];

/** Forbids reaching into another package's files by a relative path (use its entry point instead). */
function notInto(self) {
  return {
    group: PACKAGES.filter((name) => name !== self).flatMap((name) => [
      `../**/${name}/src/**`,
      `../**/${name}/dist/**`,
    ]),
    message: "import another package through its entry point, not by a path into it",
  };
}

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
      eqeqeq: ["error", "always"],
    },
  },
  // Layering (ARCHITECTURE.md "Layout"): protocol ← crypto ← client ← cli, and broker beside client.
  // A package imports another only through its entry point, never through a relative path into it.
  {
    files: ["packages/broker/src/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [notInto("broker")] }] },
  },
  {
    files: ["packages/protocol/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["node:*"], message: "protocol is pure: no node:* imports" },
            {
              group: ["@claudemesh/*", "claudemesh"],
              message: "protocol is the bottom layer: it imports no package",
            },
            notInto("protocol"),
          ],
        },
      ],
    },
  },
  {
    files: ["packages/crypto/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@claudemesh/*", "!@claudemesh/protocol", "claudemesh"],
              message: "crypto builds on protocol only (not broker, client or cli)",
            },
            { group: ["node:*"], message: "crypto wraps libsodium only: no node:* imports" },
            notInto("crypto"),
          ],
        },
      ],
    },
  },
  {
    files: ["packages/client/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@claudemesh/broker", "@claudemesh/broker/*", "claudemesh", "claudemesh/*"],
              message: "client talks to a broker over the wire only; it imports protocol and crypto",
            },
            { group: ["@claudemesh/*/*"], message: "import a package through its entry point" },
            { group: ["better-sqlite3", "pg"], message: "storage belongs to the broker" },
            notInto("client"),
          ],
        },
      ],
    },
  },
  {
    files: ["packages/cli/src/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@claudemesh/*/*"], message: "import a package through its entry point" },
            {
              group: ["better-sqlite3", "pg"],
              message: "the broker owns its store: read stored data through the broker package's API",
            },
            notInto("cli"),
          ],
        },
      ],
    },
  },
  {
    // Claude Code hooks run on every tool call: a tiny entry point on Node built-ins (ARCHITECTURE.md).
    files: ["packages/cli/src/hooks/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["*", "!node:*", "!.", "!./*"],
              message: "hooks load Node built-ins and their own directory only",
            },
          ],
        },
      ],
    },
  },
);
