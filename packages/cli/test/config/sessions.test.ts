// Session registry: `claudemesh hook` finds its own session by session id, by Claude Code ancestry, or by a unique cwd.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  ancestorPids,
  configPaths,
  findSessionsForHook,
  listLiveSessions,
  registerSession,
} from "../../src/config/index.js";
import { tempDirs } from "../helpers/tmp.js";

const dirs = tempDirs();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
  dirs.cleanup();
});

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

const agent = (name: string) => ({
  meshSlug: "team",
  meshId: "mesh_1",
  agentName: name,
  agentPubkey: "a".repeat(64),
});

function env(): Record<string, string> {
  return { CLAUDEMESH_CONFIG_DIR: join(dirs.make(), "cfg") };
}

/** A fake process tree: hook 500 → shell 400 → claude 300 → terminal 200. */
const tree: Record<number, number> = { 500: 400, 400: 300, 300: 200, 200: 1 };
const getParent = (pid: number) => tree[pid];

describe("session registry", () => {
  it("ancestors - walks parents nearest first and stops at init", () => {
    expect(ancestorPids(500, getParent)).toEqual([400, 300, 200]);
    // the real tree of this process includes its parent
    expect(ancestorPids()).toContain(process.ppid);
  });

  it("sessions - a record is written 0600 and removed on unregister", () => {
    const e = env();
    const reg = registerSession({ env: e, agents: [agent("api")], cwd: "/w/api", claudePid: 300 });
    expect(statSync(reg.file).mode & 0o777).toBe(0o600);
    expect(reg.record.pid).toBe(process.pid);
    reg.unregister();
    expect(existsSync(reg.file)).toBe(false);
  });

  it("hook lookup - matches the session whose Claude Code process is an ancestor of the hook", () => {
    const e = env();
    registerSession({ env: e, agents: [agent("mine")], cwd: "/w/api", claudePid: 300 });
    registerSession({
      env: e,
      agents: [agent("other")],
      cwd: "/w/api",
      claudePid: 999,
      pid: liveOtherProcess(),
    });
    const found = findSessionsForHook({ env: e, pid: 500, getParent, cwd: "/w/api" });
    expect(found.map((s) => s.agents[0]!.agentName)).toEqual(["mine"]);
  });

  it("hook lookup - a matching Claude Code session id wins", () => {
    const e = env();
    registerSession({ env: e, agents: [agent("mine")], cwd: "/w/a", claudePid: 999, sessionId: "s-1" });
    registerSession({
      env: e,
      agents: [agent("other")],
      cwd: "/w/a",
      claudePid: 300,
      pid: liveOtherProcess(),
    });
    const found = findSessionsForHook({ env: e, pid: 500, getParent, sessionId: "s-1" });
    expect(found.map((s) => s.agents[0]!.agentName)).toEqual(["mine"]);
  });

  it("hook lookup - falls back to the one session in the same cwd, never to one of several", () => {
    const e = env();
    registerSession({ env: e, agents: [agent("a")], cwd: "/w/one", claudePid: 901 });
    expect(
      findSessionsForHook({ env: e, pid: 500, getParent, cwd: "/w/one" }).map((s) => s.agents[0]!.agentName),
    ).toEqual(["a"]);
    expect(findSessionsForHook({ env: e, pid: 500, getParent, cwd: "/w/two" })).toEqual([]);
    registerSession({ env: e, agents: [agent("b")], cwd: "/w/one", claudePid: 902, pid: liveOtherProcess() });
    expect(findSessionsForHook({ env: e, pid: 500, getParent, cwd: "/w/one" })).toEqual([]);
  });

  it("hook lookup - records of dead sessions are ignored and pruned; junk files are skipped", async () => {
    const e = env();
    const dead = registerSession({
      env: e,
      agents: [agent("gone")],
      cwd: "/w/a",
      claudePid: 300,
      pid: await deadPid(),
    });
    writeFileSync(join(configPaths(e).sessionsDir, "12345.json"), "{torn");
    expect(findSessionsForHook({ env: e, pid: 500, getParent, cwd: "/w/a" })).toEqual([]);
    expect(existsSync(dead.file)).toBe(false);
    expect(listLiveSessions(e)).toEqual([]);
  });

  it("hook lookup - nothing registered (or no config dir at all) finds nothing without throwing", () => {
    expect(findSessionsForHook({ env: env(), cwd: "/w" })).toEqual([]);
  });

  it("sessions - update rewrites the record", () => {
    const e = env();
    const reg = registerSession({ env: e, agents: [agent("a")], cwd: "/w", claudePid: 300 });
    reg.update({ sessionId: "s-9" });
    expect(findSessionsForHook({ env: e, pid: 1, sessionId: "s-9", getParent })[0]?.sessionId).toBe("s-9");
  });
});
