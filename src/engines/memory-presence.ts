/**
 * Presence of the memory engine: per topic, the connections present, each with an expiry time. Entries
 * expire lazily when a topic's presence is read and through the engine's periodic (bounded) sweep; topics
 * whose last entry left are deleted at once, so presence memory follows the live connections.
 * @module
 */
import type { PresenceEntry } from './engine.js';
import { IncrementalSweep } from './memory-sweep.js';

interface PresenceRecord {
  entry: PresenceEntry;
  expiresAt: number;
}

/** Called for each entry that expired (not for explicit removals, which the caller handles itself). */
export type ExpiryListener = (topic: string, entry: PresenceEntry) => void;

/** Per-topic presence entries keyed by client id. */
export class PresenceStore {
  private readonly topics = new Map<string, Map<string, PresenceRecord>>();
  private readonly sweeper = new IncrementalSweep(this.topics, (topic, clients) =>
    this.expire(topic, clients, this.sweepTime),
  );
  private sweepTime = 0;

  constructor(private readonly onExpired: ExpiryListener) {}

  /** How many topics have at least one entry. */
  get size(): number {
    return this.topics.size;
  }

  /** True when `topic` has at least one entry (possibly expired but not yet swept). */
  has(topic: string): boolean {
    return this.topics.has(topic);
  }

  /** Adds `entry` or refreshes it (its expiry and its data); returns true when it is new. */
  add(topic: string, entry: PresenceEntry, expiresAt: number): boolean {
    let clients = this.topics.get(topic);
    if (clients === undefined) {
      clients = new Map();
      this.topics.set(topic, clients);
    }
    const found = clients.get(entry.client);
    if (found !== undefined) {
      found.entry = entry;
      found.expiresAt = expiresAt;
      return false;
    }
    clients.set(entry.client, { entry, expiresAt });
    return true;
  }

  /** Removes the entry of `client`; returns it, or undefined when it was not present. */
  remove(topic: string, client: string): PresenceEntry | undefined {
    const clients = this.topics.get(topic);
    const found = clients?.get(client);
    if (clients === undefined || found === undefined) return undefined;
    clients.delete(client);
    if (clients.size === 0) this.topics.delete(topic);
    return found.entry;
  }

  /** The entries of `topic` that are live at `now` (expired ones are removed and reported first). */
  list(topic: string, now: number): PresenceEntry[] {
    const clients = this.topics.get(topic);
    if (clients === undefined) return [];
    this.expire(topic, clients, now);
    const entries: PresenceEntry[] = [];
    for (const record of clients.values()) entries.push(record.entry);
    return entries;
  }

  /** Expires entries of up to `budget` topics, continuing where the previous sweep stopped. */
  sweep(now: number, budget: number): void {
    this.sweepTime = now;
    this.sweeper.run(budget);
  }

  /** Forgets everything, reporting nothing. */
  clear(): void {
    this.topics.clear();
  }

  private expire(topic: string, clients: Map<string, PresenceRecord>, now: number): void {
    for (const [client, record] of clients) {
      if (record.expiresAt > now) continue;
      clients.delete(client);
      this.onExpired(topic, record.entry);
    }
    if (clients.size === 0) this.topics.delete(topic);
  }
}
