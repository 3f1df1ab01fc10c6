/**
 * The runtime state of one backend server: whether active health checks consider it up, whether passive
 * ejection has taken it out for a while, and how many proxied connections it carries. Balancers read
 * this state; the proxy core and the health checker write it.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { BackendConfig, PassiveHealthConfig } from './config/types.js';

/** `healthy`: may take connections; `unhealthy`: failed active checks; `ejected`: failed real upgrades. */
export type BackendState = 'healthy' | 'unhealthy' | 'ejected';

/** A point-in-time view of a backend, for /status and logs. */
export interface BackendStatus {
  url: string;
  weight: number;
  state: BackendState;
  activeConnections: number;
  /** Failed upgrades in a row (passive health). */
  consecutiveFailures: number;
  /** Wall-clock time (ms since the epoch) the current ejection ends; null when not ejected. */
  ejectedUntil: number | null;
}

/** Ejection time doubles with each ejection in a row, up to this factor. */
const MAX_EJECTION_FACTOR = 8;

/**
 * One backend of an upstream. Events: `state` (state, previous) whenever {@link Backend.state} changes.
 *
 * A backend object may outlive a configuration reload: when the new configuration keeps the same URL
 * in the same upstream, the same object is reused ({@link Backend.reconfigure}), so connection counts
 * and health carry over and connections opened before the reload release the right counter.
 */
export class Backend extends EventEmitter<{ state: [state: BackendState, previous: BackendState] }> {
  /** The backend's URL; its `href` identifies the backend (and places it on hash rings). */
  readonly url: URL;
  #config: BackendConfig;
  #weight: number;
  #passive: PassiveHealthConfig;
  #healthy = true;
  #ejectionTimer: NodeJS.Timeout | null = null;
  #ejectedUntil: number | null = null;
  #ejections = 0;
  #failures = 0;
  #active = 0;

  constructor(config: BackendConfig, passive: PassiveHealthConfig) {
    super();
    this.url = config.url;
    this.#config = config;
    this.#weight = config.weight;
    this.#passive = passive;
  }

  /** `url.href`: the identity of the backend. */
  get key(): string {
    return this.url.href;
  }

  /** The configuration it was built (or last reconfigured) from. */
  get config(): BackendConfig {
    return this.#config;
  }

  /** Relative weight (weighted balancing, hash ring share). */
  get weight(): number {
    return this.#weight;
  }

  /** Where the backend stands; only `healthy` backends are picked. */
  get state(): BackendState {
    if (this.#ejectionTimer !== null) return 'ejected';
    return this.#healthy ? 'healthy' : 'unhealthy';
  }

  /** True when balancers may pick it. */
  get available(): boolean {
    return this.#healthy && this.#ejectionTimer === null;
  }

  /** Connections currently proxied to it (including upgrades in progress). */
  get activeConnections(): number {
    return this.#active;
  }

  /**
   * Counts one connection (call it as soon as the backend is picked, before connecting, so that
   * concurrent upgrades see it). Returns the release function; calling it more than once is harmless.
   */
  acquire(): () => void {
    this.#active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active--;
    };
  }

  /** A successful upgrade: clears the passive failure count and the ejection back-off. */
  reportSuccess(): void {
    this.#failures = 0;
    this.#ejections = 0;
  }

  /** A failed upgrade (connect error, timeout, 5xx): may eject the backend (passive health). */
  reportFailure(): void {
    const limit = this.#passive.consecutiveFailures;
    if (limit === 0 || this.#ejectionTimer !== null) return;
    this.#failures++;
    if (this.#failures >= limit) this.#eject();
  }

  /** The active health checker's verdict. */
  setHealthy(healthy: boolean): void {
    if (healthy === this.#healthy) return;
    const previous = this.state;
    this.#healthy = healthy;
    this.#changed(previous);
  }

  /** Applies a reloaded configuration of the same backend (same URL). */
  reconfigure(config: BackendConfig, passive: PassiveHealthConfig): void {
    this.#config = config;
    this.#weight = config.weight;
    this.#passive = passive;
  }

  /** The state as plain data. */
  status(): BackendStatus {
    return {
      url: this.url.href,
      weight: this.#weight,
      state: this.state,
      activeConnections: this.#active,
      consecutiveFailures: this.#failures,
      ejectedUntil: this.#ejectedUntil,
    };
  }

  /** Ends a pending ejection timer (the backend left the configuration). */
  dispose(): void {
    if (this.#ejectionTimer !== null) clearTimeout(this.#ejectionTimer);
    this.#ejectionTimer = null;
    this.#ejectedUntil = null;
  }

  #eject(): void {
    const previous = this.state;
    this.#ejections++;
    const factor = Math.min(2 ** (this.#ejections - 1), MAX_EJECTION_FACTOR);
    const ms = this.#passive.ejectionMs * factor;
    this.#ejectedUntil = Date.now() + ms;
    this.#ejectionTimer = setTimeout(() => this.#readmit(), ms);
    // An ejection must not keep the process alive on its own.
    this.#ejectionTimer.unref();
    this.#changed(previous);
  }

  #readmit(): void {
    const previous = this.state;
    this.#ejectionTimer = null;
    this.#ejectedUntil = null;
    // On probation: one more failure ejects it again (for longer); a success clears the count.
    this.#failures = Math.max(0, this.#passive.consecutiveFailures - 1);
    this.#changed(previous);
  }

  #changed(previous: BackendState): void {
    const state = this.state;
    if (state !== previous) this.emit('state', state, previous);
  }
}
