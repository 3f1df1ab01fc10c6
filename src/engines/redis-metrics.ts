/**
 * What an engine counts: publishes, failed publishes, reconnects to its backend, and how long it was
 * unavailable. Kept as plain numbers (readable through `engine.metrics`) and, when a prom-client registry
 * is given, reported from them at scrape time, labelled with the engine's name.
 * @module
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { Tally } from '../observability/metric-types.js';

/** A point-in-time copy of an engine's counts. */
export interface EngineMetricsSnapshot {
  /** Publications accepted (duplicates included). */
  publishes: number;
  /** Publishes that failed (backend unavailable, timeout, error). */
  publishErrors: number;
  /** Times a backend connection came back after being lost. */
  reconnects: number;
  /** Whether the backend is usable now. */
  available: boolean;
  /** Total seconds the engine spent unavailable since it started (the current outage included). */
  degradedSeconds: number;
}

/** An engine's counters. */
export class EngineMetrics {
  readonly publishes = new Tally();
  readonly publishErrors = new Tally();
  readonly reconnects = new Tally();
  private isAvailable = false;
  private downSince: number | null = null;
  private degradedMs = 0;

  /** Records a change of availability. */
  setAvailable(available: boolean, now = Date.now()): void {
    if (available === this.isAvailable) return;
    this.isAvailable = available;
    if (!available) this.downSince = now;
    else if (this.downSince !== null) {
      this.degradedMs += now - this.downSince;
      this.downSince = null;
    }
  }

  /** Seconds spent unavailable, the current outage included. */
  degradedSeconds(now = Date.now()): number {
    const ongoing = this.downSince === null ? 0 : now - this.downSince;
    return (this.degradedMs + ongoing) / 1000;
  }

  /** A copy of the counts. */
  snapshot(): EngineMetricsSnapshot {
    return {
      publishes: this.publishes.value,
      publishErrors: this.publishErrors.value,
      reconnects: this.reconnects.value,
      available: this.isAvailable,
      degradedSeconds: this.degradedSeconds(),
    };
  }

  /**
   * Registers `<prefix>engine_publishes_total`, `…_publish_errors_total`, `…_reconnects_total`,
   * `…_degraded_seconds_total` and the gauge `<prefix>engine_available` (1 or 0) on `registry`, each with
   * the label `engine`.
   */
  register(registry: Registry, engine: string, prefix = 'conduit_'): void {
    const labels = { engine };
    const counter = (name: string, help: string, read: () => number): void => {
      let reported = 0;
      new Counter({
        name: `${prefix}engine_${name}`,
        help,
        labelNames: ['engine'],
        registers: [registry],
        collect(this: Counter<string>) {
          const value = read();
          this.inc(labels, Math.max(0, value - reported));
          reported = value;
        },
      });
    };
    counter('publishes_total', 'Publications the engine accepted', () => this.publishes.value);
    counter('publish_errors_total', 'Publishes that failed', () => this.publishErrors.value);
    counter('reconnects_total', 'Backend connections restored after a loss', () => this.reconnects.value);
    counter('degraded_seconds_total', 'Seconds the engine was unavailable', () => this.degradedSeconds());
    const metrics = this;
    new Gauge({
      name: `${prefix}engine_available`,
      help: '1 while the engine backend is usable, else 0',
      labelNames: ['engine'],
      registers: [registry],
      collect(this: Gauge<string>) {
        this.set(labels, metrics.isAvailable ? 1 : 0);
      },
    });
  }
}
