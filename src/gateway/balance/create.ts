/**
 * The balancer of an upstream's `balance` setting.
 * @module
 */
import type { Backend } from '../backend.js';
import type { BalanceConfig } from '../config/types.js';
import type { Balancer } from './balancer.js';
import { ConsistentHashBalancer } from './consistent-hash.js';
import { LeastConnectionsBalancer } from './least-connections.js';
import { RoundRobinBalancer } from './round-robin.js';
import { WeightedBalancer } from './weighted.js';

/** A new balancer of policy `config` over `backends` (fresh cursor; deterministic ring). */
export function createBalancer(config: BalanceConfig, backends: readonly Backend[]): Balancer {
  switch (config.kind) {
    case 'round-robin':
      return new RoundRobinBalancer(backends);
    case 'weighted':
      return new WeightedBalancer(backends);
    case 'hash':
      return new ConsistentHashBalancer(backends, config.key);
    default:
      return new LeastConnectionsBalancer(backends);
  }
}
