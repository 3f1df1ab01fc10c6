/**
 * The topics and patterns this node's connections subscribe to. The node subscribes to each in the
 * engine once, however many local subscribers it has, and fans publications out locally.
 * @module
 */
import type { Engine, Publication } from '../engines/engine.js';
import { compilePattern } from '../engines/topic-pattern.js';
import type { Logger } from '../observability/logger.js';
import type { Subscription } from './subscription.js';

/** Local subscribers of one engine topic or pattern. */
export interface TopicEntry {
  readonly subscriptions: Set<Subscription>;
  /** Settles when the engine delivers this topic to the node. */
  readonly ready: Promise<void>;
  /** The tenant prefix of the name (`acme~`, or '' without tenant): patterns match within it only. */
  readonly prefix: string;
  /** For patterns: whether a concrete engine topic matches. */
  readonly matches: ((topic: string) => boolean) | null;
  /** For patterns: the pattern as clients named it. */
  readonly clientPattern: string;
  failed: boolean;
  /** Position of the last publication fanned out (exact topics): catch-up after an outage starts there. */
  lastOffset: number;
  lastEpoch: string;
  /** While catching up after an outage: live publications wait here, so that delivery stays in order. */
  held: Publication[] | null;
}

/** Separates a tenant from a topic in engine names; clients cannot use it in topic names. */
export const TENANT_SEPARATOR = '~';

/** The tenant prefix of an engine topic (`acme~` of `acme~chat.lobby`, '' of `chat.lobby`). */
export function prefixOf(engineTopic: string): string {
  return engineTopic.slice(0, engineTopic.indexOf(TENANT_SEPARATOR) + 1);
}

/** The registry of local subscriptions. */
export class LocalTopics {
  readonly exact = new Map<string, TopicEntry>();
  readonly patterns = new Map<string, TopicEntry>();

  constructor(
    private readonly engine: Engine,
    private readonly logger: Logger | null,
  ) {}

  /** Registers a subscription; the promise settles when the engine delivers its topic. */
  add(subscription: Subscription): Promise<void> {
    const map = subscription.isPattern ? this.patterns : this.exact;
    const name = subscription.engineTopic;
    let entry = map.get(name);
    if (entry === undefined) {
      const prefix = prefixOf(name);
      const created: TopicEntry = {
        subscriptions: new Set(),
        ready: this.engine.subscribe(name),
        prefix,
        matches: subscription.isPattern ? compilePattern(name.slice(prefix.length)) : null,
        clientPattern: subscription.topic,
        failed: false,
        lastOffset: 0,
        lastEpoch: '',
        held: null,
      };
      // A failed engine subscription is forgotten, so that the next subscriber tries again.
      created.ready.catch(() => {
        created.failed = true;
        if (map.get(name) === created) map.delete(name);
      });
      map.set(name, created);
      entry = created;
    }
    entry.subscriptions.add(subscription);
    return entry.ready;
  }

  /** Unregisters a subscription; the last one of a topic unsubscribes the node in the engine. */
  remove(subscription: Subscription): void {
    const map = subscription.isPattern ? this.patterns : this.exact;
    const name = subscription.engineTopic;
    const entry = map.get(name);
    if (entry === undefined || !entry.subscriptions.delete(subscription)) return;
    if (entry.subscriptions.size > 0) return;
    map.delete(name);
    entry.ready
      .then(
        () => this.engine.unsubscribe(name),
        () => undefined,
      )
      .catch((error: unknown) => this.logger?.warn({ err: error, topic: name }, 'engine unsubscribe failed'));
  }

  /** Topics and patterns with local subscribers. */
  get size(): number {
    return this.exact.size + this.patterns.size;
  }
}
