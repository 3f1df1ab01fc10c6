/**
 * The "recent errors" of the gateway's dashboard, from what changed between two samples: refused
 * upgrades and abnormal closes (counter growth), backends leaving or rejoining the rotation, reloads,
 * the start of a drain. The first sample after someone starts watching is a baseline; growth, baselines
 * and the bounded list are the shared {@link CounterEvents}'.
 * @module
 */
import { closeMeaning } from '../observability/dashboard/close-codes.js';
import { CounterEvents, plural } from '../observability/dashboard/counter-events.js';
import type { MetricPoint, MetricReading } from '../observability/dashboard/metric-reading.js';
import type { BackendState } from './backend.js';
import { CLOSES_METRIC, UPGRADES_METRIC } from './gateway-dashboard-sections.js';
import { NO_ROUTE } from './gateway-metrics.js';
import type { GatewayStatus } from './gateway-status.js';

/** A reload error is shown up to this many characters (the full text is in /status and the log). */
const MAX_ERROR_TEXT = 300;

/** Why a backend is out of the rotation, in words. */
const LEFT_BECAUSE: Readonly<Record<Exclude<BackendState, 'healthy'>, string>> = {
  unhealthy: 'failed its health checks',
  ejected: 'was ejected after failed upgrades',
};

function refusalText(count: number, point: MetricPoint): string {
  const upgrades = plural(count, 'upgrade', 'upgrades');
  if (point.labels.route === NO_ROUTE) return `${upgrades} matched no route (404)`;
  return `${upgrades} refused on route ${point.labels.route}: ${point.labels.status}`;
}

function closeText(count: number, point: MetricPoint): string {
  const code = String(point.labels.code);
  const side = point.labels.side === 'upstream' ? 'by the backend side' : 'by the client side';
  return `${plural(count, 'connection', 'connections')} of route ${point.labels.route} ended with ${code} (${closeMeaning(code)}) ${side}`;
}

/** Turns what changed between samples into events and keeps the last `limit` of them. */
export class GatewayEvents extends CounterEvents {
  /** State of each backend at the previous sample, by upstream and URL. */
  private backends = new Map<string, BackendState>();
  private draining = false;

  /** Compares a sample with the previous one and records what changed. */
  observe(reading: MetricReading, status: GatewayStatus, time: number): void {
    this.grewEach(reading, UPGRADES_METRIC, time, refusalText, (point) => point.labels.status !== '101');
    this.abnormalCloses(reading, CLOSES_METRIC, time, closeText);
    this.reloads(status, time);
    this.backendChanges(status, time);
    if (status.draining && !this.draining && !this.log.inBaseline) {
      this.log.push({ time, level: 'warn', text: 'Draining: new connections are refused' });
    }
    this.draining = status.draining;
    this.log.endReading();
  }

  private reloads(status: GatewayStatus, time: number): void {
    const { ok, failed, lastError } = status.reloads;
    if (this.log.growth('reloads:ok', ok) > 0) {
      this.log.push({ time, level: 'info', text: 'Configuration reloaded' });
    }
    if (this.log.growth('reloads:failed', failed) > 0) {
      const error = (lastError ?? 'unknown error').slice(0, MAX_ERROR_TEXT);
      this.log.push({
        time,
        level: 'error',
        text: `Reload refused, the old configuration serves on: ${error}`,
      });
    }
  }

  private backendChanges(status: GatewayStatus, time: number): void {
    const states = new Map<string, BackendState>();
    for (const upstream of status.upstreams) {
      for (const backend of upstream.backends) {
        const key = `${upstream.name} ${backend.url}`;
        states.set(key, backend.state);
        const before = this.backends.get(key);
        // A backend new to the configuration, or the first sample: nothing changed that anyone saw.
        if (before === undefined || before === backend.state || this.log.inBaseline) continue;
        const where = `Backend ${backend.url} of upstream ${upstream.name}`;
        if (backend.state === 'healthy') this.log.push({ time, level: 'info', text: `${where} is back` });
        else this.log.push({ time, level: 'error', text: `${where} ${LEFT_BECAUSE[backend.state]}` });
      }
    }
    this.backends = states;
  }
}
