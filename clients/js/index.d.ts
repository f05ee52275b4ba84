/// <reference lib="dom" />
// Type declarations of gameai-client (hand-written; the code is plain ES modules in src/).
// Messages are the protocol's JSON objects with its field names (docs/protocol.md).

export type Service = "behaviour" | "dialogue" | "agents" | (string & {});
export type FrameEncoding = "raw" | "png" | "jpeg";
export type SmoothscaleBackend = "sse" | "generic";
export type ConnectionState = "idle" | "connecting" | "connected" | "offline" | "closed";

export interface Region { x: number; y: number; width: number; height: number }

/** From one age of a session on, the smoothed probability a class needs before it is a result's label. */
export interface BotLikeMinimum {
  /** Once the server has seen more than this many seconds of the session's play (0: from the start). */
  from_s: number;
  /** 1: not sent. */
  min_probability: number;
}

export interface AccusationMinimum extends BotLikeMinimum {
  /** The accusation class. */
  label: string;
}

export interface BehaviourSpec {
  width: number;
  height: number;
  channels: number;
  frames_per_window: number;
  sample_fps: number;
  classes: string[];
  bot_like_min_precision?: number | null;
  bot_like_minimums: BotLikeMinimum[];
  /** look_score above which a result's label is "unknown" (the frames are not the model's game); null: never. */
  unknown_threshold?: number | null;
  /** Classes a game may act against a player on, each held back by its calibration. */
  accusation_classes?: string[];
  accusation_minimums?: AccusationMinimum[];
}

export interface AgentSpec {
  obs_dim: number;
  /** Choices per element of a discrete action (Discrete(n): [n]; MultiBinary(k): k 2s); empty for Box. */
  action_nvec: number[];
  difficulty_input: boolean;
  action_space: "Discrete" | "MultiDiscrete" | "MultiBinary" | "Box";
  /** Box only: bounds of each element (+-3.4e38: unbounded). */
  action_low?: number[];
  action_high?: number[];
  /** How the action is spoiled below difficulty 1 (random_action, hold_fire, ...). */
  handicap: string[];
}

/** Whose models a session got (`welcome.game`). */
export interface GameModelsInfo {
  /** The session's `hello.game_id`. */
  game_id: string;
  /** game_id when the server has models of that game (the session got them); null: the default set. */
  models_game?: string | null;
  /** The game whose models make the server's default set (null: the server's own options alone). */
  default_game?: string | null;
}

/** `hello.record`: ask the server to record this session's frames and labels for training. */
export interface RecordRequest {
  /** The game's own stable id of the player (1-256 characters): a pseudonym, never a name or an e-mail address. */
  player_id: string;
  /** The game asserts the player agreed to be recorded (false: not recorded). */
  consent: boolean;
}

/** `welcome.recording`: whether a session that asked to be recorded is. */
export interface RecordingInfo {
  /** True: the frames the behaviour model receives, and the `label` messages, are stored. */
  recorded: boolean;
  /** Why the session is not recorded (absent when it is). */
  reason?: string | null;
}

export interface Welcome {
  type: "welcome";
  protocol: number;
  session_id: string;
  server: string;
  services: Service[];
  /** Whose models the session got: models_game is game_id when the server has that game's, null for its default set. */
  game?: GameModelsInfo;
  models: Record<string, { service: string; status: "ready" | "unavailable"; name?: string; version?: string; reason?: string; random_init: boolean }>;
  behaviour?: BehaviourSpec;
  agents: Record<string, AgentSpec>;
  default_agent?: string;
  /** The card ids of the server's NPC cards, usable as `dialogue.request.npc_id`. */
  npcs?: string[];
  difficulty: number;
  limits: Record<string, number>;
  /** Present when `hello.record` asked for recording. */
  recording?: RecordingInfo;
}

export interface BehaviourResult {
  type: "behaviour";
  seq: number;
  timestamp: number;
  /** A class of welcome.behaviour.classes, or "unknown" when the frames are not the model's game (confidence 0). */
  label: "unknown" | (string & {});
  probabilities: Record<string, number>;
  confidence: number;
  latency_ms: number;
  dropped_frames: number;
  /** 0-1: how unlike the model's game the window's frames are; null when the model has no look. */
  look_score?: number | null;
}

export interface DialogueDelta { type: "dialogue.delta"; id: string; index: number; text: string; alternative?: number }

export interface DialogueDone {
  type: "dialogue.done";
  id: string;
  text: string;
  tokens: number;
  finish_reason: "stop" | "length" | "cancelled";
  first_token_ms?: number;
  duration_ms: number;
  tokens_per_s: number;
  alternative?: number;
}

export interface Action { type: "action"; id: string; npc_id: string; agent: string; action: number[]; difficulty: number; latency_ms: number }
export interface ActionBatch { type: "action.batch"; id: string; actions: { npc_id: string; agent: string; action: number[]; difficulty: number }[]; latency_ms: number }
export interface ActItem { npc_id: string; observation: ArrayLike<number>; difficulty?: number; agent?: string }
export interface Pong { type: "pong"; id: string; t: number; server_time: number }
export interface ErrorMessage { type: "error"; code: string; message: string; id?: string; seq?: number; fatal: boolean }
export type ServerMessage = Welcome | BehaviourResult | DialogueDelta | DialogueDone | Action | ActionBatch | Pong | ErrorMessage;

/** Client -> server, in a recorded session: what the player is doing from the next frame on. */
export interface LabelMessage {
  type: "label";
  /** One of welcome.behaviour.classes; null: unlabelled from now on. */
  label: string | null;
  /** Echoed by an `error` if the message is refused (`not_recording`, `unknown_label`). */
  id?: string;
}

/** An NPC the game defines (`dialogue.request.npc`): who it is, how it talks, what it knows. */
export interface NpcCard {
  /** 1-64 characters. */
  name: string;
  role?: string;
  /** At most 1000 characters; its sentences count as facts. */
  description?: string;
  /** At most 12, each 1-48 characters. */
  traits?: string[];
  speech?: string;
  /** At most 64, each one short sentence of 1-200 characters. */
  facts?: string[];
  /** At most 12, each 1-200 characters. */
  goals?: string[];
  /** Its usual mood, when the request gives none. */
  mood?: string;
}

export interface DialogueOptions {
  id?: string;
  /** Longest wait for the reply's next message, in ms. */
  timeoutMs?: number;
  /** The NPC's card; the server remembers it for the npc id, so later requests may leave it out. */
  npc?: NpcCard;
  mood?: string;
  behaviour?: string;
  events?: string[];
  game_state?: Record<string, unknown>;
  max_new_tokens?: number;
  temperature?: number;
  top_p?: number;
  seed?: number;
  stop?: string[];
  n?: number;
}

export interface MatchResultFields { id?: string; npc_id?: string; player_score?: number; npc_score?: number; duration_s?: number }

export interface ReconnectOptions {
  initialDelayMs?: number;
  maxDelayMs?: number;
  multiplier?: number;
  jitter?: number;
  random?: () => number;
}

export interface ClientOptions {
  url?: string;
  gameId?: string;
  token?: string;
  services?: Service[];
  behaviourEvery?: number;
  /** Ask the server to record this session for training (`hello.record`); `welcome.recording` answers. */
  record?: RecordRequest;
  encoding?: FrameEncoding;
  jpegQuality?: number;
  downscale?: SmoothscaleBackend;
  maxBufferedBytes?: number;
  clientName?: string;
  openTimeoutMs?: number;
  requestTimeoutMs?: number;
  dialogueTimeoutMs?: number;
  pingIntervalMs?: number;
  reconnect?: boolean | ReconnectOptions;
  WebSocket?: { new (url: string): any };
}

export interface StateChange { state: ConnectionState; reason: string; error: GameAIError | null; welcome: Welcome | null }

/** Anything a frame can be made from. */
export type FrameSource =
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | HTMLImageElement
  | HTMLVideoElement
  | ImageData
  | { data: ArrayLike<number> & { length: number; subarray?: (start: number, end: number) => ArrayLike<number> }; width: number; height: number }
  | Uint8Array;

export interface ClientEvents {
  state: StateChange;
  welcome: Welcome;
  message: ServerMessage;
  behaviour: BehaviourResult;
  action: Action;
  pong: Pong;
  error: ErrorMessage;
  "dialogue.delta": DialogueDelta;
  "dialogue.done": DialogueDone;
  "frame-error": Error;
}

export declare const PROTOCOL_VERSION: 1;
export declare const CLIENT_VERSION: string;
export declare const ALL_SERVICES: readonly Service[];

export declare class GameAIClient {
  constructor(options?: ClientOptions);
  readonly options: Required<Omit<ClientOptions, "token" | "record" | "reconnect" | "WebSocket">> & { token?: string; record?: RecordRequest };
  readonly reconnectPolicy: ReconnectPolicy | null;
  readonly state: ConnectionState;
  readonly welcome: Welcome | null;
  readonly latestBehaviour: BehaviourResult | null;
  readonly rttMs: number | null;
  readonly errors: GameAIError[];
  readonly lastError: GameAIError | null;
  readonly framesSent: number;
  readonly framesDropped: number;
  readonly behaviourSpec: BehaviourSpec | null;
  readonly connected: boolean;
  on<K extends keyof ClientEvents>(type: K, listener: (value: ClientEvents[K]) => void): () => void;
  on(type: string, listener: (value: any) => void): () => void;
  off(type: string, listener: (value: any) => void): void;
  open(): Promise<Welcome>;
  start(): this;
  nextId(): string;
  act(npcId: string, observation: ArrayLike<number>, options?: { difficulty?: number; agent?: string; id?: string; timeoutMs?: number }): Promise<Action>;
  actBatch(acts: Record<string, ArrayLike<number>> | ActItem[], options?: { difficulty?: number; agent?: string; id?: string; timeoutMs?: number }): Promise<ActionBatch>;
  dialogue(npcId: string, persona?: string | null, playerLine?: string, options?: DialogueOptions): DialogueStream;
  matchResult(outcome: "win" | "loss" | "draw", fields?: MatchResultFields): boolean;
  events(events: string[]): boolean;
  /** Label the recorded frames from the next one on (null: unlabelled); false when no session is open. */
  label(label: string | null, fields?: { id?: string }): boolean;
  ping(options?: { timeoutMs?: number }): Promise<number>;
  frameDue(now?: number): boolean;
  sendFrame(source: FrameSource, options?: { region?: Region; timestamp?: number; seq?: number }): Promise<number | null>;
  sendEncodedFrame(payload: Uint8Array, fields: { width: number; height: number; encoding?: FrameEncoding; seq?: number; timestamp?: number }): number | null;
  streamFrames(source: FrameSource, options?: { region?: Region }): () => void;
  close(): Promise<void>;
}

export declare function connect(options?: ClientOptions): Promise<GameAIClient>;

export declare class DialogueStream implements AsyncIterable<DialogueDelta> {
  constructor(id: string, n: number, cancel: () => boolean);
  readonly id: string;
  readonly n: number;
  readonly texts: string[];
  readonly text: string;
  readonly finished: boolean;
  readonly done: Promise<DialogueDone>;
  readonly allDone: Promise<DialogueDone[]>;
  cancel(): boolean;
  [Symbol.asyncIterator](): AsyncIterator<DialogueDelta>;
}

export declare const CLIENT_ERROR_CODES: readonly string[];

export declare class GameAIError extends Error {
  constructor(code: string, message: string, details?: { id?: string | null; seq?: number | null; fatal?: boolean; closeCode?: number | null; closeReason?: string });
  readonly code: string;
  readonly id: string | null;
  readonly seq: number | null;
  readonly fatal: boolean;
  closeCode: number | null;
  closeReason: string;
  static fromMessage(message: { code: string; message: string; id?: string | null; seq?: number | null; fatal?: boolean }, closeCode?: number | null): GameAIError;
}

export declare const HEADER_SIZE: 28;
export declare const MAGIC: readonly number[];
export declare const FRAME_VERSION: 1;
export declare const CHANNELS: 3;
export declare const FRAME_ENCODINGS: Readonly<Record<FrameEncoding, number>>;

export interface FrameHeaderFields { seq: number; timestamp: number; width: number; height: number; encoding?: FrameEncoding }
export declare function encodeFrameHeader(fields: FrameHeaderFields & { payloadLength: number }): Uint8Array;
export declare function encodeFrame(payload: Uint8Array, fields: FrameHeaderFields): Uint8Array;
export declare function parseFrameHeader(bytes: Uint8Array): {
  version: number; encoding: string; channels: number; flags: number; seq: number; timestamp: number; width: number; height: number; payloadLength: number;
};
export declare function smoothscale(pixels: ArrayLike<number>, srcWidth: number, srcHeight: number, width: number, height: number, backend?: SmoothscaleBackend): Uint8Array;
export declare function readPixels(source: FrameSource, region?: Region): { data: ArrayLike<number>; width: number; height: number };
export declare function framePixels(source: FrameSource, width: number, height: number, region?: Region, backend?: SmoothscaleBackend): Uint8Array;
export declare function encodePayload(rgb: Uint8Array, width: number, height: number, encoding: FrameEncoding, options?: { jpegQuality?: number }): Promise<Uint8Array>;
export declare function encodePNG(rgb: Uint8Array, width: number, height: number): Promise<Uint8Array>;
export declare function crc32(bytes: Uint8Array, crc?: number): number;

export declare class ReconnectPolicy {
  constructor(options?: ReconnectOptions);
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly multiplier: number;
  readonly jitter: number;
  delayMs(attempt: number): number;
}
export declare const PERMANENT_ERROR_CODES: readonly string[];
export declare const PERMANENT_CLOSE_CODES: readonly number[];
export declare function isRetryable(error: { code?: string; closeCode?: number | null }): boolean;
