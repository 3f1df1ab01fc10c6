/**
 * A small typed event emitter that runs in browsers and Node alike (node:events is not available in
 * browsers, and EventTarget would wrap every payload in an Event object).
 * @module
 */

/** A listener of event `K` of an event map `E`. */
export type Listener<E, K extends keyof E> = (payload: E[K]) => void;

/**
 * Rethrows a listener's exception outside the emitting call stack: the emitter's own bookkeeping
 * finishes, and the error still surfaces (as an uncaught exception) as it would with EventTarget.
 */
export function reportListenerError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/** Emits events of map `E` (event name → payload type) to listeners added with `on` / `once`. */
export class Emitter<E> {
  readonly #listeners = new Map<keyof E, Set<Listener<E, keyof E>>>();

  /** Adds a listener (once per function, as with addEventListener). */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<E, keyof E>);
    return this;
  }

  /** Removes a listener added with `on` (a listener added with `once` is removed by its return value). */
  off<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    const set = this.#listeners.get(event);
    set?.delete(listener as Listener<E, keyof E>);
    if (set?.size === 0) this.#listeners.delete(event);
    return this;
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    const wrapper: Listener<E, K> = (payload) => {
      this.off(event, wrapper);
      listener(payload);
    };
    this.on(event, wrapper);
    return () => this.off(event, wrapper);
  }

  /** Number of listeners of `event`. */
  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event`; a throwing listener does not stop the others. */
  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    // A copy: listeners may add or remove listeners while being called.
    for (const listener of [...set]) {
      try {
        listener(payload);
      } catch (error) {
        reportListenerError(error);
      }
    }
  }
}
