/**
 * A streamed NPC reply: an async iterator of `dialogue.delta` messages, with `done`.
 * @module gameai-client/dialogue
 */

/**
 * A reply in flight. Iterate it (`for await (const delta of stream)`) for the
 * `dialogue.delta` messages of every alternative, interleaved (each delta's `alternative`
 * says whose; absent means 0); {@link DialogueStream#done} resolves with alternative 0's
 * `dialogue.done` and {@link DialogueStream#allDone} with all of them in alternative order,
 * once every alternative has ended. A refusal, a timeout or a lost connection rejects both
 * and is thrown from the iteration (after the deltas that came before it).
 */
export class DialogueStream {
  /**
   * @param {string} id The request id.
   * @param {number} n Alternatives asked for.
   * @param {() => boolean} cancel Sends `dialogue.cancel` for this id; false when it could not be sent.
   */
  constructor(id, n, cancel) {
    /** The request id. @type {string} */
    this.id = id;
    /** Alternatives asked for. @type {number} */
    this.n = n;
    /** Each alternative's text so far. @type {string[]} */
    this.texts = new Array(n).fill("");
    /** True once the reply ended (done, failed or timed out). @type {boolean} */
    this.finished = false;
    this._cancel = cancel;
    /** @type {Map<number, any>} */
    this._dones = new Map();
    /** @type {any[]} */
    this._queue = [];
    /** @type {{resolve: (result: IteratorResult<any>) => void, reject: (error: Error) => void}|null} */
    this._waiter = null;
    /** @type {Error|null} */
    this._error = null;
    /** @type {(value: any) => void} */ let resolveDone = () => {};
    /** @type {(error: Error) => void} */ let rejectDone = () => {};
    /** @type {(value: any[]) => void} */ let resolveAll = () => {};
    /** @type {(error: Error) => void} */ let rejectAll = () => {};
    /** Alternative 0's `dialogue.done`, once every alternative ended. @type {Promise<any>} */
    this.done = new Promise((resolve, reject) => ((resolveDone = resolve), (rejectDone = reject)));
    /** Every alternative's `dialogue.done`, in alternative order. @type {Promise<any[]>} */
    this.allDone = new Promise((resolve, reject) => ((resolveAll = resolve), (rejectAll = reject)));
    // A game may await only one of the two (or only iterate): never an "unhandled rejection".
    this.done.catch(() => {});
    this.allDone.catch(() => {});
    this._settle = { resolveDone, rejectDone, resolveAll, rejectAll };
  }

  /** Alternative 0's text so far. @type {string} */
  get text() {
    return this.texts[0];
  }

  /**
   * Ask the server to stop the reply, every alternative (`done` then says `finish_reason: "cancelled"`).
   * @returns {boolean} False when the reply already ended or nothing could be sent.
   */
  cancel() {
    return this.finished ? false : this._cancel();
  }

  /**
   * @internal A delta arrived.
   * @param {any} delta
   */
  _onDelta(delta) {
    const alternative = delta.alternative ?? 0;
    if (alternative < this.n) this.texts[alternative] += delta.text;
    this._push(delta);
  }

  /**
   * @internal One alternative's `dialogue.done` arrived.
   * @param {any} done
   * @returns {boolean} True once every alternative ended (the stream is then over).
   */
  _onDone(done) {
    this._dones.set(done.alternative ?? 0, done);
    for (let k = 0; k < this.n; k++) if (!this._dones.has(k)) return false;
    const all = Array.from({ length: this.n }, (_, k) => this._dones.get(k));
    this.finished = true;
    this._settle.resolveDone(all[0]);
    this._settle.resolveAll(all);
    this._push(null);
    return true;
  }

  /**
   * @internal The reply failed.
   * @param {Error} error
   */
  _fail(error) {
    if (this.finished) return;
    this.finished = true;
    this._error = error;
    this._settle.rejectDone(error);
    this._settle.rejectAll(error);
    this._push(null);
  }

  /** @param {any} item A delta, or null for the end. */
  _push(item) {
    this._queue.push(item);
    if (this._waiter) {
      const waiter = this._waiter;
      this._waiter = null;
      this._next().then(waiter.resolve, waiter.reject);
    }
  }

  /** @returns {Promise<IteratorResult<any>>} The next delta, the end, or the failure. */
  _next() {
    if (this._queue.length === 0) {
      return new Promise((resolve, reject) => {
        this._waiter = { resolve, reject };
      });
    }
    const item = this._queue[0];
    if (item !== null) {
      this._queue.shift();
      return Promise.resolve({ value: item, done: false });
    }
    // The end stays queued, so every later next() ends (or fails) the same way.
    return this._error ? Promise.reject(this._error) : Promise.resolve({ value: undefined, done: true });
  }

  /** @returns {AsyncIterator<any>} */
  [Symbol.asyncIterator]() {
    return {
      next: () => this._next(),
      return: () => Promise.resolve({ value: undefined, done: true }),
    };
  }
}
