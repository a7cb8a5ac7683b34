// `claudemesh demo`: a broker on a temporary store, two agents, encrypted messages shown beside the stored ciphertext.
import type { RawCommand } from "../cli/dispatcher.js";

export const demoCommand: RawCommand = {
  name: "demo",
  summary:
    "Start a throw-away broker, join two agents and show their conversation beside what the broker stored.",
  raw: true,
  async runRaw(argv, env, io) {
    const { runDemo } = await import("../demo/index.js");
    return runDemo(argv, env, io);
  },
};
