/**
 * Weighted round-robin, smooth variant: each pick adds every eligible backend's weight to its running
 * score, takes the highest score and subtracts the total weight from it. Over any run of picks each
 * backend's share follows its weight, and heavy backends are interleaved with light ones rather than
 * served in bursts (weights 5, 1, 1 give a a b a c a a).
 * @module
 */
import type { Backend } from '../backend.js';
import { type BalanceRequest, type Balancer, eligible, NONE } from './balancer.js';

/** Smooth weighted round-robin over backend weights. */
export class WeightedBalancer implements Balancer {
  readonly backends: readonly Backend[];
  readonly #scores: number[];

  constructor(backends: readonly Backend[]) {
    this.backends = backends;
    this.#scores = backends.map(() => 0);
  }

  /** The eligible backend whose turn it is; unavailable ones neither gain nor lose score. */
  pick(_request: BalanceRequest, exclude: ReadonlySet<Backend> = NONE): Backend | null {
    let total = 0;
    let best = -1;
    for (let i = 0; i < this.backends.length; i++) {
      const backend = this.backends[i]!;
      if (!eligible(backend, exclude)) continue;
      this.#scores[i]! += backend.weight;
      total += backend.weight;
      if (best === -1 || this.#scores[i]! > this.#scores[best]!) best = i;
    }
    if (best === -1) return null;
    this.#scores[best]! -= total;
    return this.backends[best]!;
  }
}
