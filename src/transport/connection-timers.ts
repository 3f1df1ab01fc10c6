/**
 * The timers of one connection, folded into a single entry of the shared {@link TimerWheel}: while open,
 * the earliest of heartbeat, idle timeout and idle-extension release; once closing, the close timeout.
 * Activity is recorded with one store per message and never reschedules anything on the hot path: the
 * timer checks it lazily when it fires.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { CloseCode } from '../protocol/constants.js';
import type { TransportErrorCode } from './errors.js';
import type { TransportConfig } from './options.js';
import type { ReleasableExtension } from './releasable.js';
import { UNSCHEDULED, type WheelEntry } from './timer-wheel.js';

/** Base class of a transport: heartbeat, idle timeout, close timeout and idle-context release. */
export abstract class ConnectionTimers implements WheelEntry {
  /** Round-trip time of the last answered heartbeat ping, in ms; -1 until one is answered. */
  rtt = -1;
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;

  protected readonly config: TransportConfig;
  /**
   * Wheel time (ms, `performance.now` clock, coarse) of the last data message sent or received. Read it,
   * never write it, from outside the transport (e.g. to find the idlest connections).
   */
  lastActivity = 0;
  private readonly releasable: ReleasableExtension[] | null;
  private awaitingPong = false;
  private pingSentAt = 0;
  private nextPingAt = 0;
  /** `lastActivity` when idle extension contexts were last released. */
  private releasedFor = -1;

  constructor(config: TransportConfig, releasable: ReleasableExtension[] | null) {
    this.config = config;
    this.releasable = releasable;
  }

  /** True while the connection is open (no close frame sent or received). */
  protected abstract isOpen(): boolean;
  /** True while reading is paused because our own send buffer is full. */
  protected abstract isBackpressured(): boolean;
  /** Sends a heartbeat ping. */
  protected abstract sendPing(): void;
  /** The peer missed a heartbeat: terminate the connection and report `code`. */
  protected abstract heartbeatMissed(code: TransportErrorCode): void;
  /** Idle timeout: close with `closeCode` and report `code`. */
  protected abstract idleTimedOut(code: TransportErrorCode, closeCode: number, reason: string): void;
  /** The peer did not finish the closing handshake in time: destroy the socket. */
  protected abstract closeTimedOut(): void;

  /** Starts the open-state timers; call when the connection starts. */
  protected startTimers(): void {
    const now = this.config.wheel.time();
    this.lastActivity = now;
    this.nextPingAt = now + this.config.heartbeatInterval;
    // The application may have closed the connection already: keep its close timer then.
    if (this.isOpen()) this.scheduleOpenTimer(now);
  }

  /** Replaces the open-state timers with the close timeout. */
  protected armCloseTimeout(): void {
    this.config.wheel.schedule(this, this.config.closeTimeout);
  }

  protected cancelTimers(): void {
    this.config.wheel.cancel(this);
  }

  /** Records a pong: it answers the outstanding heartbeat, if any. True when it did (`rtt` is new). */
  protected pongReceived(): boolean {
    if (!this.awaitingPong) return false;
    this.awaitingPong = false;
    this.rtt = performance.now() - this.pingSentAt;
    return true;
  }

  /** @internal Timer wheel callback. */
  onTimeout(): void {
    if (!this.isOpen()) {
      this.closeTimedOut();
      return;
    }
    const config = this.config;
    const now = config.wheel.now;
    if (config.idleTimeout > 0 && now - this.lastActivity >= config.idleTimeout) {
      this.idleTimedOut('ERR_IDLE_TIMEOUT', CloseCode.GOING_AWAY, 'idle timeout');
      return;
    }
    if (config.heartbeatInterval > 0 && now >= this.nextPingAt && !this.heartbeat(now)) return;
    this.releaseIdleContexts(now);
    this.scheduleOpenTimer(now);
  }

  /** Sends the next heartbeat ping; returns false when the previous one went unanswered. */
  private heartbeat(now: number): boolean {
    // A peer we stopped reading from cannot be judged by its pong: it may be queued behind our pause.
    if (this.awaitingPong && !this.isBackpressured()) {
      this.heartbeatMissed('ERR_HEARTBEAT_TIMEOUT');
      return false;
    }
    this.awaitingPong = true;
    this.pingSentAt = performance.now();
    this.nextPingAt = now + this.config.heartbeatInterval;
    this.sendPing();
    return true;
  }

  /** Releases idle zlib contexts once per quiet period (after the shortest extension idle time). */
  private releaseIdleContexts(now: number): void {
    const releasable = this.releasable;
    if (releasable === null || this.lastActivity === this.releasedFor) return;
    if (now - this.lastActivity < releasable[0]!.idleTimeoutMs) return;
    for (const extension of releasable) extension.releaseIdle();
    this.releasedFor = this.lastActivity;
  }

  private scheduleOpenTimer(now: number): void {
    const config = this.config;
    let due = Number.POSITIVE_INFINITY;
    if (config.idleTimeout > 0) due = this.lastActivity + config.idleTimeout;
    if (config.heartbeatInterval > 0) due = Math.min(due, this.nextPingAt);
    const releasable = this.releasable;
    if (releasable !== null) {
      // Keep checking after a release too: activity is recorded, never rescheduled, on the hot path.
      const idleMs = releasable[0]!.idleTimeoutMs;
      due = Math.min(due, this.lastActivity !== this.releasedFor ? this.lastActivity + idleMs : now + idleMs);
    }
    if (due !== Number.POSITIVE_INFINITY) config.wheel.schedule(this, Math.max(0, due - now));
  }
}
