/**
 * A minimal event emitter (no dependency on DOM `EventTarget` or Node's `events`).
 * @module gameai-client/emitter
 */

/** Listeners by event name; a listener that throws is reported and does not stop the others. */
export class Emitter {
  constructor() {
    /** @type {Map<string, Set<(value: any) => void>>} */
    this._listeners = new Map();
  }

  /**
   * Listen to an event.
   * @param {string} type
   * @param {(value: any) => void} listener
   * @returns {() => void} A function that removes the listener.
   */
  on(type, listener) {
    let set = this._listeners.get(type);
    if (!set) this._listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => this.off(type, listener);
  }

  /**
   * Stop listening.
   * @param {string} type
   * @param {(value: any) => void} listener
   */
  off(type, listener) {
    this._listeners.get(type)?.delete(listener);
  }

  /**
   * Call every listener of `type` with `value`.
   * @param {string} type
   * @param {any} value
   */
  emit(type, value) {
    const set = this._listeners.get(type);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(value);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}
