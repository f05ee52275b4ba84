/**
 * Reconnection: exponential backoff with jitter, and which refusals retrying cannot fix.
 * The same rule as the Python client (`gameai.client.threaded.ReconnectPolicy`).
 * @module gameai-client/reconnect
 */

/** Server error codes after which reconnecting cannot help (docs/protocol.md section 9). */
export const PERMANENT_ERROR_CODES = Object.freeze(["bad_version", "bad_token", "bad_hello", "unsupported_frame_format"]);

/** Close codes after which reconnecting cannot help: 4000, 4001, 4002, 4008. */
export const PERMANENT_CLOSE_CODES = Object.freeze([4000, 4001, 4002, 4008]);

/**
 * @typedef {object} ReconnectOptions
 * @property {number} [initialDelayMs] Delay before the first retry (250).
 * @property {number} [maxDelayMs] Cap on the delay (5000).
 * @property {number} [multiplier] Growth per failed attempt (2).
 * @property {number} [jitter] Each delay is scaled by a random factor in [1 - jitter, 1 + jitter] (0.2).
 * @property {() => number} [random] Source of randomness in [0, 1) (`Math.random`).
 */

/** Exponential backoff with jitter between connection attempts. */
export class ReconnectPolicy {
  /** @param {ReconnectOptions} [options] */
  constructor({ initialDelayMs = 250, maxDelayMs = 5000, multiplier = 2, jitter = 0.2, random = Math.random } = {}) {
    this.initialDelayMs = initialDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.multiplier = multiplier;
    this.jitter = jitter;
    this.random = random;
  }

  /**
   * The delay before retry number `attempt` (0-based), in milliseconds.
   * @param {number} attempt
   * @returns {number}
   */
  delayMs(attempt) {
    const base = Math.min(this.maxDelayMs, this.initialDelayMs * this.multiplier ** attempt);
    return base * (1 + this.jitter * (2 * this.random() - 1));
  }
}

/**
 * Whether a failed connection may be retried.
 * @param {{code?: string, closeCode?: number|null}} error A {@link GameAIError} or alike.
 * @returns {boolean}
 */
export function isRetryable(error) {
  return !PERMANENT_ERROR_CODES.includes(/** @type {string} */ (error.code)) && !PERMANENT_CLOSE_CODES.includes(/** @type {number} */ (error.closeCode));
}
