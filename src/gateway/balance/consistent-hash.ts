/**
 * Consistent hashing (sticky balancing): requests with the same key reach the same backend for as long
 * as it is available; when it is not, they go to the next backend on the ring, and come back once it
 * recovers.
 * @module
 */
import type { Backend } from '../backend.js';
import type { HashKey } from '../config/types.js';
import { type BalanceRequest, type Balancer, eligible, NONE } from './balancer.js';
import { hashInput } from './hash-key.js';
import { HashRing, hash32 } from './hash-ring.js';

/** Places requests on a ring of backends by the hash of `key`. */
export class ConsistentHashBalancer implements Balancer {
  readonly backends: readonly Backend[];
  readonly key: HashKey;
  readonly #ring: HashRing<Backend>;

  constructor(backends: readonly Backend[], key: HashKey) {
    this.backends = backends;
    this.key = key;
    this.#ring = new HashRing(
      backends.map((backend) => ({ id: backend.key, weight: backend.weight, value: backend })),
    );
  }

  /** The backend owning the request's key, or the next eligible one clockwise. */
  pick(request: BalanceRequest, exclude: ReadonlySet<Backend> = NONE): Backend | null {
    return this.#ring.lookup(hash32(hashInput(this.key, request)), (backend) => eligible(backend, exclude));
  }
}
