// `claudemesh demo`: a self-contained tour — temp broker, a mesh, two members, encrypted messages both ways, shown beside the stored ciphertext.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startBroker, createLogger, type RunningBroker } from "@claudemesh/broker";
import { BrokerClient, createMesh, joinMesh, type InboundMessage } from "@claudemesh/client";
import { generateKeypair, randomId, signInvite } from "@claudemesh/crypto";
import { encodeInviteLink } from "@claudemesh/protocol";
import { saveConfig, type Env, type MeshEntry } from "../config/index.js";
import { clip, heading, renderExchange } from "./render.js";

/** Where the demo writes: the CLI's Io fits (its stdout/stderr take text as is). */
export interface DemoIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const DEMO_USAGE =
  "usage: claudemesh demo  (runs a throw-away broker and two members on this machine, then cleans up)";

/** The conversation: who says what, in order. */
export const DEMO_SCRIPT: ReadonlyArray<{ from: "alice" | "bob"; text: string }> = [
  { from: "alice", text: "Hi bob, I'm refactoring src/auth — please keep out of it for the next hour." },
  { from: "bob", text: "Got it. I'll take the billing tests meanwhile; ping me when auth is merged." },
  { from: "alice", text: "Merged. Session tokens now live in auth/session.ts if you need them." },
  { from: "bob", text: "Thanks! Billing tests are green on top of your change." },
];

/** How long to wait for each message to arrive before calling the demo failed. */
const RECEIVE_TIMEOUT_MS = 10_000;

interface DemoMember {
  name: "alice" | "bob";
  entry: MeshEntry;
  configDir: string;
  client: BrokerClient;
}

/** Resolves with the next inbound message on `client` that `match` accepts. */
function nextMessage(client: BrokerClient, match: (m: InboundMessage) => boolean): Promise<InboundMessage> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("message", onMessage);
      reject(new Error(`no message arrived within ${RECEIVE_TIMEOUT_MS / 1000} s`));
    }, RECEIVE_TIMEOUT_MS);
    const onMessage = (m: InboundMessage): void => {
      if (!match(m)) return;
      clearTimeout(timer);
      client.off("message", onMessage);
      resolve(m);
    };
    client.on("message", onMessage);
  });
}

function memberEntry(
  name: string,
  keypair: { publicKey: string; secretKey: string },
  ids: { meshId: string; memberId: string; role: "admin" | "member" },
  brokerUrl: string,
): MeshEntry {
  return {
    meshId: ids.meshId,
    slug: "demo",
    name: "claudemesh demo",
    brokerUrl,
    memberId: ids.memberId,
    displayName: name,
    role: ids.role,
    pubkey: keypair.publicKey,
    secretKey: keypair.secretKey,
    joinedAt: new Date().toISOString(),
  };
}

function connectMember(name: "alice" | "bob", entry: MeshEntry, configDir: string): DemoMember {
  const client = new BrokerClient({
    brokerUrl: entry.brokerUrl,
    meshId: entry.meshId,
    meshSlug: entry.slug,
    memberId: entry.memberId,
    pubkey: entry.pubkey,
    secretKey: entry.secretKey,
    displayName: name,
  });
  // Errors surface through the awaited calls below; the listener keeps EventEmitter from throwing.
  client.on("error", () => undefined);
  return { name, entry, configDir, client };
}

/**
 * Runs the demo and returns the exit code (0 when every message arrived decrypted and every
 * stored row was opaque; 1 otherwise). Everything it creates lives under one temp directory
 * that is removed at the end, whatever happens.
 */
export async function runDemo(args: readonly string[], _env: Env, io: DemoIo): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    io.stdout(`${DEMO_USAGE}\n`);
    return 0;
  }
  if (args.length > 0) {
    io.stderr(`claudemesh demo: unexpected argument "${args[0]}" — ${DEMO_USAGE}\n`);
    return 2;
  }
  const out = (line = ""): void => io.stdout(`${line}\n`);
  const root = mkdtempSync(join(tmpdir(), "claudemesh-demo-"));
  const dbPath = join(root, "broker.db");
  let broker: RunningBroker | undefined;
  const members: DemoMember[] = [];
  try {
    out("claudemesh demo — two agents talk through a broker that only ever sees ciphertext");
    out();
    // Port 0: the OS picks a free port, so the demo never collides with a real broker on 7900.
    broker = await startBroker({
      host: "127.0.0.1",
      port: 0,
      db: dbPath,
      logger: createLogger({ level: "error", write: (line) => io.stderr(`${line}\n`) }),
    });
    out(`  broker   ${broker.url}  (temporary SQLite store ${dbPath})`);

    const aliceKeys = generateKeypair();
    const mesh = await createMesh({
      brokerUrl: broker.url,
      name: "claudemesh demo",
      slug: "demo",
      ownerName: "alice",
      keypair: aliceKeys,
    });
    out(
      `  mesh     demo (id ${mesh.meshId}), created by alice (admin, pubkey ${aliceKeys.publicKey.slice(0, 16)}…)`,
    );

    // Invites are signed offline by an admin (SPEC §2 Invites); this one admits one member for 10 minutes.
    const invite = encodeInviteLink(
      signInvite(
        {
          v: 1,
          mesh_id: mesh.meshId,
          mesh_slug: "demo",
          broker_url: broker.url,
          invite_id: randomId(),
          role: "member",
          max_uses: 1,
          expires_at: Math.floor(Date.now() / 1000) + 600,
          inviter_pubkey: aliceKeys.publicKey,
        },
        aliceKeys.secretKey,
      ),
    );
    out(`  invite   ${clip(invite, 60)}`);
    const bobKeys = generateKeypair();
    const joined = await joinMesh({ link: invite, keypair: bobKeys, displayName: "bob" });
    out(`  bob      joined with the invite (member, pubkey ${bobKeys.publicKey.slice(0, 16)}…)`);

    const entries = {
      alice: memberEntry(
        "alice",
        aliceKeys,
        { meshId: mesh.meshId, memberId: mesh.memberId, role: "admin" },
        broker.url,
      ),
      bob: memberEntry(
        "bob",
        bobKeys,
        { meshId: joined.meshId, memberId: joined.memberId, role: joined.role },
        broker.url,
      ),
    };
    for (const name of ["alice", "bob"] as const) {
      const configDir = join(root, name);
      saveConfig({ CLAUDEMESH_CONFIG_DIR: configDir }, { version: 1, meshes: [entries[name]] });
      members.push(connectMember(name, entries[name], configDir));
      out(`  ${name.padEnd(8)} config in ${configDir} (keys stay on this side, mode 0600)`);
    }
    await Promise.all(members.map((m) => m.client.connect({ timeoutMs: 5_000 })));
    out(`  both connected with signed hellos; each message is sealed with crypto_box for its recipient`);
    out();

    let allGood = true;
    for (const [i, line] of DEMO_SCRIPT.entries()) {
      const sender = members.find((m) => m.name === line.from) as DemoMember;
      const recipient = members.find((m) => m.name !== line.from) as DemoMember;
      const arrival = nextMessage(
        recipient.client,
        (m) => m.fromPubkey === sender.entry.pubkey && m.text === line.text,
      );
      const sent = await sender.client.send(recipient.entry.pubkey, line.text, "next");
      const received = await arrival;
      // What the broker wrote to its store for this message, read through the broker's own API.
      const rows = await broker.ctx.store.storedEnvelopes(sent.messageId);
      const view = {
        index: i + 1,
        from: sender.name,
        to: recipient.name,
        sent: line.text,
        stored: rows,
        received: received.text,
        messageId: sent.messageId,
      };
      const rendered = renderExchange(view);
      if (rendered.includes("✗") || rows.length === 0) allGood = false;
      out(rendered);
      out();
    }
    out(heading("what happened"));
    out("  The broker routed and stored every message, but only as nonce + ciphertext: it holds no");
    out("  secret key, so it cannot read them. Only the recipient's key opens each box.");
    out("  Try it for real: `claudemesh broker`, `claudemesh mesh create`, `claudemesh invite`,");
    out("  `claudemesh join <link>` on another machine, then `claudemesh install` for Claude Code.");
    return allGood ? 0 : 1;
  } catch (err) {
    io.stderr(`claudemesh demo: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await Promise.allSettled(members.map((m) => m.client.close()));
    await broker?.close().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
    out(`  cleaned up: clients closed, broker stopped, ${root} removed`);
  }
}
