/**
 * Round-robin: backends in turn, skipping unavailable and excluded ones.
 * @module
 */
import type { Backend } from '../backend.js';
import { type BalanceRequest, type Balancer, eligible, NONE } from './balancer.js';

/** Picks backends in configuration order, one after the other. */
export class RoundRobinBalancer implements Balancer {
  readonly backends: readonly Backend[];
  #next = 0;

  constructor(backends: readonly Backend[]) {
    this.backends = backends;
  }

  /** The next eligible backend after the previous pick. */
  pick(_request: BalanceRequest, exclude: ReadonlySet<Backend> = NONE): Backend | null {
    const count = this.backends.length;
    for (let step = 0; step < count; step++) {
      const index = (this.#next + step) % count;
      const backend = this.backends[index]!;
      if (eligible(backend, exclude)) {
        this.#next = (index + 1) % count;
        return backend;
      }
    }
    return null;
  }
}
