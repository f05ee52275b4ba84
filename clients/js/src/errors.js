/**
 * Typed errors of the gameai client.
 *
 * Every failure a game can meet is a {@link GameAIError}: the server's `error` messages keep
 * their protocol code (`bad_observation`, `overloaded`, `bad_token`...; docs/protocol.md
 * section 5), and the client adds a few codes of its own (see {@link CLIENT_ERROR_CODES}).
 * @module gameai-client/errors
 */

/**
 * Codes the client itself uses (the server's codes are in docs/protocol.md section 5).
 * - `timeout`: no answer within the request's `timeoutMs`.
 * - `connection_lost`: the connection closed before the answer came.
 * - `offline`: the request was made while no session was open.
 * - `connect_failed`: the websocket could not be opened, or closed before `welcome`.
 * - `closed`: the client was closed by the game.
 * - `no_websocket`: no WebSocket constructor (pass one as the `WebSocket` option).
 * - `bad_reply`: the server sent something the client cannot read during the hello.
 * @type {readonly string[]}
 */
export const CLIENT_ERROR_CODES = Object.freeze([
  "timeout",
  "connection_lost",
  "offline",
  "connect_failed",
  "closed",
  "no_websocket",
  "bad_reply",
]);

/** An error of the gameai protocol or of the client; `code` says which. */
export class GameAIError extends Error {
  /**
   * @param {string} code A server error code (docs/protocol.md section 5) or one of {@link CLIENT_ERROR_CODES}.
   * @param {string} message A sentence for the developer.
   * @param {{id?: string|null, seq?: number|null, fatal?: boolean, closeCode?: number|null, closeReason?: string}} [details]
   */
  constructor(code, message, details = {}) {
    super(message);
    this.name = "GameAIError";
    /** The error code. @type {string} */
    this.code = code;
    /** The request concerned, if any. @type {string|null} */
    this.id = details.id ?? null;
    /** The frame concerned, if any. @type {number|null} */
    this.seq = details.seq ?? null;
    /** True when the connection closes because of it. @type {boolean} */
    this.fatal = details.fatal ?? false;
    /** The websocket close code, when the connection closed. @type {number|null} */
    this.closeCode = details.closeCode ?? null;
    /** The websocket close reason. @type {string} */
    this.closeReason = details.closeReason ?? "";
  }

  /**
   * The error a server `error` message stands for.
   * @param {{code: string, message: string, id?: string|null, seq?: number|null, fatal?: boolean}} message
   * @param {number|null} [closeCode]
   * @returns {GameAIError}
   */
  static fromMessage(message, closeCode = null) {
    return new GameAIError(String(message.code), String(message.message ?? ""), {
      id: message.id ?? null,
      seq: message.seq ?? null,
      fatal: Boolean(message.fatal),
      closeCode,
    });
  }
}
