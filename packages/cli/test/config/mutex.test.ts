// Cross-process mutex: waits for a live holder, times out clearly, and takes over from a dead one.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../src/config/index.js";
import { withMutex } from "../../src/config/mutex.js";
import { tempDirs } from "../helpers/tmp.js";

const dirs = tempDirs();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  dirs.cleanup();
});

/** A live process that is not us, to stand in for another claudemesh session. */
function liveOtherProcess(): number {
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  children.push(child);
  return child.pid!;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

describe("mutex", () => {
  it("mutex - runs the function, returns its value and removes the lock", () => {
    const lock = join(dirs.make(), "m.lock");
    expect(withMutex(lock, () => 42)).toBe(42);
    expect(existsSync(lock)).toBe(false);
  });

  it("mutex - removes the lock even when the function throws", () => {
    const lock = join(dirs.make(), "m.lock");
    expect(() =>
      withMutex(lock, () => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(existsSync(lock)).toBe(false);
  });

  it("mutex - held by a live process: times out with lock_timeout naming the lock", () => {
    const lock = join(dirs.make(), "m.lock");
    mkdirSync(lock);
    writeFileSync(join(lock, "owner"), String(liveOtherProcess()));
    let ran = false;
    try {
      withMutex(lock, () => (ran = true), { timeoutMs: 100 });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).code).toBe("lock_timeout");
      expect((err as ConfigError).message).toContain(lock);
    }
    expect(ran).toBe(false);
  });

  it("mutex - held by a dead process: taken over", async () => {
    const lock = join(dirs.make(), "m.lock");
    mkdirSync(lock);
    writeFileSync(join(lock, "owner"), String(await deadPid()));
    expect(withMutex(lock, () => "ok", { timeoutMs: 100 })).toBe("ok");
  });

  it("mutex - an ownerless lock is taken over only once it is older than staleMs", () => {
    const lock = join(dirs.make(), "m.lock");
    mkdirSync(lock);
    expect(() => withMutex(lock, () => "ok", { timeoutMs: 50, staleMs: 60_000 })).toThrow(ConfigError);
    expect(withMutex(lock, () => "ok", { timeoutMs: 50, staleMs: 0 })).toBe("ok");
  });
});
