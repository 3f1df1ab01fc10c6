/**
 * The topics and patterns this node subscribed to, reference-counted: the hub may subscribe a topic once
 * per interested party and unsubscribe each in turn; delivery stops only with the last unsubscribe.
 * @module
 */
import { compilePattern, isPattern, type TopicMatcher } from './topic-pattern.js';

interface PatternSubscription {
  count: number;
  readonly match: TopicMatcher;
}

/** Reference-counted exact and pattern subscriptions of one node. */
export class SubscriptionSet {
  /**
   * Changes whenever a topic or pattern gains its first or loses its last reference, so that callers may
   * cache "does this topic match?" per topic and recompute only after a change.
   */
  generation = 0;
  private readonly exact = new Map<string, number>();
  private readonly patterns = new Map<string, PatternSubscription>();

  /** How many distinct topics and patterns are subscribed. */
  get size(): number {
    return this.exact.size + this.patterns.size;
  }

  /**
   * Adds one reference to `topic` (a concrete topic or a pattern).
   * @throws TypeError when `topic` is an invalid pattern.
   */
  add(topic: string): void {
    if (isPattern(topic)) {
      const found = this.patterns.get(topic);
      if (found !== undefined) {
        found.count++;
        return;
      }
      this.patterns.set(topic, { count: 1, match: compilePattern(topic) });
    } else {
      const count = this.exact.get(topic);
      this.exact.set(topic, (count ?? 0) + 1);
      if (count !== undefined) return;
    }
    this.generation++;
  }

  /** Removes one reference; returns true when that was the last one (unknown topics are ignored). */
  remove(topic: string): boolean {
    const pattern = this.patterns.get(topic);
    if (pattern !== undefined) {
      if (--pattern.count > 0) return false;
      this.patterns.delete(topic);
    } else {
      const count = this.exact.get(topic);
      if (count === undefined) return false;
      if (count > 1) {
        this.exact.set(topic, count - 1);
        return false;
      }
      this.exact.delete(topic);
    }
    this.generation++;
    return true;
  }

  /** True when the concrete `topic` itself is subscribed (presence events follow exact subscriptions only). */
  has(topic: string): boolean {
    return this.exact.has(topic);
  }

  /** True when the concrete `topic` is subscribed directly or matches a subscribed pattern. */
  matches(topic: string): boolean {
    if (this.exact.has(topic)) return true;
    for (const pattern of this.patterns.values()) {
      if (pattern.match(topic)) return true;
    }
    return false;
  }

  /** Forgets every subscription. */
  clear(): void {
    this.exact.clear();
    this.patterns.clear();
    this.generation++;
  }
}
