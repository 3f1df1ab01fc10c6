/**
 * Backend selection policies of the gateway.
 * @module
 */
export type { BalanceRequest, Balancer } from './balancer.js';
export { eligible } from './balancer.js';
export { ConsistentHashBalancer } from './consistent-hash.js';
export { createBalancer } from './create.js';
export { cookieValue, hashInput, queryValue } from './hash-key.js';
export type { RingMember } from './hash-ring.js';
export { HashRing, hash32, POINTS_PER_WEIGHT } from './hash-ring.js';
export { LeastConnectionsBalancer } from './least-connections.js';
export { RoundRobinBalancer } from './round-robin.js';
export { WeightedBalancer } from './weighted.js';
