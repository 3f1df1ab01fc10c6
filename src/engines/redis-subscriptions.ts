/**
 * Reference-counted pub/sub subscriptions of one Redis subscriber connection (channels or globs). The hub
 * subscribes once per topic per node, but the engine may be asked for the same channel or glob more than
 * once (two patterns with one glob, a subscribe racing an unsubscribe), so Redis is told only about the
 * first acquire and the last release.
 * @module
 */

/** What a table does to the connection. */
export interface SubscriptionOps {
  /** SUBSCRIBE / PSUBSCRIBE `names`; rejects when the connection cannot take the command. */
  subscribe(names: string[]): Promise<unknown>;
  /** UNSUBSCRIBE / PUNSUBSCRIBE `names`. */
  unsubscribe(names: string[]): Promise<unknown>;
}

interface Entry {
  count: number;
  /** Settles when Redis confirmed the subscription (or failed to). */
  ready: Promise<void>;
}

/** How many names one resubscribe command carries. */
const RESUBSCRIBE_CHUNK = 500;

function noop(): void {}

/** Channels (or globs) of one connection with their reference counts. */
export class SubscriptionTable {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ops: SubscriptionOps) {}

  /** True while `name` is held by at least one acquire. */
  has(name: string): boolean {
    return this.entries.has(name);
  }

  /** Number of distinct names held. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Holds `name`, subscribing on the first hold. Resolves once Redis confirmed the subscription, so that a
   * publish made after it resolves is delivered; a later acquirer waits for the same confirmation.
   */
  async acquire(name: string): Promise<void> {
    let entry = this.entries.get(name);
    if (entry === undefined) {
      entry = { count: 0, ready: this.ops.subscribe([name]).then(noop) };
      this.entries.set(name, entry);
    }
    entry.count++;
    try {
      await entry.ready;
    } catch (err) {
      // A failed acquire holds nothing. No UNSUBSCRIBE: the connection that failed is gone or going, and
      // its replacement only gets what the table still holds.
      if (this.entries.get(name) === entry && --entry.count <= 0) this.entries.delete(name);
      throw err;
    }
  }

  /** Drops one hold of `name`, unsubscribing with the last one. Returns false when it was not held. */
  async release(name: string): Promise<boolean> {
    const entry = this.entries.get(name);
    if (entry === undefined) return false;
    if (--entry.count > 0) return true;
    this.entries.delete(name);
    // A failure means the connection dropped: its replacement will not resubscribe what is not held.
    await this.ops.unsubscribe([name]).catch(noop);
    return true;
  }

  /** Subscribes everything held again, on a fresh connection. */
  async resubscribe(): Promise<void> {
    const names = [...this.entries.keys()];
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < names.length; i += RESUBSCRIBE_CHUNK) {
      sends.push(this.ops.subscribe(names.slice(i, i + RESUBSCRIBE_CHUNK)));
    }
    await Promise.all(sends);
  }

  /** Forgets everything (the engine is closing). */
  clear(): void {
    this.entries.clear();
  }
}
