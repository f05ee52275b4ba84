/**
 * The gameai client: one websocket session at a time, reconnected with backoff.
 *
 * ```js
 * const ai = await connect({ url: "ws://127.0.0.1:8765/", gameId: "my-game" });
 * ai.on("behaviour", (result) => console.log(result.label));
 * setInterval(() => ai.sendFrame(canvas), 1000 / ai.welcome.behaviour.sample_fps);
 * const action = await ai.act("npc-1", observation);
 * for await (const delta of ai.dialogue("smith", "blacksmith", "Hello!")) say(delta.text);
 * ```
 * A session recorded for training (the player agreed; the server runs with `--record-dir`):
 * ```js
 * const ai = await connect({ gameId: "my-game", record: { player_id: "p-7f3a9c", consent: true } });
 * if (ai.welcome.recording?.recorded) ai.label("explorer"); // what the player does from now on
 * ```
 * @module gameai-client/client
 */

import { DialogueStream } from "./dialogue.js";
import { Emitter } from "./emitter.js";
import { GameAIError } from "./errors.js";
import { encodeFrame, encodePayload, framePixels } from "./frames.js";
import { ReconnectPolicy, isRetryable } from "./reconnect.js";

/** The protocol version this client speaks. */
export const PROTOCOL_VERSION = 1;
/** The client's version, sent in `hello.client`. */
export const CLIENT_VERSION = "0.1.0";
/** The services a session asks for by default. */
export const ALL_SERVICES = Object.freeze(["behaviour", "dialogue", "agents"]);

const OPEN = 1;

/**
 * @typedef {object} ClientOptions
 * @property {string} [url] The server, `ws://127.0.0.1:8765/` by default.
 * @property {string} [gameId] Which game (for the server's logs and metrics), `"game"` by default.
 * @property {string} [token] Auth token (needed when the server is not on loopback).
 * @property {string[]} [services] Services this session uses (all three by default).
 * @property {number} [behaviourEvery] A behaviour result every this many frames (1).
 * @property {RecordRequest} [record] Ask the server to record this session's frames and labels for
 *   training (`hello.record`); `welcome.recording` says whether it is. Absent: never recorded.
 * @property {"raw"|"png"|"jpeg"} [encoding] How frames are sent: `raw` (default, free), `png`, `jpeg` (browser only, lossy).
 * @property {number} [jpegQuality] JPEG quality in (0, 1] (0.9).
 * @property {"sse"|"generic"} [downscale] Which of pygame's smoothscale filters frames are downscaled
 *   with: `"sse"` (default; the one the shipped model's training frames were made with) or `"generic"`.
 * @property {number} [maxBufferedBytes] A frame is handed to the socket only while its `bufferedAmount`
 *   is at most this (0); otherwise it waits, and a newer frame replaces it (the older is dropped).
 * @property {string} [clientName] Sent in `hello.client` (`gameai-js/<version>`).
 * @property {number} [openTimeoutMs] Time allowed to open the websocket and get `welcome` (5000).
 * @property {number} [requestTimeoutMs] Default timeout of `act` and `ping` (10000).
 * @property {number} [dialogueTimeoutMs] Default timeout of a dialogue reply: the longest wait for
 *   its next message (first delta, next delta or done), 30000.
 * @property {number} [pingIntervalMs] Ping this often to measure `rttMs` and stay clear of the idle timeout (1000; 0: never).
 * @property {boolean|import("./reconnect.js").ReconnectOptions} [reconnect] Reconnect after a lost
 *   connection with exponential backoff and jitter (true by default; false: never).
 * @property {any} [WebSocket] The WebSocket constructor (default `globalThis.WebSocket`; pass one on Node < 22).
 */

/**
 * The game asks for its session to be recorded for training (`hello.record`, docs/protocol.md
 * section *label*). Only a server started with `gameai serve --record-dir DIR` records.
 * @typedef {object} RecordRequest
 * @property {string} player_id The game's own stable id of the player (1-256 characters), a
 *   pseudonym, never a name or an e-mail address.
 * @property {boolean} consent The game asserts the player agreed to be recorded (false: not recorded).
 */

/**
 * A connection to a gameai server (docs/protocol.md). Build it with {@link connect}, or
 * `new GameAIClient(options).start()` to connect in the background (retrying until a server answers).
 *
 * Events (`client.on(name, listener)`): `"state"` `{state, reason, error, welcome}` on every change
 * of {@link GameAIClient#state}; `"welcome"` for each new session; `"message"` for every server
 * message; and each message `type` (`"behaviour"`, `"action"`, `"dialogue.delta"`, `"error"`...)
 * with that message.
 */
export class GameAIClient {
  /** @param {ClientOptions} [options] */
  constructor(options = {}) {
    const WebSocketClass = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WebSocketClass !== "function") {
      throw new GameAIError(
        "no_websocket",
        "no WebSocket here: pass one as the WebSocket option, or run Node >= 22 (Node 20: node --experimental-websocket)",
      );
    }
    this._WebSocket = WebSocketClass;
    this.options = {
      url: "ws://127.0.0.1:8765/",
      gameId: "game",
      token: undefined,
      services: ALL_SERVICES,
      behaviourEvery: 1,
      record: /** @type {RecordRequest|undefined} */ (undefined),
      encoding: /** @type {"raw"|"png"|"jpeg"} */ ("raw"),
      jpegQuality: 0.9,
      downscale: /** @type {"sse"|"generic"} */ ("sse"),
      maxBufferedBytes: 0,
      clientName: `gameai-js/${CLIENT_VERSION}`,
      openTimeoutMs: 5000,
      requestTimeoutMs: 10000,
      dialogueTimeoutMs: 30000,
      pingIntervalMs: 1000,
      ...options,
    };
    const reconnect = options.reconnect ?? true;
    /** Backoff between attempts, or null: never reconnect. @type {ReconnectPolicy|null} */
    this.reconnectPolicy = reconnect === false ? null : new ReconnectPolicy(reconnect === true ? {} : reconnect);
    /** `idle`, `connecting`, `connected`, `offline` (a retry is scheduled) or `closed`. @type {"idle"|"connecting"|"connected"|"offline"|"closed"} */
    this.state = "idle";
    /** The current (or last) session's `welcome`. @type {any} */
    this.welcome = null;
    /** The newest `behaviour` result. @type {any} */
    this.latestBehaviour = null;
    /** The last measured round trip, in milliseconds. @type {number|null} */
    this.rttMs = null;
    /** Server errors answering no request (about frames, rate limits...), oldest first (last 100). @type {GameAIError[]} */
    this.errors = [];
    /** Why the client is offline or closed. @type {GameAIError|null} */
    this.lastError = null;
    /** Frames handed to the socket. */
    this.framesSent = 0;
    /** Frames dropped on this side (replaced by a newer one while the socket was busy, or sent offline). */
    this.framesDropped = 0;
    this._emitter = new Emitter();
    this._ids = 0;
    this._frameCounter = 0;
    this._lastFrameAt = -Infinity;
    /** @type {any} */ this._ws = null;
    /** @type {Map<string, {resolve: (value: any) => void, reject: (error: Error) => void, timer: any}>} */
    this._pending = new Map();
    /** @type {Map<string, {stream: DialogueStream, timer: any, timeoutMs: number}>} */
    this._streams = new Map();
    /** @type {{data: Uint8Array, order: number}|null} */ this._waitingFrame = null;
    this._newestFrame = -1;
    this._flushTimer = null;
    this._pingTimer = null;
    this._retryTimer = null;
    this._retry = false;
    this._closing = false;
    /** @type {{resolve: (welcome: any) => void, reject: (error: Error) => void}|null} */
    this._opening = null;
  }

  /**
   * Listen to an event (see the class doc).
   * @param {string} type
   * @param {(value: any) => void} listener
   * @returns {() => void} Removes the listener.
   */
  on(type, listener) {
    return this._emitter.on(type, listener);
  }

  /**
   * Stop listening.
   * @param {string} type
   * @param {(value: any) => void} listener
   */
  off(type, listener) {
    this._emitter.off(type, listener);
  }

  /** The frame format of this session (`welcome.behaviour`), or null without a behaviour model. */
  get behaviourSpec() {
    return this.welcome?.behaviour ?? null;
  }

  /** True while a session is open. */
  get connected() {
    return this.state === "connected";
  }

  /**
   * Connect once: resolves with `welcome`, rejects with the refusal or failure (no retry for
   * this first attempt; later losses reconnect per `reconnect`).
   * @returns {Promise<any>}
   */
  open() {
    return this._begin(false);
  }

  /**
   * Connect in the background, retrying with backoff until a server answers (or refuses for
   * good); never throws. Follow it with the `"state"` event.
   * @returns {this}
   */
  start() {
    this._begin(this.reconnectPolicy !== null).catch(() => {});
    return this;
  }

  /**
   * @param {boolean} retry
   * @returns {Promise<any>}
   */
  _begin(retry) {
    if (this.state !== "idle") return Promise.reject(new TypeError("open() or start() was already called"));
    this._retry = retry;
    const promise = new Promise((resolve, reject) => (this._opening = { resolve, reject }));
    this._attempt(0);
    return promise;
  }

  /**
   * One connection attempt; on failure schedules the next one or closes.
   * @param {number} attempt Failed attempts so far.
   */
  _attempt(attempt) {
    if (this._closing) return;
    this._setState("connecting");
    this._handshake().then(
      ({ ws, welcome }) => {
        if (this._closing) {
          ws.close(1000);
          return;
        }
        this._retry = this.reconnectPolicy !== null;
        this._attach(ws, welcome);
        this._opening?.resolve(welcome);
        this._opening = null;
      },
      (/** @type {GameAIError} */ error) => {
        if (this._closing) return;
        if (this._retry && this.reconnectPolicy && isRetryable(error)) {
          this._setState("offline", error);
          this._retryTimer = setTimeout(() => this._attempt(attempt + 1), this.reconnectPolicy.delayMs(attempt));
        } else {
          this._setState("closed", error);
          this._opening?.reject(error);
          this._opening = null;
        }
      },
    );
  }

  /**
   * Open a websocket, send hello, wait for welcome.
   * @returns {Promise<{ws: any, welcome: any}>}
   */
  _handshake() {
    const { url, openTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      /** @type {any} */ let ws;
      try {
        ws = new this._WebSocket(url);
      } catch (error) {
        reject(new GameAIError("connect_failed", `cannot open ${url}: ${/** @type {Error} */ (error).message}`));
        return;
      }
      ws.binaryType = "arraybuffer";
      /** @type {any} */ let refusal = null;
      let settled = false;
      /** @param {GameAIError|null} error @param {any} [welcome] */
      const settle = (error, welcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
        if (error) {
          if (ws.readyState <= OPEN) ws.close(1000);
          reject(error);
        } else {
          resolve({ ws, welcome });
        }
      };
      const timer = setTimeout(
        () => settle(new GameAIError("timeout", `no welcome from ${url} within ${openTimeoutMs} ms`)),
        openTimeoutMs,
      );
      ws.onmessage = (/** @type {{data: any}} */ event) => {
        let message;
        try {
          message = JSON.parse(event.data);
        } catch {
          settle(new GameAIError("bad_reply", "the server's first message is not JSON"));
          return;
        }
        if (message?.type === "welcome") settle(null, message);
        else if (message?.type === "error") refusal = message; // the close follows
        else settle(new GameAIError("bad_reply", `expected welcome, got ${message?.type}`));
      };
      ws.onclose = (/** @type {{code: number, reason: string}} */ event) => {
        if (refusal) {
          const error = GameAIError.fromMessage(refusal, event.code);
          error.closeReason = event.reason;
          settle(error);
        } else {
          settle(
            new GameAIError(
              "connect_failed",
              `connection to ${url} closed before welcome (code ${event.code}${event.reason ? `: ${event.reason}` : ""}); ` +
                "is the server running, and is a browser page's origin in its --allowed-origins?",
              { closeCode: event.code, closeReason: event.reason },
            ),
          );
        }
      };
      let opened = false;
      ws.onopen = () => {
        opened = true;
        ws.send(JSON.stringify(this._hello()));
      };
      // Before the handshake completes, an error is the refusal (HTTP 403 for an origin not
      // allowed, nothing listening...); some WebSocket implementations (Node 20's) never send a
      // close event then. After it, the close event (with its code) follows.
      ws.onerror = () => {
        if (!opened) settle(new GameAIError("connect_failed", `cannot connect to ${url}: refused or unreachable (is the server running, and is a browser page's origin in its --allowed-origins?)`));
      };
    });
  }

  /** The hello message. */
  _hello() {
    const { gameId, token, services, behaviourEvery, clientName, record } = this.options;
    /** @type {Record<string, any>} */
    const hello = { type: "hello", protocol: PROTOCOL_VERSION, game_id: gameId, services: [...services], behaviour_every: behaviourEvery, client: clientName };
    if (token) hello.token = token;
    // The server checks both fields (a bad one is refused with bad_hello); sent as given.
    if (record) hello.record = { player_id: record.player_id, consent: record.consent };
    return hello;
  }

  /**
   * Serve an open session.
   * @param {any} ws
   * @param {any} welcome
   */
  _attach(ws, welcome) {
    this._ws = ws;
    this.welcome = welcome;
    this.lastError = null;
    this._lastFrameAt = -Infinity;
    /** @type {any} */ let fatal = null;
    ws.onmessage = (/** @type {{data: any}} */ event) => {
      if (typeof event.data !== "string") return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return; // the server sends JSON only; nothing to do with anything else
      }
      if (message?.type === "error" && message.fatal) fatal = message;
      this._dispatch(message);
    };
    ws.onclose = (/** @type {{code: number, reason: string}} */ event) => {
      const error = fatal
        ? GameAIError.fromMessage(fatal, event.code)
        : new GameAIError("connection_lost", `connection closed (code ${event.code}${event.reason ? `: ${event.reason}` : ""})`, { closeCode: event.code });
      error.closeReason = event.reason ?? "";
      this._detach(ws, error);
    };
    ws.onerror = () => {
      // A close event should follow; do not wait forever on an implementation that sends none.
      setTimeout(() => this._detach(ws, new GameAIError("connection_lost", "websocket error")), 1000);
    };
    this._setState("connected", null, welcome);
    this._emitter.emit("welcome", welcome);
    if (this.options.pingIntervalMs > 0) {
      this._pingTimer = setInterval(() => {
        this.ping().then(
          () => {},
          () => {},
        );
      }, this.options.pingIntervalMs);
    }
  }

  /**
   * A session ended: fail what waits on it, then reconnect or close.
   * @param {any} ws
   * @param {GameAIError} error
   */
  _detach(ws, error) {
    if (this._ws !== ws) return;
    this._ws = null;
    ws.onmessage = ws.onclose = ws.onerror = null;
    clearInterval(this._pingTimer);
    clearTimeout(this._flushTimer);
    this._pingTimer = this._flushTimer = null;
    if (this._waitingFrame) this.framesDropped++;
    this._waitingFrame = null;
    this._failAll(error);
    if (this._closing) return;
    if (this.reconnectPolicy && isRetryable(error)) {
      this._setState("offline", error);
      this._retryTimer = setTimeout(() => this._attempt(1), this.reconnectPolicy.delayMs(0));
    } else {
      this._setState("closed", error);
    }
  }

  /** @param {Error} error Fails every request and reply in flight. */
  _failAll(error) {
    for (const [id, pending] of this._pending) {
      clearTimeout(pending.timer);
      pending.reject(this._lost(error, id));
    }
    this._pending.clear();
    for (const [id, entry] of this._streams) {
      clearTimeout(entry.timer);
      entry.stream._fail(this._lost(error, id));
    }
    this._streams.clear();
  }

  /**
   * The error a request in flight gets when the connection goes.
   * @param {Error} error
   * @param {string} id
   */
  _lost(error, id) {
    const cause = /** @type {GameAIError} */ (error);
    const code = cause.code === "closed" ? "closed" : "connection_lost";
    return new GameAIError(code, `${cause.message} (${cause.code})`, { id, fatal: cause.fatal, closeCode: cause.closeCode, closeReason: cause.closeReason });
  }

  /**
   * @param {"idle"|"connecting"|"connected"|"offline"|"closed"} state
   * @param {GameAIError|null} [error]
   * @param {any} [welcome]
   */
  _setState(state, error = null, welcome = null) {
    if (error) this.lastError = error;
    if (state === this.state && !error) return;
    this.state = state;
    this._emitter.emit("state", { state, reason: error ? error.message : "", error, welcome });
  }

  /** @param {any} message A server message. */
  _dispatch(message) {
    const id = message.id ?? null;
    switch (message.type) {
      case "behaviour":
        this.latestBehaviour = message;
        break;
      case "dialogue.delta":
      case "dialogue.done": {
        const entry = id === null ? undefined : this._streams.get(id);
        if (entry) {
          this._armStreamTimer(id, entry);
          const over = message.type === "dialogue.delta" ? (entry.stream._onDelta(message), false) : entry.stream._onDone(message);
          if (over) {
            clearTimeout(entry.timer);
            this._streams.delete(id);
          }
        }
        break;
      }
      case "action":
      case "action.batch":
      case "pong": {
        const pending = id === null ? undefined : this._pending.get(id);
        if (pending) {
          clearTimeout(pending.timer);
          this._pending.delete(id);
          pending.resolve(message);
        }
        break;
      }
      case "error":
        this._onError(message);
        break;
      default:
        break;
    }
    this._emitter.emit("message", message);
    if (typeof message.type === "string") this._emitter.emit(message.type, message);
  }

  /** @param {any} message An `error` message. */
  _onError(message) {
    const error = GameAIError.fromMessage(message);
    const id = message.id ?? null;
    const pending = id === null ? undefined : this._pending.get(id);
    const entry = id === null ? undefined : this._streams.get(id);
    if (pending) {
      clearTimeout(pending.timer);
      this._pending.delete(id);
      pending.reject(error);
    } else if (entry) {
      clearTimeout(entry.timer);
      this._streams.delete(id);
      entry.stream._fail(error);
    } else {
      this.errors = [...this.errors.slice(-99), error];
    }
  }

  /**
   * Send a JSON message now.
   * @param {Record<string, any>} message
   * @returns {boolean} False when no session is open (nothing sent).
   */
  _send(message) {
    if (this.state !== "connected" || !this._ws || this._ws.readyState !== OPEN) return false;
    this._ws.send(JSON.stringify(message));
    return true;
  }

  /** A fresh request id (`js1`, `js2`...). */
  nextId() {
    this._ids += 1;
    return `js${this._ids}`;
  }

  /**
   * Send a request and wait for the reply with its id.
   * @param {Record<string, any>} message With `id`.
   * @param {number} timeoutMs
   * @returns {Promise<any>}
   */
  _request(message, timeoutMs) {
    const id = message.id;
    if (this._pending.has(id) || this._streams.has(id)) return Promise.reject(new TypeError(`request id ${id} is already in flight`));
    if (!this._send(message)) return Promise.reject(new GameAIError("offline", `no session (state ${this.state}): ${message.type} not sent`, { id }));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._pending.delete(id);
        reject(new GameAIError("timeout", `no answer to ${message.type} ${id} within ${timeoutMs} ms`, { id }));
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer });
    });
  }

  /**
   * Ask an agent for an NPC's next action.
   * @param {string} npcId The NPC.
   * @param {ArrayLike<number>} observation `welcome.agents[agent].obs_dim` numbers.
   * @param {{difficulty?: number, agent?: string, id?: string, timeoutMs?: number}} [options]
   * @returns {Promise<any>} The `action` message (`action`: one choice per branch).
   * @throws {GameAIError} (rejects) `bad_observation`, `unknown_agent`, `overloaded`, `timeout`, `offline`, `connection_lost`...
   */
  act(npcId, observation, options = {}) {
    const { difficulty, agent, id = this.nextId(), timeoutMs = this.options.requestTimeoutMs } = options;
    /** @type {Record<string, any>} */
    const message = { type: "act", id, npc_id: npcId, observation: Array.from(observation, Number) };
    if (difficulty !== undefined && difficulty !== null) message.difficulty = difficulty;
    if (agent !== undefined && agent !== null) message.agent = agent;
    return this._request(message, timeoutMs);
  }

  /**
   * Ask for several NPCs' next actions in one message each way (`act.batch` -> `action.batch`).
   * @param {Record<string, ArrayLike<number>> | Array<{npc_id: string, observation: ArrayLike<number>, difficulty?: number, agent?: string}>} acts
   *   Each NPC's observation by NPC id (played with `options.difficulty` and `options.agent`), or items with their own.
   * @param {{difficulty?: number, agent?: string, id?: string, timeoutMs?: number}} [options]
   * @returns {Promise<any>} The `action.batch` message: `actions` in the order of `acts`.
   * @throws {GameAIError} (rejects) as `act`; one bad item refuses the batch (its message names the item: `acts[1]: ...`).
   */
  actBatch(acts, options = {}) {
    const { difficulty, agent, id = this.nextId(), timeoutMs = this.options.requestTimeoutMs } = options;
    const given = Array.isArray(acts)
      ? acts
      : Object.entries(acts).map(([npcId, observation]) => ({ npc_id: npcId, observation, difficulty, agent }));
    const items = given.map((item) => {
      /** @type {Record<string, any>} */
      const out = { npc_id: item.npc_id, observation: Array.from(item.observation, Number) };
      if (item.difficulty !== undefined && item.difficulty !== null) out.difficulty = item.difficulty;
      if (item.agent !== undefined && item.agent !== null) out.agent = item.agent;
      return out;
    });
    return this._request({ type: "act.batch", id, acts: items }, timeoutMs);
  }

  /**
   * Start an NPC reply. Iterate the stream for its deltas; `await stream.done` for the end.
   * The NPC is `options.npc` (a card; the server remembers it for `npcId`), else the card the server
   * knows for `npcId` (given earlier, or one of `welcome.npcs`), else `persona`.
   * @param {string} npcId The NPC: a card id of `welcome.npcs`, or the game's own id (the server keeps
   *   its last turns as history).
   * @param {string | null} [persona] A card id of the server or a free-text description; null/undefined: none.
   * @param {string} [playerLine] What the player said ("" : the NPC speaks first).
   * @param {Record<string, any> & {id?: string, timeoutMs?: number}} [options] Other `dialogue.request`
   *   fields by their protocol names (`npc`, `mood`, `behaviour`, `events`, `game_state`, `max_new_tokens`,
   *   `temperature`, `top_p`, `seed`, `stop`, `n`), plus `id` and `timeoutMs` (longest wait for the next message).
   * @returns {DialogueStream} Failures (refusal, timeout, offline) surface from iterating it and from `done`.
   */
  dialogue(npcId, persona = null, playerLine = "", options = {}) {
    const { id = this.nextId(), timeoutMs = this.options.dialogueTimeoutMs, ...fields } = options;
    const n = fields.n ?? 1;
    const stream = new DialogueStream(id, n, () => this._send({ type: "dialogue.cancel", id }));
    if (this._pending.has(id) || this._streams.has(id)) {
      stream._fail(new TypeError(`request id ${id} is already in flight`));
      return stream;
    }
    /** @type {Record<string, any>} */
    const message = { type: "dialogue.request", id, npc_id: npcId, player_line: playerLine, ...fields };
    if (persona !== undefined && persona !== null) message.persona = persona;
    if (!this._send(message)) {
      stream._fail(new GameAIError("offline", `no session (state ${this.state}): dialogue.request not sent`, { id }));
      return stream;
    }
    const entry = { stream, timer: null, timeoutMs };
    this._streams.set(id, entry);
    this._armStreamTimer(id, entry);
    return stream;
  }

  /**
   * (Re)start a reply's timeout.
   * @param {string} id
   * @param {{stream: DialogueStream, timer: any, timeoutMs: number}} entry
   */
  _armStreamTimer(id, entry) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      this._streams.delete(id);
      this._send({ type: "dialogue.cancel", id }); // stop the server spending time on it
      entry.stream._fail(new GameAIError("timeout", `no message of dialogue ${id} for ${entry.timeoutMs} ms`, { id }));
    }, entry.timeoutMs);
  }

  /**
   * Report that a match or round ended (from the player's side); no reply.
   * @param {"win"|"loss"|"draw"} outcome
   * @param {{id?: string, npc_id?: string, player_score?: number, npc_score?: number, duration_s?: number}} [fields]
   *   With `id`, a refusal comes back as an `error` event carrying it.
   * @returns {boolean} False when no session is open (nothing sent).
   */
  matchResult(outcome, fields = {}) {
    return this._send({ type: "match.result", outcome, ...fields });
  }

  /**
   * Report game events that just happened, oldest first (1-32 names); no reply.
   * @param {string[]} events
   * @returns {boolean} False when no session is open (nothing sent).
   */
  events(events) {
    return this._send({ type: "events", events: [...events] });
  }

  /**
   * Say what the player is doing from the next frame on, in a recorded session
   * (`welcome.recording.recorded`; the `record` option asks for it); no reply. A refusal
   * (`not_recording`, `unknown_label`) comes back as an `error` event and lands in
   * {@link GameAIClient#errors}; the session goes on. A `recording_stopped` error says the
   * server stopped recording this session.
   * @param {string|null} label One of `welcome.behaviour.classes`; null: unlabelled from now on
   *   (such frames are stored, not trained on).
   * @param {{id?: string}} [fields] With `id`, a refusal carries it.
   * @returns {boolean} False when no session is open (nothing sent).
   */
  label(label, fields = {}) {
    /** @type {Record<string, any>} */
    const message = { type: "label", label: label ?? null };
    if (fields.id !== undefined && fields.id !== null) message.id = fields.id;
    return this._send(message);
  }

  /**
   * Round trip to the server and back (also updates {@link GameAIClient#rttMs}).
   * @param {{timeoutMs?: number}} [options]
   * @returns {Promise<number>} Milliseconds.
   */
  async ping(options = {}) {
    const started = performance.now();
    await this._request({ type: "ping", id: this.nextId(), t: started }, options.timeoutMs ?? this.options.requestTimeoutMs);
    this.rttMs = performance.now() - started;
    return this.rttMs;
  }

  /**
   * Whether a frame is due at `welcome.behaviour.sample_fps` (for games that send from their loop).
   * @param {number} [now] `performance.now()` by default.
   * @returns {boolean}
   */
  frameDue(now = performance.now()) {
    const spec = this.behaviourSpec;
    return this.connected && spec !== null && now - this._lastFrameAt >= 1000 / spec.sample_fps - 1;
  }

  /**
   * Send one frame: downscaled to `welcome.behaviour`'s size the way the model expects, encoded
   * (`encoding` option), then handed to the socket when its `bufferedAmount` allows; while it
   * does not, the frame waits and a newer one replaces it (never a backlog).
   * The source is read when this is called.
   * @param {any} source A canvas (2D or WebGL), OffscreenCanvas, ImageBitmap, image, video,
   *   `ImageData`, `{data, width, height}` with RGBA or RGB bytes of any size, or a `Uint8Array`
   *   of raw RGB already at the model's size.
   * @param {{region?: {x: number, y: number, width: number, height: number}, timestamp?: number, seq?: number}} [options]
   *   `region`: the part of the source to send (the world view, not the HUD); `timestamp`: your clock
   *   in seconds (default: the wall clock), echoed in `behaviour.timestamp`; `seq` (default 0, 1, 2...).
   * @returns {Promise<number|null>} The frame's seq, or null when it was not sent (offline, or the
   *   session has no behaviour model: `welcome.behaviour` absent).
   */
  async sendFrame(source, options = {}) {
    const spec = this.behaviourSpec;
    if (!this.connected || spec === null) {
      this.framesDropped++;
      return null;
    }
    const { width, height } = spec;
    const pixels = framePixels(source, width, height, options.region, this.options.downscale); // read now, synchronously
    const order = ++this._frameCounter;
    const seq = options.seq ?? order - 1;
    const timestamp = options.timestamp ?? (performance.timeOrigin + performance.now()) / 1000;
    this._lastFrameAt = performance.now();
    const { encoding, jpegQuality } = this.options;
    const payload = await encodePayload(pixels, width, height, encoding, { jpegQuality });
    return this.sendEncodedFrame(payload, { width, height, encoding, seq, timestamp, order });
  }

  /**
   * Send an already encoded frame (raw RGB, PNG or JPEG bytes of the model's size), paced like
   * {@link GameAIClient#sendFrame}.
   * @param {Uint8Array} payload
   * @param {{width: number, height: number, encoding?: "raw"|"png"|"jpeg", seq?: number, timestamp?: number, order?: number}} fields
   * @returns {number|null} The seq, or null when not sent (offline, or a newer frame was already sent).
   */
  sendEncodedFrame(payload, fields) {
    const order = fields.order ?? ++this._frameCounter;
    const seq = fields.seq ?? order - 1;
    const timestamp = fields.timestamp ?? (performance.timeOrigin + performance.now()) / 1000;
    if (!this.connected || order <= this._newestFrame) {
      this.framesDropped++;
      return null;
    }
    this._newestFrame = order;
    const data = encodeFrame(payload, { seq, timestamp, width: fields.width, height: fields.height, encoding: fields.encoding ?? "raw" });
    if (this._waitingFrame) this.framesDropped++;
    this._waitingFrame = { data, order };
    this._flushFrame();
    return seq;
  }

  /** Hand the waiting frame to the socket once its buffer has drained. */
  _flushFrame() {
    clearTimeout(this._flushTimer);
    this._flushTimer = null;
    const ws = this._ws;
    if (!this._waitingFrame || !ws || ws.readyState !== OPEN) return;
    if ((ws.bufferedAmount ?? 0) <= this.options.maxBufferedBytes) {
      ws.send(this._waitingFrame.data);
      this._waitingFrame = null;
      this.framesSent++;
    } else {
      this._flushTimer = setTimeout(() => this._flushFrame(), 10);
    }
  }

  /**
   * Send frames of a source at `welcome.behaviour.sample_fps`, reconnections included.
   * @param {any} source See {@link GameAIClient#sendFrame}.
   * @param {{region?: {x: number, y: number, width: number, height: number}}} [options]
   * @returns {() => void} Stops the stream.
   */
  streamFrames(source, options = {}) {
    let stopped = false;
    /** @type {any} */ let timer = null;
    const tick = () => {
      if (stopped) return;
      const spec = this.behaviourSpec;
      if (this.connected && spec) this.sendFrame(source, options).catch((error) => this._emitter.emit("frame-error", error));
      timer = setTimeout(tick, spec ? 1000 / spec.sample_fps : 250);
    };
    tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /**
   * Close the session (normal closure) and stop reconnecting; requests in flight fail with `closed`.
   * @returns {Promise<void>} Resolves once the socket has closed.
   */
  close() {
    this._closing = true;
    clearTimeout(this._retryTimer);
    const ws = this._ws;
    const error = new GameAIError("closed", "the client was closed");
    this._opening?.reject(error);
    this._opening = null;
    if (!ws) {
      this._setState("closed", error);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      /** @type {any} */ let timer = null;
      const done = () => {
        clearTimeout(timer);
        if (this._ws === ws) {
          this._detach(ws, error);
          this._setState("closed", error);
        }
        resolve();
      };
      ws.onclose = done;
      if (ws.readyState >= 3) {
        done();
        return;
      }
      ws.close(1000);
      timer = setTimeout(done, 2000); // never wait on a peer that does not answer the close
    });
  }
}

/**
 * Connect, send hello and wait for welcome.
 * @param {ClientOptions} [options]
 * @returns {Promise<GameAIClient>} Rejects with a {@link GameAIError} (`bad_token`, `server_full`,
 *   `connect_failed`, `timeout`...) when the first attempt fails; later losses reconnect (`reconnect` option).
 */
export async function connect(options = {}) {
  const client = new GameAIClient(options);
  await client.open();
  return client;
}
