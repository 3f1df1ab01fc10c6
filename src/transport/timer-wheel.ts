/**
 * One hashed timer wheel per process for every connection timeout (handshake, close, idle, heartbeat).
 * A single interval ticks at a coarse resolution; scheduling and cancelling are O(1) list operations on
 * fields stored in the entry itself, so a connection costs no timer object and no closure.
 * @module
 */
import { performance } from 'node:perf_hooks';

/**
 * Something that can be scheduled on a {@link TimerWheel}. The `wheel*` fields belong to the wheel:
 * initialise them with {@link initWheelEntry} (or `null`/`-1`/`0`) and never touch them afterwards.
 */
export interface WheelEntry {
  wheelNext: WheelEntry | null;
  wheelPrev: WheelEntry | null;
  /** Slot index while scheduled, {@link UNSCHEDULED} otherwise, {@link FIRING} while due in this tick. */
  wheelSlot: number;
  /** Full turns of the wheel still to wait before the entry is due. */
  wheelRounds: number;
  /** Called once the deadline passed (never earlier, at most one resolution later). */
  onTimeout(): void;
}

/** `wheelSlot` of an entry that is not scheduled. */
export const UNSCHEDULED = -1;
/** `wheelSlot` of an entry taken out of its slot because it is due in the tick being run. */
const FIRING = -2;

/** Sets the bookkeeping fields of a new entry. */
export function initWheelEntry(entry: WheelEntry): void {
  entry.wheelNext = null;
  entry.wheelPrev = null;
  entry.wheelSlot = UNSCHEDULED;
  entry.wheelRounds = 0;
}

/** Options of a {@link TimerWheel}. */
export interface TimerWheelOptions {
  /** Milliseconds between ticks; deadlines are rounded up to it. Default 250. */
  resolution?: number;
  /** Number of slots; a turn of the wheel lasts `slots * resolution` ms. Default 512 (128 s). */
  slots?: number;
  /** Monotonic clock in ms. Default `performance.now`. */
  clock?: () => number;
  /** Drive the wheel by calling {@link TimerWheel.advance} instead of a real interval (tests). */
  manual?: boolean;
}

/** A hashed timing wheel: O(1) schedule and cancel, one interval for any number of entries. */
export class TimerWheel {
  readonly resolution: number;
  /** The clock reading of the last tick (coarse: stale by at most one resolution while running). */
  now: number;
  private readonly slots: (WheelEntry | null)[];
  private readonly clock: () => number;
  private readonly manual: boolean;
  private readonly due: WheelEntry[] = [];
  private cursor = 0;
  private count = 0;
  /** Clock reading at which the tick after `cursor` is due. */
  private nextTickAt = 0;
  private interval: ReturnType<typeof setInterval> | null = null;
  private readonly onInterval = (): void => this.advance();

  constructor(options: TimerWheelOptions = {}) {
    this.resolution = options.resolution ?? 250;
    if (!(this.resolution > 0)) throw new RangeError('resolution must be positive');
    const size = options.slots ?? 512;
    if (!Number.isInteger(size) || size < 1) throw new RangeError('slots must be a positive integer');
    this.slots = new Array<WheelEntry | null>(size).fill(null);
    this.clock = options.clock ?? performance.now.bind(performance);
    this.manual = options.manual ?? false;
    this.now = this.clock();
    this.nextTickAt = this.now + this.resolution;
  }

  /**
   * The current time: the last tick's reading while the wheel runs (cheap, coarse), a fresh clock reading
   * while it is stopped (when `now` may be arbitrarily old).
   */
  time(): number {
    if (this.interval === null) this.now = this.clock();
    return this.now;
  }

  /** Number of scheduled entries. */
  get size(): number {
    return this.count;
  }

  /** Schedules `entry` to time out after `delay` ms (replacing its previous deadline, if any). */
  schedule(entry: WheelEntry, delay: number): void {
    this.cancel(entry);
    if (this.count === 0) this.start();
    const size = this.slots.length;
    // Slot `cursor + k` runs k ticks after the last tick; pick the first one at or after the deadline.
    const sinceLastTick = this.clock() - (this.nextTickAt - this.resolution);
    const ticks = Math.max(1, Math.ceil((delay + sinceLastTick) / this.resolution));
    const slot = (this.cursor + ticks) % size;
    entry.wheelRounds = Math.floor((ticks - 1) / size);
    entry.wheelSlot = slot;
    entry.wheelPrev = null;
    const head = this.slots[slot]!;
    entry.wheelNext = head;
    if (head !== null) head.wheelPrev = entry;
    this.slots[slot] = entry;
    this.count++;
  }

  /** Cancels the deadline of `entry`, if it has one. */
  cancel(entry: WheelEntry): void {
    const slot = entry.wheelSlot;
    if (slot === UNSCHEDULED) return;
    entry.wheelSlot = UNSCHEDULED;
    if (slot === FIRING) return;
    const { wheelPrev: prev, wheelNext: next } = entry;
    if (prev === null) this.slots[slot] = next;
    else prev.wheelNext = next;
    if (next !== null) next.wheelPrev = prev;
    entry.wheelNext = null;
    entry.wheelPrev = null;
    this.count--;
    if (this.count === 0) this.stop();
  }

  /** True while `entry` has a deadline. */
  isScheduled(entry: WheelEntry): boolean {
    return entry.wheelSlot !== UNSCHEDULED;
  }

  /**
   * Runs every tick whose time has come by the clock (catching up after a blocked event loop). Called by
   * the interval; call it yourself with a manual wheel.
   */
  advance(): void {
    const now = this.clock();
    while (this.nextTickAt <= now) {
      this.now = this.nextTickAt;
      this.nextTickAt += this.resolution;
      this.cursor = (this.cursor + 1) % this.slots.length;
      this.runSlot(this.cursor);
    }
    this.now = now;
  }

  private runSlot(index: number): void {
    const due = this.due;
    let entry: WheelEntry | null = this.slots[index] ?? null;
    // First unlink what is due, then fire: a callback may schedule or cancel any entry, this slot's included.
    while (entry !== null) {
      const next = entry.wheelNext;
      if (entry.wheelRounds > 0) {
        entry.wheelRounds--;
      } else {
        if (entry.wheelPrev === null) this.slots[index] = next;
        else entry.wheelPrev.wheelNext = next;
        if (next !== null) next.wheelPrev = entry.wheelPrev;
        entry.wheelNext = null;
        entry.wheelPrev = null;
        entry.wheelSlot = FIRING;
        this.count--;
        due.push(entry);
      }
      entry = next;
    }
    for (let i = 0; i < due.length; i++) {
      const fired = due[i]!;
      if (fired.wheelSlot !== FIRING) continue; // cancelled or rescheduled by an earlier callback
      fired.wheelSlot = UNSCHEDULED;
      fired.onTimeout();
    }
    due.length = 0;
    if (this.count === 0) this.stop();
  }

  private start(): void {
    if (this.manual || this.interval !== null) return;
    // Restarting after an idle period: realign the tick schedule with the clock.
    this.now = this.clock();
    this.nextTickAt = this.now + this.resolution;
    this.interval = setInterval(this.onInterval, this.resolution);
    // Timeouts alone never keep the process alive; open sockets do.
    this.interval.unref();
  }

  private stop(): void {
    if (this.interval === null) return;
    clearInterval(this.interval);
    this.interval = null;
  }
}

let shared: TimerWheel | null = null;

/** The process-wide wheel used by every connection (250 ms resolution). */
export function sharedTimerWheel(): TimerWheel {
  shared ??= new TimerWheel();
  return shared;
}
