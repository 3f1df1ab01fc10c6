/**
 * Per-message policies of a pair: the client's message rate (a token bucket with one second's worth of
 * burst) and the shape of the optional validation hook.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Direction } from './stats.js';

/**
 * What the validation hook decides about one message: `true` forwards it, `false` drops it silently,
 * `{ close }` closes the sending side with that code (and the other side with 1001 when the client
 * sent it, 1011 when the backend did).
 */
export type ValidationResult = boolean | { close: number; reason?: string };

/**
 * Checks a message before it is forwarded. `message` is a view of the received bytes: read it during
 * the call, do not keep it. Keep it cheap: it runs for every message. `compressed` is true when
 * `message` is the still-compressed payload of a message passed through untouched (a `passthrough`
 * connection without `PairOptions.inflateForValidation`); its size is then the wire size.
 */
export type MessageValidator = (
  message: Buffer,
  direction: Direction,
  isBinary: boolean,
  compressed: boolean,
) => ValidationResult;

/**
 * A token bucket refilled at `perSecond` tokens per second, holding at most `perSecond` (one second's
 * burst). One token per message; time is read from the caller (the timer wheel's coarse clock).
 */
export class MessageRate {
  private readonly perMs: number;
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  constructor(perSecond: number, now: number) {
    this.capacity = perSecond;
    this.perMs = perSecond / 1000;
    this.tokens = perSecond;
    this.last = now;
  }

  /** Takes a token; false when the bucket is empty (the message is over the rate). */
  take(now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.perMs);
      this.last = now;
    }
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
