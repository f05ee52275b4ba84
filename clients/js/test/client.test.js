// The client's own rules, against a scripted server: timeouts, refusals, backoff, reconnection,
// frame pacing, the WebSocket option. (The real server is in server.test.js.)
import { test } from "node:test";
import assert from "node:assert/strict";

import { GameAIClient, GameAIError, ReconnectPolicy, connect, isRetryable, parseFrameHeader } from "../src/index.js";
import { startFakeServer, WELCOME } from "./helpers/fake_server.js";

const noWebSocket = typeof WebSocket !== "function" ? "no global WebSocket (run node --experimental-websocket on Node 20)" : false;
const opts = { skip: noWebSocket, timeout: 20_000 };
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("backoff: exponential from 250 ms to 5 s, with jitter", () => {
  const policy = new ReconnectPolicy({ random: () => 0.5 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6].map((a) => policy.delayMs(a)), [250, 500, 1000, 2000, 4000, 5000, 5000]);
  const low = new ReconnectPolicy({ random: () => 0 }).delayMs(0);
  const high = new ReconnectPolicy({ random: () => 0.999999 }).delayMs(0);
  assert.ok(Math.abs(low - 200) < 1e-9 && high > 299.99 && high <= 300);
  assert.equal(isRetryable({ code: "bad_token", closeCode: 4001 }), false);
  assert.equal(isRetryable({ code: "connect_failed", closeCode: 4008 }), false);
  assert.equal(isRetryable({ code: "server_full", closeCode: 4007 }), true);
  assert.equal(isRetryable({ code: "connection_lost", closeCode: 1001 }), true);
});

test("no WebSocket: a clear typed error; a WebSocket constructor can be passed", opts, async () => {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "WebSocket");
  const Native = globalThis.WebSocket;
  delete globalThis.WebSocket;
  try {
    assert.throws(() => new GameAIClient({ url: "ws://127.0.0.1:1/" }), (error) => error instanceof GameAIError && error.code === "no_websocket" && /WebSocket option/.test(error.message));
    const server = await startFakeServer({ onConnection: (socket) => socket.send(WELCOME) });
    let constructed = 0;
    class Counting extends Native {
      constructor(/** @type {string} */ url) {
        super(url);
        constructed++;
      }
    }
    const client = await connect({ url: server.url, WebSocket: Counting, pingIntervalMs: 0 });
    assert.equal(constructed, 1);
    assert.equal(client.welcome.session_id, "fake-session");
    await client.close();
    await server.stop();
  } finally {
    if (descriptor) Object.defineProperty(globalThis, "WebSocket", descriptor);
  }
});

test("every request has a timeout: act, ping, dialogue (typed, with the id)", opts, async () => {
  const server = await startFakeServer({ onConnection: (socket) => socket.send(WELCOME) }); // then never answers
  const client = await connect({ url: server.url, pingIntervalMs: 0, requestTimeoutMs: 150, dialogueTimeoutMs: 150 });
  try {
    await assert.rejects(client.act("npc", [0, 0, 0, 0], { id: "a-1" }), (error) => error instanceof GameAIError && error.code === "timeout" && error.id === "a-1");
    await assert.rejects(client.ping({ timeoutMs: 50 }), (error) => error.code === "timeout");
    const stream = client.dialogue("npc", "blacksmith", "hi", { id: "d-1" });
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, (error) => error.code === "timeout" && error.id === "d-1");
    await assert.rejects(stream.done, (error) => error.code === "timeout");
    assert.equal(client.state, "connected");
  } finally {
    await client.close();
    await server.stop();
  }
});

test("no welcome in time: connect rejects with timeout", opts, async () => {
  const server = await startFakeServer({}); // accepts the websocket, says nothing
  await assert.rejects(connect({ url: server.url, openTimeoutMs: 200 }), (error) => error instanceof GameAIError && error.code === "timeout");
  await server.stop();
});

test("nothing listening: connect rejects with connect_failed", opts, async () => {
  const server = await startFakeServer({});
  const url = server.url;
  await server.stop();
  await assert.rejects(connect({ url }), (error) => error instanceof GameAIError && error.code === "connect_failed");
});

test("a refusal that retrying cannot fix stops the client (no retry)", opts, async () => {
  const server = await startFakeServer({
    onConnection: (socket) => {
      socket.send({ type: "error", code: "bad_token", message: "missing or wrong token", fatal: true });
      socket.close(4001, "bad_token");
    },
  });
  const client = new GameAIClient({ url: server.url, reconnect: { initialDelayMs: 20 } });
  const closed = new Promise((resolve) => client.on("state", (change) => change.state === "closed" && resolve(change)));
  client.start();
  const change = /** @type {any} */ (await closed);
  assert.equal(change.error.code, "bad_token");
  assert.equal(change.error.closeCode, 4001);
  assert.equal(change.error.fatal, true);
  await sleep(100);
  assert.equal(server.attempts(), 1);
  await server.stop();
});

test("start() retries with backoff until the server takes the hello (e.g. 403 for an origin)", opts, async () => {
  const server = await startFakeServer({ refuse: (index) => (index < 3 ? 403 : null), onConnection: (socket) => socket.send(WELCOME) });
  const states = [];
  const client = new GameAIClient({ url: server.url, pingIntervalMs: 0, reconnect: { initialDelayMs: 20, maxDelayMs: 50 } });
  client.on("state", (change) => states.push(change.state));
  const started = Date.now();
  client.start();
  try {
    while (client.state !== "connected" && Date.now() - started < 5000) await sleep(10);
    assert.equal(client.state, "connected");
    assert.equal(server.attempts(), 4);
    assert.equal(states.filter((s) => s === "offline").length, 3);
    assert.equal(client.lastError, null);
  } finally {
    await client.close();
    await server.stop();
  }
});

test("a dropped session fails what is in flight, then reconnects; close() stops it", opts, async () => {
  const server = await startFakeServer({
    onConnection: (socket, index) => {
      socket.send({ ...WELCOME, session_id: `s${index}` });
      if (index === 0) setTimeout(() => socket.close(1011, "internal error"), 100);
    },
  });
  const client = await connect({ url: server.url, pingIntervalMs: 0, reconnect: { initialDelayMs: 20 } });
  const pending = client.act("npc", [0, 0, 0, 0]);
  await assert.rejects(pending, (error) => error.code === "connection_lost" && error.closeCode === 1011);
  while (client.welcome.session_id !== "s1") await sleep(10);
  assert.equal(client.state, "connected");
  const later = client.act("npc", [0, 0, 0, 0], { timeoutMs: 5000 });
  await client.close();
  await assert.rejects(later, (error) => error.code === "closed");
  assert.equal(client.state, "closed");
  await sleep(100);
  assert.equal(server.attempts(), 2);
  await server.stop();
});

test("frames: paced by bufferedAmount, a newer frame replaces a waiting one", opts, async () => {
  const server = await startFakeServer({ onConnection: (socket) => socket.send(WELCOME) });
  const client = await connect({ url: server.url, pingIntervalMs: 0 });
  try {
    const sent = [];
    const ws = client._ws;
    let buffered = 1000; // pretend the socket is still busy
    Object.defineProperty(ws, "bufferedAmount", { get: () => buffered, configurable: true });
    const realSend = ws.send.bind(ws);
    ws.send = (data) => (data instanceof Uint8Array && sent.push(parseFrameHeader(data)), realSend(data));
    const image = { width: 8, height: 6, data: new Uint8ClampedArray(8 * 6 * 4).fill(200) };
    assert.equal(await client.sendFrame(image, { timestamp: 1 }), 0);
    assert.equal(await client.sendFrame(image, { timestamp: 2 }), 1);
    assert.equal(await client.sendFrame(image, { timestamp: 3 }), 2);
    assert.equal(sent.length, 0);
    assert.equal(client.framesDropped, 2);
    buffered = 0;
    await sleep(50);
    assert.equal(sent.length, 1);
    assert.deepEqual([sent[0].seq, sent[0].timestamp, sent[0].width, sent[0].height], [2, 3, 4, 3]); // the newest, at welcome's size
    assert.equal(client.framesSent, 1);
    assert.equal(client.frameDue(), false);
    assert.equal(client.frameDue(performance.now() + 1000 / WELCOME.behaviour.sample_fps), true);
  } finally {
    await client.close();
    await server.stop();
  }
});

test("server errors answering no request are kept and emitted", opts, async () => {
  const server = await startFakeServer({
    onConnection: (socket) => {
      socket.send(WELCOME);
      setTimeout(() => socket.send({ type: "error", code: "wrong_frame_size", message: "frames must be 4x3", seq: 3, fatal: false }), 20);
    },
  });
  const client = new GameAIClient({ url: server.url, pingIntervalMs: 0 });
  const emitted = new Promise((resolve) => client.on("error", resolve));
  await client.open();
  const message = /** @type {any} */ (await emitted);
  assert.equal(message.code, "wrong_frame_size");
  assert.equal(client.errors.length, 1);
  assert.equal(client.errors[0].code, "wrong_frame_size");
  assert.equal(client.errors[0].seq, 3);
  await client.close();
  await server.stop();
});

test("hello asks for recording only with the record option; label() sends the label message", opts, async () => {
  const server = await startFakeServer({
    onMessage: (message, socket) => {
      // Welcome answers the hello, so the server has every hello once connect() resolves.
      if (message.type === "hello") socket.send(message.record ? { ...WELCOME, recording: { recorded: true } } : WELCOME);
      else if (message.type === "label" && message.label === "bot_like") {
        socket.send({ type: "error", code: "unknown_label", message: "bot_like is not a class of this model", id: message.id, fatal: false });
      }
    },
  });
  const plain = await connect({ url: server.url, pingIntervalMs: 0 });
  const recorded = await connect({ url: server.url, gameId: "my-game", pingIntervalMs: 0, record: { player_id: "p-7f3a9c", consent: true } });
  try {
    const hellos = server.received().filter(({ message }) => message.type === "hello");
    assert.deepEqual(hellos.map(({ index }) => index), [0, 1]);
    assert.equal("record" in hellos[0].message, false);
    assert.deepEqual(hellos[1].message.record, { player_id: "p-7f3a9c", consent: true });
    assert.equal(hellos[1].message.game_id, "my-game");
    assert.equal(plain.welcome.recording, undefined);
    assert.deepEqual(recorded.welcome.recording, { recorded: true });

    const refused = new Promise((resolve) => recorded.on("error", resolve));
    assert.equal(recorded.label("idle"), true);
    assert.equal(recorded.label(null, { id: "l-2" }), true);
    assert.equal(recorded.label("bot_like", { id: "l-3" }), true);
    const error = /** @type {any} */ (await refused);
    assert.equal(error.code, "unknown_label");
    assert.equal(error.id, "l-3");
    assert.equal(recorded.errors.at(-1).code, "unknown_label");
    assert.equal(recorded.state, "connected");
    const labels = server.received().filter(({ message }) => message.type === "label");
    assert.deepEqual(labels, [
      { index: 1, message: { type: "label", label: "idle" } },
      { index: 1, message: { type: "label", label: null, id: "l-2" } },
      { index: 1, message: { type: "label", label: "bot_like", id: "l-3" } },
    ]);
  } finally {
    await plain.close();
    await recorded.close();
    await server.stop();
  }
  assert.equal(recorded.label("idle"), false); // closed: nothing sent
});
