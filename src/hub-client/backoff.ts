/**
 * Reconnect delays: exponential growth, capped, with jitter so that many clients dropped at the same
 * moment (a hub restart) do not all come back at the same moment.
 * @module
 */

/** Reconnect policy of a {@link HubClient}; every field is optional. */
export interface ReconnectOptions {
  /** Delay before the first reconnect attempt, in ms. Default 250. */
  initialDelayMs?: number;
  /** Largest delay, in ms. Default 10 000. */
  maxDelayMs?: number;
  /** Each failed attempt multiplies the delay by this (>= 1). Default 2. */
  factor?: number;
  /**
   * Fraction of the delay that is random, 0–1: a delay `d` becomes a value in `[d * (1 - jitter), d]`.
   * Default 0.5.
   */
  jitter?: number;
  /** Failed attempts in a row before the client gives up (state `closed`). Default Infinity. */
  maxRetries?: number;
}

/** A {@link ReconnectOptions} with every default filled in. */
export type ReconnectConfig = Readonly<Required<ReconnectOptions>>;

function checkNumber(name: string, value: number, min: number, max = Infinity): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new RangeError(`reconnect.${name} must be a number in [${min}, ${max}]`);
  }
  return value;
}

/** Validates a reconnect policy and fills in the defaults; throws a RangeError for invalid values. */
export function resolveReconnect(options: ReconnectOptions = {}): ReconnectConfig {
  const initialDelayMs = checkNumber('initialDelayMs', options.initialDelayMs ?? 250, 0);
  return {
    initialDelayMs,
    maxDelayMs: checkNumber('maxDelayMs', options.maxDelayMs ?? 10_000, initialDelayMs),
    factor: checkNumber('factor', options.factor ?? 2, 1),
    jitter: checkNumber('jitter', options.jitter ?? 0.5, 0, 1),
    maxRetries: checkNumber('maxRetries', options.maxRetries ?? Infinity, 0),
  };
}

/** Counts failed attempts in a row and gives the delay before the next one. */
export class Backoff {
  #failures = 0;

  /** `random` returns a number in [0, 1) (Math.random by default; tests inject their own). */
  constructor(
    private readonly config: ReconnectConfig,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failed attempts since the last success. */
  get failures(): number {
    return this.#failures;
  }

  /** Records a failure; returns the delay before the next attempt, or null once `maxRetries` is spent. */
  next(): number | null {
    if (this.#failures >= this.config.maxRetries) return null;
    const { initialDelayMs, maxDelayMs, factor, jitter } = this.config;
    // factor ** n overflows to Infinity for large n, which the cap turns back into maxDelayMs.
    const base = Math.min(maxDelayMs, initialDelayMs * factor ** this.#failures);
    this.#failures++;
    return Math.round(base * (1 - jitter * this.random()));
  }

  /** Forgets the failures (after a successful connection). */
  reset(): void {
    this.#failures = 0;
  }
}
