/**
 * gameai's JavaScript client: browsers (native WebSocket, no dependency) and Node >= 20.
 * See README.md next to this folder, and docs/protocol.md in the gameai repository.
 * @module gameai-client
 */

export { GameAIClient, connect, PROTOCOL_VERSION, CLIENT_VERSION, ALL_SERVICES } from "./client.js";
export { DialogueStream } from "./dialogue.js";
export { GameAIError, CLIENT_ERROR_CODES } from "./errors.js";
export {
  HEADER_SIZE,
  MAGIC,
  FRAME_VERSION,
  CHANNELS,
  FRAME_ENCODINGS,
  encodeFrameHeader,
  encodeFrame,
  parseFrameHeader,
  smoothscale,
  readPixels,
  framePixels,
  encodePayload,
} from "./frames.js";
export { encodePNG, crc32 } from "./png.js";
export { ReconnectPolicy, PERMANENT_ERROR_CODES, PERMANENT_CLOSE_CODES, isRetryable } from "./reconnect.js";
