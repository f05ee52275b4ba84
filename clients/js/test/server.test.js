// The client against a real `gameai serve` (random-initialised test models, CPU), started here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { connect, GameAIClient, GameAIError } from "../src/index.js";
import { startServer, pythonMissing } from "./helpers/env.js";

const missing = pythonMissing() ?? (typeof WebSocket !== "function" ? "no global WebSocket (run node --experimental-websocket on Node 20)" : null);
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {GameAIClient} */
let client;
/** Where the server records the sessions that ask for it (gameai serve --record-dir). */
let recordDir = "";

before(async () => {
  if (missing) return;
  recordDir = mkdtempSync(path.join(tmpdir(), "gameai-js-record-"));
  server = await startServer({ extraArgs: ["--record-dir", recordDir] });
  client = await connect({ url: server.url, gameId: "js-test", pingIntervalMs: 200 });
});

after(async () => {
  await client?.close();
  await server?.stop();
  if (recordDir) rmSync(recordDir, { recursive: true, force: true });
});

const opts = { skip: missing ?? false, timeout: 30_000 };

test("hello -> welcome: session, models, frame format", opts, () => {
  const w = client.welcome;
  assert.equal(w.type, "welcome");
  assert.equal(w.protocol, 1);
  assert.equal(typeof w.session_id, "string");
  assert.deepEqual(w.services, ["behaviour", "dialogue", "agents"]);
  assert.equal(w.models.behaviour.status, "ready");
  assert.equal(w.models.dialogue.status, "ready");
  assert.equal(client.behaviourSpec.channels, 3);
  assert.ok(client.behaviourSpec.width > 0 && client.behaviourSpec.height > 0);
  assert.ok(Array.isArray(client.behaviourSpec.accusation_classes));
  assert.equal(w.game.game_id, "js-test");
  assert.equal(w.game.models_game ?? null, null); // no models of its own: the default set
  assert.equal(w.recording, undefined); // only when hello.record asks
  assert.equal(client.state, "connected");
});

test("frames from ImageData-like pixels get behaviour results, seq and timestamp echoed", opts, async () => {
  const spec = client.behaviourSpec;
  const K = spec.frames_per_window;
  const results = [];
  const off = client.on("behaviour", (result) => results.push(result));
  // A 320x240 RGBA "canvas", downscaled by the client to the model's size.
  const image = { width: 320, height: 240, data: new Uint8ClampedArray(320 * 240 * 4) };
  const sent = [];
  for (let i = 0; i < K + 3; i++) {
    for (let p = 0; p < image.data.length; p += 4) image.data.set([(p / 4 + i * 7) % 256, i * 10, 128, 255], p);
    sent.push({ seq: await client.sendFrame(image, { timestamp: 1000 + i / 4 }), timestamp: 1000 + i / 4 });
    await new Promise((resolve) => setTimeout(resolve, 40)); // under max_fps, like a game at 25 fps
  }
  const deadline = Date.now() + 20_000;
  while (results.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  off();
  assert.ok(results.length >= 1, `no behaviour result; errors: ${client.errors.map((e) => e.message).join("; ")}`);
  const last = results.at(-1);
  assert.deepEqual(Object.keys(last.probabilities).sort(), [...spec.classes].sort());
  // "unknown" only from a model with a look (unknown_threshold), with confidence 0.
  assert.ok(spec.classes.includes(last.label) || (last.label === "unknown" && spec.unknown_threshold != null && last.confidence === 0), last.label);
  const match = sent.find((frame) => frame.seq === last.seq);
  assert.ok(match, `seq ${last.seq} was sent`);
  assert.equal(last.timestamp, match.timestamp);
  assert.ok(last.seq >= K - 1);
  assert.equal(client.latestBehaviour, last);
  assert.equal(client.errors.length, 0, client.errors.map((e) => e.message).join("; "));
});

test("raw bytes and PNG frames are accepted", opts, async () => {
  const { width, height } = client.behaviourSpec;
  const before = client.errors.length;
  await client.sendFrame(new Uint8Array(width * height * 3).fill(77));
  const png = await connect({ url: server.url, gameId: "js-png", encoding: "png", pingIntervalMs: 0 });
  try {
    for (let i = 0; i < png.behaviourSpec.frames_per_window; i++) await png.sendFrame(new Uint8Array(width * height * 3).fill(i * 9));
    const result = await new Promise((resolve, reject) => {
      png.on("behaviour", resolve);
      png.on("error", (message) => reject(new Error(message.message)));
      setTimeout(() => reject(new Error("no behaviour result for PNG frames")), 15_000);
    });
    assert.equal(result.type, "behaviour");
  } finally {
    await png.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(client.errors.length, before, client.errors.map((e) => e.message).join("; "));
});

test("act: an action per branch; a bad observation is a typed error with the id", opts, async () => {
  const [name, agent] = Object.entries(client.welcome.agents)[0];
  const action = await client.act("npc-1", new Float32Array(agent.obs_dim).fill(0.25), { agent: name, difficulty: 0.5 });
  assert.equal(action.type, "action");
  assert.equal(action.npc_id, "npc-1");
  assert.equal(action.action.length, agent.action_nvec.length);
  action.action.forEach((choice, i) => assert.ok(choice >= 0 && choice < agent.action_nvec[i]));
  const refused = await client.act("npc-1", [1, 2, 3], { agent: name, id: "bad-obs" }).then(
    () => null,
    (error) => error,
  );
  assert.ok(refused instanceof GameAIError);
  assert.equal(refused.code, "bad_observation");
  assert.equal(refused.id, "bad-obs");
  assert.equal(refused.fatal, false);
  assert.equal(client.state, "connected");
});

test("actBatch: one action per NPC in order; one bad item refuses the batch naming it", opts, async () => {
  const [name, agent] = Object.entries(client.welcome.agents)[0];
  const observation = new Float32Array(agent.obs_dim).fill(0.25);
  const batch = await client.actBatch({ "npc-1": observation, "npc-2": observation }, { agent: name, difficulty: 1 });
  assert.equal(batch.type, "action.batch");
  assert.deepEqual(batch.actions.map((item) => item.npc_id), ["npc-1", "npc-2"]);
  const single = await client.act("npc-3", observation, { agent: name, difficulty: 1 });
  batch.actions.forEach((item) => assert.deepEqual(item.action, single.action)); // difficulty 1: the policy's own choice
  const refused = await client.actBatch([{ npc_id: "a", observation }, { npc_id: "b", observation: [1, 2] }], { id: "bad-batch" }).then(
    () => null,
    (error) => error,
  );
  assert.ok(refused instanceof GameAIError);
  assert.equal(refused.code, "bad_observation");
  assert.equal(refused.id, "bad-batch");
  assert.match(refused.message, /^acts\[1\]: /);
  assert.equal(client.state, "connected");
});

test("dialogue streams deltas, then done; text is their concatenation", opts, async () => {
  const stream = client.dialogue("smith-1", "blacksmith", "Can you fix my sword?", { max_new_tokens: 12, seed: 5, temperature: 0.7, events: ["hurt"] });
  let text = "";
  let deltas = 0;
  for await (const delta of stream) {
    assert.equal(delta.type, "dialogue.delta");
    assert.equal(delta.index, deltas);
    text += delta.text;
    deltas++;
  }
  const done = await stream.done;
  assert.equal(done.type, "dialogue.done");
  assert.equal(done.text, text);
  assert.equal(stream.text, text);
  assert.ok(["stop", "length"].includes(done.finish_reason));
  assert.ok(done.tokens >= 1);
});

test("dialogue by card: a card id of welcome.npcs alone; an inline card, then its npc id alone", opts, async () => {
  assert.ok(client.welcome.npcs.includes("blacksmith"), JSON.stringify(client.welcome.npcs));
  const shipped = client.dialogue("blacksmith", null, "What's my score?", { max_new_tokens: 6, seed: 1, game_state: { score: 40 } });
  assert.ok((await shipped.done).tokens >= 1);
  const npc = { name: "Ada", role: "ferry keeper", facts: ["The ferry leaves at dawn."] };
  assert.ok((await client.dialogue("ada", undefined, "When do you leave?", { npc, max_new_tokens: 6 }).done).tokens >= 1);
  assert.ok((await client.dialogue("ada", null, "And back?", { max_new_tokens: 6 }).done).tokens >= 1); // remembered
  const unknown = client.dialogue("nobody", null, "hi");
  await assert.rejects(unknown.done, (error) => error instanceof GameAIError && error.code === "missing_field" && /welcome\.npcs/.test(error.message));
  assert.equal(client.state, "connected");
});

test("dialogue with n alternatives: each streams and ends on its own", opts, async () => {
  const stream = client.dialogue("smith-2", "blacksmith", "Any work for me?", { n: 2, seed: 99, max_new_tokens: 8 });
  const seen = new Set();
  for await (const delta of stream) seen.add(delta.alternative);
  const all = await stream.allDone;
  assert.equal(all.length, 2);
  assert.deepEqual(all.map((d) => d.alternative), [0, 1]);
  assert.deepEqual(stream.texts, all.map((d) => d.text));
  assert.equal((await stream.done).alternative, 0);
  assert.ok(seen.size >= 1);
});

test("dialogue cancel ends the reply with finish_reason cancelled", opts, async () => {
  const stream = client.dialogue("scout-1", "scout", "Tell me a long story.", { max_new_tokens: 128, temperature: 1.0, seed: 1 });
  assert.equal(stream.cancel(), true);
  const done = await stream.done;
  assert.ok(["cancelled", "stop"].includes(done.finish_reason), done.finish_reason); // "stop" only if it ended first
  assert.equal(stream.cancel(), false);
});

test("a refused dialogue rejects done and throws from the iteration", opts, async () => {
  const stream = client.dialogue("x", "blacksmith", "hi", { max_new_tokens: 100000 });
  await assert.rejects(stream.done, (error) => error instanceof GameAIError && error.code === "out_of_range" && error.id === stream.id);
  await assert.rejects(async () => {
    for await (const _ of stream);
  }, /max_new_tokens|out_of_range|range/);
});

test("events, match.result and ping", opts, async () => {
  assert.equal(client.events(["hurt", "kill"]), true);
  assert.equal(client.matchResult("win", { id: "m-1", npc_id: "rival-2", player_score: 3, npc_score: 1, duration_s: 12.5 }), true);
  const rtt = await client.ping();
  assert.ok(rtt >= 0 && rtt < 5000);
  assert.ok(client.rttMs !== null);
  const errors = [];
  const off = client.on("error", (message) => errors.push(message));
  assert.equal(client.matchResult("win", { id: "m-2", duration_s: -5 }), true);
  await client.ping();
  off();
  assert.equal(errors.length, 1);
  assert.equal(errors[0].id, "m-2");
  assert.equal(errors[0].code, "out_of_range");
});

test("recording: hello.record with consent is recorded and takes labels; refusals are typed errors", opts, async () => {
  const record = { player_id: "p-js-1", consent: true };
  const recorded = await connect({ url: server.url, gameId: "js-record", services: ["behaviour"], pingIntervalMs: 0, record });
  const unconsented = await connect({ url: server.url, gameId: "js-record", services: ["behaviour"], pingIntervalMs: 0, record: { ...record, consent: false } });
  try {
    assert.deepEqual(recorded.welcome.recording, { recorded: true }, JSON.stringify(recorded.welcome.recording));
    assert.equal(unconsented.welcome.recording.recorded, false);
    assert.match(unconsented.welcome.recording.reason, /consent/);
    assert.equal(client.welcome.recording, undefined); // did not ask

    const errors = [];
    recorded.on("error", (message) => errors.push(message));
    const [first] = recorded.behaviourSpec.classes;
    assert.equal(recorded.label(first), true);
    assert.equal(recorded.label(null), true);
    assert.equal(recorded.label("no-such-class", { id: "l-bad" }), true);
    await recorded.ping(); // the server handles a session's messages in order: every label was taken
    assert.deepEqual(errors.map((e) => [e.code, e.id, e.fatal]), [["unknown_label", "l-bad", false]]);

    const before = client.errors.length;
    assert.equal(client.label(first, { id: "l-off" }), true);
    await client.ping();
    assert.deepEqual(client.errors.slice(before).map((e) => [e.code, e.id]), [["not_recording", "l-off"]]);
    assert.equal(recorded.state, "connected");
    assert.equal(client.state, "connected");
  } finally {
    await recorded.close();
    await unconsented.close();
  }
});

test("a refused hello is a typed error (fatal, close code)", opts, async () => {
  const error = await connect({ url: server.url, services: ["telepathy"] }).then(
    () => null,
    (e) => e,
  );
  assert.ok(error instanceof GameAIError);
  assert.equal(error.code, "bad_hello");
  assert.equal(error.fatal, true);
  assert.equal(error.closeCode, 4002);
});

test("the client reconnects after the server restarts, with a new session", { ...opts, timeout: 60_000 }, async () => {
  const states = [];
  const changes = [];
  const roaming = new GameAIClient({ url: server.url, gameId: "js-reconnect", pingIntervalMs: 0, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
  roaming.on("state", (change) => (states.push(change.state), changes.push(change)));
  try {
    await roaming.open();
    const first = roaming.welcome.session_id;
    const inFlight = roaming.act("npc", new Array(Object.values(roaming.welcome.agents)[0].obs_dim).fill(0), { timeoutMs: 20_000 });
    const reply = roaming.dialogue("npc", "blacksmith", "hello", { max_new_tokens: 128 });
    const port = server.port;
    await server.stop();
    // Shutting down, the server answers actions in flight and cancels replies, then closes with 1001.
    const outcome = await inFlight.then((action) => action.type, (error) => error.code);
    assert.ok(["action", "connection_lost"].includes(outcome), outcome);
    const ended = await reply.done.then((done) => done.finish_reason, (error) => error.code);
    assert.ok(["cancelled", "stop", "length", "connection_lost"].includes(ended), ended);
    assert.ok(["offline", "connecting"].includes(roaming.state), roaming.state);
    const dropped = changes.find((change) => change.state === "offline");
    assert.equal(dropped.error.closeCode, 1001); // going away: the server shut down
    await assert.rejects(roaming.act("npc", [0]), (error) => error instanceof GameAIError && error.code === "offline");
    assert.equal(await roaming.sendFrame(new Uint8Array(3)), null);
    server = await startServer({ port, assets: server.assets, keepAssets: true });
    const deadline = Date.now() + 30_000;
    while (roaming.state !== "connected" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(roaming.state, "connected");
    assert.notEqual(roaming.welcome.session_id, first);
    assert.deepEqual(states.slice(0, 3), ["connecting", "connected", "offline"]);
    await roaming.ping();
  } finally {
    await roaming.close();
  }
  assert.equal(roaming.state, "closed");
  // The shared client reconnected by itself too.
  const deadline = Date.now() + 10_000;
  while (client.state !== "connected" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(client.state, "connected");
});
