// Crash-safe file writes: temp file in the same directory, fsync, rename, fsync the directory.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { errnoCode } from "./errors.js";

/**
 * Writes `data` to `path` so that a reader (or a crash) sees either the old file or the new one,
 * never a torn mix: the bytes go to a temp file created with `mode` in the same directory (rename
 * is only atomic within one filesystem), are fsynced, then renamed over `path`; the directory is
 * fsynced so the rename itself survives a power loss.
 */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  try {
    // `wx`: never follow or reuse an existing file at the temp path.
    fd = openSync(temp, "wx", mode);
    const buffer = Buffer.from(data, "utf8");
    let offset = 0;
    while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  fsyncDirectory(dir);
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The file's text, or undefined when it does not exist (any other error is rethrown). */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if (errnoCode(err) === "ENOENT") return undefined;
    throw err;
  }
}
