/**
 * Least connections (the default): the backend with the fewest active connections per unit of weight.
 * Long-lived WebSocket connections make this the fair choice: round-robin spreads new connections
 * evenly but not the ones that stay.
 * @module
 */
import type { Backend } from '../backend.js';
import { type BalanceRequest, type Balancer, eligible, NONE } from './balancer.js';

/** Picks the eligible backend with the lowest `activeConnections / weight`. */
export class LeastConnectionsBalancer implements Balancer {
  readonly backends: readonly Backend[];
  // Ties are broken by a rotating start, so that idle backends share the first connections.
  #start = 0;

  constructor(backends: readonly Backend[]) {
    this.backends = backends;
  }

  /** The least loaded eligible backend; among equals, the next one in rotation. */
  pick(_request: BalanceRequest, exclude: ReadonlySet<Backend> = NONE): Backend | null {
    const count = this.backends.length;
    let best: Backend | null = null;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (let step = 0; step < count; step++) {
      const backend = this.backends[(this.#start + step) % count]!;
      if (!eligible(backend, exclude)) continue;
      const load = backend.activeConnections / backend.weight;
      if (load < bestLoad) {
        best = backend;
        bestLoad = load;
      }
    }
    this.#start = count === 0 ? 0 : (this.#start + 1) % count;
    return best;
  }
}
