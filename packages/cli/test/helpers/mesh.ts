// Sets up a mesh with an owner and joined members through the CLI itself, each with its own config dir.
import { join } from "node:path";
import { expect } from "vitest";
import { cli } from "./cli.js";

export type MemberEnv = Record<string, string>;

/** `mesh create` as `owner`, then one `invite` + `join` per other name; returns each person's env. */
export async function setupMesh(
  root: string,
  brokerUrl: string,
  slug: string,
  names: string[],
): Promise<Record<string, MemberEnv>> {
  const envs: Record<string, MemberEnv> = {};
  const [owner, ...others] = names;
  for (const name of names)
    envs[name] = { CLAUDEMESH_CONFIG_DIR: join(root, `cfg-${slug}-${name}`), HOME: root };
  const created = await cli(
    ["mesh", "create", slug, "--broker", brokerUrl, "--as", owner as string],
    envs[owner as string]!,
  );
  expect(created.stderr.split("\n")[0]).not.toMatch(/^claudemesh mesh create: /);
  expect(created.code).toBe(0);
  for (const name of others) {
    const invite = await cli(["invite", "--mesh", slug], envs[owner as string]!);
    expect(invite.code).toBe(0);
    const joined = await cli(["join", invite.stdout.trim(), "--name", name], envs[name]!);
    expect(joined.code).toBe(0);
  }
  return envs;
}
