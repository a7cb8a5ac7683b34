// Loads and shape-checks the fixture corpus under test/corpus/ so a typo in a fixture fails loudly.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { ErrorCodeSchema } from "@claudemesh/protocol";

export const CORPUS_DIR = fileURLToPath(new URL("./corpus/", import.meta.url));

const Why = z.string().min(3);

/** A frame that must be rejected at one field (`field` is the issue path, `a.0.b`, or `(root)`). */
const InvalidFrameCase = z.strictObject({
  why: Why,
  code: ErrorCodeSchema,
  field: z.string().min(1),
  frame: z.json(),
});
/** Text that is not a JSON object at all; `mentions` is a phrase the error message must contain. */
const InvalidRawCase = z.strictObject({
  why: Why,
  code: ErrorCodeSchema,
  raw: z.string(),
  mentions: z.string().min(1),
});

const FrameFile = z.strictObject({
  description: z.string().min(1),
  valid: z.array(z.strictObject({ name: z.string().min(3), frame: z.record(z.string(), z.json()) })),
  invalid: z.array(z.union([InvalidFrameCase, InvalidRawCase])),
});

const HttpFile = z.strictObject({
  /** Name of the exported zod schema this body is checked against. */
  schema: z.string().regex(/Schema$/),
  description: z.string().min(1),
  valid: z.array(z.strictObject({ name: z.string().min(3), body: z.json() })),
  invalid: z.array(
    z.strictObject({ why: Why, code: ErrorCodeSchema, field: z.string().min(1), body: z.json() }),
  ),
});

export type FrameFixtureFile = z.infer<typeof FrameFile> & { file: string; type: string };
export type HttpFixtureFile = z.infer<typeof HttpFile> & { file: string };
export type InvalidFrame = z.infer<typeof InvalidFrameCase>;
export type InvalidRaw = z.infer<typeof InvalidRawCase>;

/** Files whose name (without .json) is not a frame type but holds cross-type failures. */
export const ANY_TYPE_FILE = "_any";

function readJsonFiles(dir: string): { file: string; value: unknown }[] {
  return readdirSync(join(CORPUS_DIR, dir))
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => {
      const file = `${dir}/${name}`;
      return { file, value: JSON.parse(readFileSync(join(CORPUS_DIR, file), "utf8")) as unknown };
    });
}

function checked<T>(schema: z.ZodType<T>, file: string, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new Error(`corpus file ${file} is not a well-formed fixture file: ${result.error.message}`);
  return result.data;
}

/** Frame fixtures of one direction; `type` is the file name, e.g. `send` for client/send.json. */
export function loadFrameFixtures(direction: "client" | "server"): FrameFixtureFile[] {
  return readJsonFiles(direction).map(({ file, value }) => ({
    ...checked(FrameFile, file, value),
    file,
    type: basename(file, ".json"),
  }));
}

/** HTTP body fixtures (SPEC §2), one file per body schema. */
export function loadHttpFixtures(): HttpFixtureFile[] {
  return readJsonFiles("http").map(({ file, value }) => ({ ...checked(HttpFile, file, value), file }));
}

export function isRawCase(c: InvalidFrame | InvalidRaw): c is InvalidRaw {
  return "raw" in c;
}

/** The zod issue path as the protocol's error messages print it. */
export function issuePath(path: readonly PropertyKey[]): string {
  return path.length > 0 ? path.map(String).join(".") : "(root)";
}
