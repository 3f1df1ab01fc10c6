/**
 * The restart budget of the cluster primary: a worker that dies is replaced at once, but a worker that
 * keeps dying (a crash at every start, a poison message) must not turn the primary into a fork loop that
 * eats the machine. At most `max` restarts start within any `windowMs`; later ones wait their turn.
 * @module
 */

/** Books restarts and says how long each must wait. */
export class RestartBudget {
  /** Start times of the restarts booked in the last window (some may lie in the future). */
  private readonly starts: number[] = [];

  /**
   * @param max Restarts allowed within any window (at least 1).
   * @param windowMs The window, in milliseconds.
   */
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {
    if (!(max >= 1) || !(windowMs > 0)) throw new RangeError('RestartBudget needs max >= 1 and windowMs > 0');
  }

  /** Books one restart; returns how many milliseconds from `now` it must wait (0: at once). */
  book(now: number = Date.now()): number {
    while (this.starts.length > 0 && now - this.starts[0]! >= this.windowMs) this.starts.shift();
    // The restart `max` places back must have left the window before this one may start.
    const blocker = this.starts.length >= this.max ? this.starts[this.starts.length - this.max]! : null;
    const start = blocker === null ? now : Math.max(now, blocker + this.windowMs);
    this.starts.push(start);
    return start - now;
  }
}
