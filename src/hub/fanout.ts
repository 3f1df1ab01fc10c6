/**
 * Delivery of engine events to local subscribers. A publication is serialized and framed once per topic
 * (once more per matching pattern, whose messages also name the pattern), however many subscribers
 * receive it.
 * @module
 */
import type { Engine, PresenceEntry, Publication } from '../engines/engine.js';
import { PreparedMessage } from '../protocol/prepared-message.js';
import type { HubStats } from './hub-stats.js';
import { type LocalTopics, prefixOf, type TopicEntry } from './local-topics.js';
import { encodeControl, encodeMessage } from './wire.js';

/** Whether `publication` is meant for a subscription's session (exclusions and user targeting). */
function addressedTo(publication: Publication, client: string, user: string): boolean {
  if (publication.excludePublisher && publication.publisher === client) return false;
  return publication.users === null || publication.users.includes(user);
}

function deliverToEntry(entry: TopicEntry, publication: Publication, topic: string, pattern?: string): void {
  let message: PreparedMessage | null = null;
  let size = 0;
  // Most publications go to everybody: decide that once rather than per subscriber.
  const targeted = publication.excludePublisher || publication.users !== null;
  for (const subscription of entry.subscriptions) {
    if (subscription.state !== 'live') {
      if (subscription.state === 'pending') subscription.hold(publication);
      continue;
    }
    const session = subscription.session;
    if (targeted && !addressedTo(publication, session.client, session.user)) continue;
    if (message === null) {
      message = new PreparedMessage(
        encodeMessage(topic, publication.data, publication.offset, publication.epoch, pattern),
      );
      size = message.payload.length;
    }
    session.deliver(subscription, message, size);
  }
}

/** Fans one publication out to the local subscribers of its topic and of the patterns matching it. */
export function fanOutPublication(topics: LocalTopics, stats: HubStats, publication: Publication): void {
  stats.publications++;
  const prefix = prefixOf(publication.topic);
  const topic = publication.topic.slice(prefix.length);
  const entry = topics.exact.get(publication.topic);
  if (entry !== undefined) {
    if (entry.held !== null) {
      entry.held.push(publication);
      return;
    }
    // After a catch-up (see catchUp) the engine may still deliver what was already fanned out.
    if (publication.epoch === entry.lastEpoch && publication.offset <= entry.lastOffset) return;
    entry.lastOffset = publication.offset;
    entry.lastEpoch = publication.epoch;
    deliverToEntry(entry, publication, topic);
  }
  if (topics.patterns.size === 0) return;
  for (const patternEntry of topics.patterns.values()) {
    // Patterns match within their tenant only: `>` of one tenant must not see another tenant's topics.
    if (patternEntry.prefix === prefix && patternEntry.matches!(topic)) {
      deliverToEntry(patternEntry, publication, topic, patternEntry.clientPattern);
    }
  }
}

/**
 * Fans out what an exact topic's local subscribers missed while the node was cut off from the engine
 * (publications other nodes made meanwhile). Returns false when history no longer covers the gap.
 */
export async function catchUp(
  engine: Engine,
  topics: LocalTopics,
  stats: HubStats,
  engineTopic: string,
): Promise<boolean> {
  const entry = topics.exact.get(engineTopic);
  if (entry === undefined || entry.lastEpoch === '' || entry.held !== null) return true;
  entry.held = [];
  let complete = false;
  try {
    const history = await engine.history(engineTopic, {
      since: { offset: entry.lastOffset, epoch: entry.lastEpoch },
    });
    complete = history.complete;
    const held = entry.held;
    entry.held = null;
    for (const publication of history.publications) fanOutPublication(topics, stats, publication);
    for (const publication of held) fanOutPublication(topics, stats, publication);
  } finally {
    if (entry.held !== null) {
      const held = entry.held;
      entry.held = null;
      for (const publication of held) fanOutPublication(topics, stats, publication);
    }
  }
  return complete;
}

/** Announces a join or leave to the local subscribers of a presence-enabled topic (not to the one concerned). */
export function fanOutPresence(
  topics: LocalTopics,
  type: 'join' | 'leave',
  engineTopic: string,
  entry: PresenceEntry,
): void {
  const local = topics.exact.get(engineTopic);
  if (local === undefined) return;
  let message: PreparedMessage | null = null;
  for (const subscription of local.subscriptions) {
    if (subscription.state !== 'live' || !subscription.policy.presence) continue;
    const session = subscription.session;
    if (session.client === entry.client || session.closed) continue;
    if (message === null) {
      const event: { type: string } & Record<string, unknown> = {
        type,
        topic: engineTopic.slice(prefixOf(engineTopic).length),
        client: entry.client,
        user: entry.user,
      };
      if (type === 'join' && entry.info !== undefined) event.info = entry.info;
      message = new PreparedMessage(encodeControl(event));
    }
    session.connection.sendPrepared(message);
  }
}
