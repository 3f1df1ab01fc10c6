/**
 * Activation of a new subscription, with exact resume. The subscription is registered first (live
 * publications are buffered from that moment), then positioned from the engine (history after `since`,
 * or the current position), then answered `subscribed`, then given the recovered history and the
 * buffered publications after it: no gap and no duplicate, whatever was published meanwhile.
 * @module
 */
import type { Publication, StreamPosition } from '../engines/engine.js';
import { HubError } from './errors.js';
import type { HubContext } from './hub-context.js';
import type { Subscription } from './subscription.js';
import { encodeMessage, type RequestId } from './wire.js';

interface Positioned {
  position: StreamPosition;
  recovered: boolean;
  replay: Publication[];
}

async function position(
  hub: HubContext,
  subscription: Subscription,
  since: StreamPosition | null,
): Promise<Positioned> {
  if (since === null)
    return { position: await hub.engine.position(subscription.engineTopic), recovered: false, replay: [] };
  const history = await hub.engine.history(subscription.engineTopic, { since });
  if (!history.complete) return { position: history.position, recovered: false, replay: [] };
  return { position: since, recovered: true, replay: history.publications };
}

function announce(subscription: Subscription, positioned: Positioned, id: RequestId | null): void {
  const answer: { type: string } & Record<string, unknown> = {
    type: 'subscribed',
    topic: subscription.topic,
    offset: positioned.position.offset,
    epoch: positioned.position.epoch,
    recovered: positioned.recovered,
  };
  if (id !== null) answer.id = id;
  subscription.session.sendControl(answer);
}

function replay(subscription: Subscription, publications: Publication[], after: StreamPosition): number {
  const session = subscription.session;
  let last = after.offset;
  for (const publication of publications) {
    if (publication.epoch !== after.epoch || publication.offset <= last) continue;
    const { client, user } = session;
    if (publication.excludePublisher && publication.publisher === client) continue;
    if (publication.users !== null && !publication.users.includes(user)) continue;
    last = publication.offset;
    session.deliverOwn(
      subscription,
      encodeMessage(subscription.topic, publication.data, publication.offset, publication.epoch),
    );
  }
  return last;
}

/** Positions a registered subscription, answers `subscribed`, replays what it missed and makes it live. */
export async function activateSubscription(
  hub: HubContext,
  subscription: Subscription,
  since: StreamPosition | null,
  id: RequestId | null,
): Promise<void> {
  await hub.topics.add(subscription);
  if (subscription.isPattern) {
    subscription.state = 'live';
    announce(subscription, { position: { offset: 0, epoch: '' }, recovered: false, replay: [] }, id);
    return;
  }
  const positioned = await position(hub, subscription, since);
  if (subscription.state === 'closed') return;
  // Too much arrived while positioning: resume is impossible, start from the position after it.
  for (let attempt = 0; subscription.overflowed && attempt < 3; attempt++) {
    subscription.overflowed = false;
    positioned.recovered = false;
    positioned.replay = [];
    positioned.position = await hub.engine.position(subscription.engineTopic);
    // The subscription may have ended while the engine answered.
    if ((subscription.state as string) === 'closed') return;
  }
  if (subscription.overflowed) throw new HubError('unavailable', 'topic too busy to subscribe, retry later');
  announce(subscription, positioned, id);
  const last = replay(subscription, positioned.replay, positioned.position);
  const buffered = subscription.buffer;
  subscription.buffer = [];
  subscription.state = 'live';
  replay(subscription, buffered, { offset: last, epoch: positioned.position.epoch });
  if (subscription.policy.presence) await joinPresence(hub, subscription);
}

/** Adds a live subscription's session to the topic's presence. */
async function joinPresence(hub: HubContext, subscription: Subscription): Promise<void> {
  const session = subscription.session;
  subscription.present = true;
  const entry = { client: session.client, user: session.user, info: session.info ?? undefined };
  await hub.engine.presenceAdd(subscription.engineTopic, entry, hub.config.presenceTtlMs);
}
