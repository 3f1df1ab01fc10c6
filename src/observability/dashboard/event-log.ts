/**
 * The "recent problems" of a dashboard: a bounded list of events, most of them derived from counter
 * growth between two samples. Counters rather than log lines: they are what the server already records,
 * in every process, at no extra cost on the paths that fail. The first reading after someone starts
 * watching is a baseline: what happened before is not news, and must not be dated at the moment someone
 * looked.
 * @module
 */
import type { DashboardEvent } from './dashboard-types.js';

/** Events of one dashboard, newest last inside, newest first out. */
export class EventLog {
  private readonly events: DashboardEvent[] = [];
  /** Last value seen per counter series. */
  private readonly seen = new Map<string, number>();
  private baseline = true;

  /** Keeps the last `limit` events. */
  constructor(private readonly limit = 20) {}

  /**
   * How much counter series `key` grew since the previous reading (0 during a baseline reading, when it
   * did not grow, or when it went back: a restart of the counter is not an event).
   */
  growth(key: string, value: number): number {
    const before = this.seen.get(key) ?? 0;
    this.seen.set(key, value);
    const count = value - before;
    return this.baseline || count <= 0 ? 0 : count;
  }

  /** True while the current reading is a baseline (events of state changes are not news either). */
  get inBaseline(): boolean {
    return this.baseline;
  }

  /** Records an event, dropping the oldest beyond the limit. */
  push(event: DashboardEvent): void {
    this.events.push(event);
    if (this.events.length > this.limit) this.events.shift();
  }

  /** Ends a reading: the next one is compared with it. */
  endReading(): void {
    this.baseline = false;
  }

  /** Makes the next reading a baseline (watching starts again after nobody watched). */
  rebase(): void {
    this.baseline = true;
  }

  /** The recorded events, newest first. */
  list(): DashboardEvent[] {
    return [...this.events].reverse();
  }
}
