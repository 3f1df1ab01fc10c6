/**
 * Active health checks of an upstream's backends: every `intervalMs`, each backend is probed (WebSocket
 * handshake or HTTP GET); `unhealthyThreshold` failures in a row take it out of balancing and
 * `healthyThreshold` successes in a row bring it back. Backends start healthy, so that traffic flows
 * from the first moment, and a dead one is found within `unhealthyThreshold` intervals.
 * @module
 */
import type { WebSocketTlsOptions } from '../client/options.js';
import type { Backend } from './backend.js';
import type { HealthCheckConfig } from './config/types.js';
import { type ProbeResult, probe } from './health-probe.js';

/** Options of a {@link HealthChecker}. */
export interface HealthCheckerOptions {
  /** TLS settings for wss:// and https:// backends (e.g. `ca` of an internal CA). */
  tls?: WebSocketTlsOptions;
  /** Called after every probe (for logs and metrics). */
  onResult?: (backend: Backend, result: ProbeResult) => void;
}

/** Per-backend progress of the checker. */
interface Track {
  readonly backend: Backend;
  successes: number;
  failures: number;
  timer: NodeJS.Timeout | null;
}

/** The URL a check requests: the backend's origin with the check's path. */
export function checkUrl(backend: URL, path: string): URL {
  return new URL(path, backend);
}

/**
 * Probes the backends of one upstream on a timer. Probes of one backend never overlap: the next one is
 * scheduled when the previous one settled. Timers are unref'd: checks alone never keep a process alive.
 */
export class HealthChecker {
  readonly config: HealthCheckConfig;
  readonly #tracks: Track[];
  readonly #options: HealthCheckerOptions;
  #abort: AbortController | null = null;

  constructor(config: HealthCheckConfig, backends: readonly Backend[], options: HealthCheckerOptions = {}) {
    this.config = config;
    this.#options = options;
    this.#tracks = backends.map((backend) => ({ backend, successes: 0, failures: 0, timer: null }));
  }

  /** True between {@link HealthChecker.start} and {@link HealthChecker.stop}. */
  get running(): boolean {
    return this.#abort !== null;
  }

  /** Starts checking; the first probe of each backend runs at once. Does nothing when running. */
  start(): void {
    if (this.#abort !== null) return;
    const abort = new AbortController();
    this.#abort = abort;
    for (const track of this.#tracks) void this.#loop(track, abort.signal);
  }

  /** Stops checking: pending timers are cleared, probes in flight abandoned and their results ignored. */
  stop(): void {
    this.#abort?.abort();
    this.#abort = null;
    for (const track of this.#tracks) {
      if (track.timer !== null) clearTimeout(track.timer);
      track.timer = null;
    }
  }

  /**
   * Probes every backend once now and applies the results; resolves when all probes settled. These
   * probes come on top of the scheduled ones (an admin "check now", tests).
   */
  async checkNow(): Promise<void> {
    const signal = this.#abort?.signal ?? new AbortController().signal;
    await Promise.all(this.#tracks.map((track) => this.#check(track, signal)));
  }

  async #loop(track: Track, signal: AbortSignal): Promise<void> {
    await this.#check(track, signal);
    if (signal.aborted) return;
    track.timer = setTimeout(() => {
      track.timer = null;
      void this.#loop(track, signal);
    }, this.config.intervalMs);
    track.timer.unref();
  }

  async #check(track: Track, signal: AbortSignal): Promise<void> {
    const result = await probe({
      kind: this.config.kind,
      url: checkUrl(track.backend.url, this.config.path),
      timeoutMs: this.config.timeoutMs,
      signal,
      tls: this.#options.tls,
    });
    if (signal.aborted) return;
    this.#apply(track, result.ok);
    this.#options.onResult?.(track.backend, result);
  }

  #apply(track: Track, ok: boolean): void {
    if (ok) {
      track.successes++;
      track.failures = 0;
      if (track.successes >= this.config.healthyThreshold) track.backend.setHealthy(true);
    } else {
      track.failures++;
      track.successes = 0;
      if (track.failures >= this.config.unhealthyThreshold) track.backend.setHealthy(false);
    }
  }
}
