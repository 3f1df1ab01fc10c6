/**
 * Log lines for backend state changes (healthy, unhealthy, ejected). Backend objects outlive reloads,
 * so each one is watched once, whichever snapshot first holds it.
 * @module
 */
import { type Logger, logsAt } from '../observability/logger.js';
import type { Backend, BackendState } from './backend.js';
import type { RuntimeSnapshot } from './gateway-runtime.js';

/** Subscribes to the state changes of every backend of the snapshots it is shown. */
export class BackendWatcher {
  private readonly watched = new WeakSet<Backend>();

  constructor(private readonly logger: Logger | null) {}

  /** Watches the backends of `snapshot` not watched yet. */
  watch(snapshot: RuntimeSnapshot): void {
    const logger = this.logger;
    if (logger === null) return;
    for (const upstream of snapshot.upstreams.values()) {
      for (const backend of upstream.backends) {
        if (this.watched.has(backend)) continue;
        this.watched.add(backend);
        const name = upstream.name;
        backend.on('state', (state: BackendState, previous: BackendState) => {
          // Coming back is good news; leaving the rotation is what an operator must notice.
          const level = state === 'healthy' ? 'info' : 'warn';
          if (!logsAt(logger, level)) return;
          logger[level]({ upstream: name, backend: backend.key, state, previous }, 'backend state changed');
        });
      }
    }
  }
}
