/**
 * The timers of one pair, as a single entry of the shared timer wheel: the idle timeout (no message in
 * either direction) and the heartbeat towards the client. The backend's heartbeat is its transport's own.
 * Activity costs one store per message; nothing is rescheduled on the hot path (the entry checks the
 * time of the last message lazily when it fires).
 * @module
 */
import { performance } from 'node:perf_hooks';
import { type TimerWheel, UNSCHEDULED, type WheelEntry } from '../../transport/timer-wheel.js';

/** What the clock acts on. */
export interface PairClockHost {
  /** Wheel time of the last message forwarded either way. */
  readonly lastActivity: number;
  /** True while the pair relays (timers stop once it starts closing). */
  readonly relaying: boolean;
  /** True while the client does not read (its pong may be queued behind our frames). */
  readonly clientBackpressured: boolean;
  idleTimedOut(): void;
  /** Sends a heartbeat ping to the client. */
  pingClient(): void;
  /** The client did not answer the previous ping within one interval. */
  heartbeatMissed(): void;
}

/** Idle timeout and client heartbeat of one pair. */
export class PairClock implements WheelEntry {
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  /** Round-trip time of the client's last heartbeat, ms; -1 until one was answered. */
  rtt = -1;
  private awaitingPong = false;
  private pingSentAt = 0;
  private nextPingAt = 0;

  constructor(
    private readonly host: PairClockHost,
    private readonly wheel: TimerWheel,
    private readonly idleMs: number,
    private readonly pingMs: number,
  ) {}

  /** Starts the timers (nothing is scheduled when both are disabled). */
  start(): void {
    const now = this.wheel.time();
    this.nextPingAt = now + this.pingMs;
    this.schedule(now);
  }

  stop(): void {
    this.wheel.cancel(this);
  }

  /** The client answered: the outstanding heartbeat, if any, is settled. */
  pongReceived(): void {
    if (!this.awaitingPong) return;
    this.awaitingPong = false;
    this.rtt = performance.now() - this.pingSentAt;
  }

  /** @internal Timer wheel callback. */
  onTimeout(): void {
    const host = this.host;
    if (!host.relaying) return;
    const now = this.wheel.now;
    if (this.idleMs > 0 && now - host.lastActivity >= this.idleMs) {
      host.idleTimedOut();
      return;
    }
    if (this.pingMs > 0 && now >= this.nextPingAt) {
      if (this.awaitingPong && !host.clientBackpressured) {
        host.heartbeatMissed();
        return;
      }
      this.awaitingPong = true;
      this.pingSentAt = performance.now();
      this.nextPingAt = now + this.pingMs;
      host.pingClient();
    }
    this.schedule(now);
  }

  private schedule(now: number): void {
    let due = Number.POSITIVE_INFINITY;
    if (this.idleMs > 0) due = this.host.lastActivity + this.idleMs;
    if (this.pingMs > 0) due = Math.min(due, this.nextPingAt);
    if (due !== Number.POSITIVE_INFINITY) this.wheel.schedule(this, Math.max(0, due - now));
  }
}
