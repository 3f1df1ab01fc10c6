/**
 * What the hub does for each client request (docs/hub-protocol.md). Every handler checks the request
 * against the session's rights and the topic's policy before the engine sees it.
 * @module
 */
import { EngineError } from '../engines/engine.js';
import { isPattern, isValidTopic } from '../engines/topic-pattern.js';
import { HubError } from './errors.js';
import type { HubContext } from './hub-context.js';
import { TENANT_SEPARATOR } from './local-topics.js';
import type { AclHook } from './options.js';
import { activateSubscription } from './recovery.js';
import type { Session } from './session.js';
import { Subscription } from './subscription.js';
import type { ClientRequest, RequestId } from './wire.js';

type Request<T extends ClientRequest['type']> = Extract<ClientRequest, { type: T }>;

/** The engine's name of a client topic: scoped by tenant when tenants are on. */
export function engineTopicOf(hub: HubContext, tenant: string, topic: string): string {
  return hub.config.tenantScoped && tenant !== '' ? `${tenant}${TENANT_SEPARATOR}${topic}` : topic;
}

/** Engine failures become `unavailable`; anything else is unexpected (`internal`, logged). */
export function toHubError(
  session: Session,
  error: unknown,
  id: RequestId | null,
  topic: string | null,
): HubError {
  if (error instanceof HubError) return error.withContext(id, topic);
  if (error instanceof EngineError)
    return new HubError('unavailable', 'the message engine is unavailable, retry later', id, topic);
  session.log?.error({ err: error, topic }, 'request failed');
  return new HubError('internal', 'internal error', id, topic);
}

/** The token's permissions (when it has any) and the ACL hook (when set) must both allow. */
async function allowed(
  acl: AclHook | null,
  session: Session,
  topic: string,
  action: 'subscribe' | 'publish',
): Promise<boolean> {
  const permissions = session.permissions;
  if (permissions !== null) {
    const granted = action === 'subscribe' ? permissions.canSubscribe(topic) : permissions.canPublish(topic);
    if (!granted) return false;
  }
  return acl === null || (await acl(session, topic));
}

function checkTopic(topic: string, allowPattern: boolean, id: RequestId | null): void {
  if (!isValidTopic(topic, allowPattern)) {
    const what = allowPattern ? 'topic or pattern' : 'topic';
    throw new HubError('invalid_topic', `invalid ${what} name`, id, topic);
  }
}

async function subscribe(hub: HubContext, session: Session, request: Request<'subscribe'>): Promise<void> {
  const { topic, id } = request;
  checkTopic(topic, true, id);
  const pattern = isPattern(topic);
  if (pattern && request.since !== null)
    throw new HubError('bad_request', 'patterns cannot resume with "since"', id, topic);
  if (session.subscriptions.has(topic))
    throw new HubError('already_subscribed', 'already subscribed', id, topic);
  if (session.subscriptions.size >= hub.config.maxSubscriptions) {
    throw new HubError('limit_exceeded', `at most ${hub.config.maxSubscriptions} subscriptions`, id, topic);
  }
  if (!(await allowed(hub.config.canSubscribe, session, topic, 'subscribe'))) {
    throw new HubError('forbidden', 'not allowed to subscribe', id, topic);
  }
  if (session.closed || session.subscriptions.has(topic)) return;
  const policy = hub.policies.of(topic);
  const subscription = new Subscription(
    session,
    topic,
    engineTopicOf(hub, session.tenant, topic),
    pattern,
    policy,
    request.credit,
  );
  session.subscriptions.set(topic, subscription);
  try {
    await activateSubscription(hub, subscription, request.since, id);
  } catch (error) {
    endSubscription(hub, subscription);
    throw error;
  }
}

/** Removes a subscription from its session and the node (and from presence). */
export function endSubscription(hub: HubContext, subscription: Subscription): void {
  const session = subscription.session;
  subscription.state = 'closed';
  if (session.subscriptions.get(subscription.topic) === subscription)
    session.subscriptions.delete(subscription.topic);
  hub.topics.remove(subscription);
  session.release(subscription);
  if (subscription.present) {
    subscription.present = false;
    const entry = { client: session.client, user: session.user };
    hub.engine.presenceRemove(subscription.engineTopic, entry).catch((error: unknown) => {
      session.log?.warn({ err: error, topic: subscription.topic }, 'presence removal failed');
    });
  }
}

function unsubscribe(hub: HubContext, session: Session, request: Request<'unsubscribe'>): void {
  const subscription = session.subscriptions.get(request.topic);
  if (subscription === undefined)
    throw new HubError('not_subscribed', 'not subscribed', request.id, request.topic);
  endSubscription(hub, subscription);
  const answer: { type: string } & Record<string, unknown> = { type: 'unsubscribed', topic: request.topic };
  if (request.id !== null) answer.id = request.id;
  session.sendControl(answer);
}

async function publish(hub: HubContext, session: Session, request: Request<'publish'>): Promise<void> {
  const { topic, id } = request;
  checkTopic(topic, false, id);
  if (!hub.policies.of(topic).clientPublish)
    throw new HubError('forbidden', 'clients may not publish here', id, topic);
  const data = JSON.stringify(request.data);
  if (data.length > hub.config.maxPublishBytes && Buffer.byteLength(data) > hub.config.maxPublishBytes) {
    throw new HubError('limit_exceeded', `data larger than ${hub.config.maxPublishBytes} bytes`, id, topic);
  }
  if (!(await allowed(hub.config.canPublish, session, topic, 'publish'))) {
    throw new HubError('forbidden', 'not allowed to publish', id, topic);
  }
  const result = await hub.engine.publish(engineTopicOf(hub, session.tenant, topic), data, {
    history: hub.policies.of(topic).history,
    publisher: session.client,
    excludePublisher: !request.echo,
    // Retries after a reconnect come from another connection: ids are remembered per user or per client key.
    ...(id === null
      ? {}
      : { idempotencyKey: `${session.tenant}|${session.user || `~${session.sessionKey}`}|${id}` }),
  });
  hub.stats.publishes++;
  if (id !== null) session.sendControl({ type: 'ack', id, offset: result.offset, epoch: result.epoch });
}

async function presence(hub: HubContext, session: Session, request: Request<'presence'>): Promise<void> {
  const { topic, id } = request;
  checkTopic(topic, false, id);
  if (!hub.policies.of(topic).presence)
    throw new HubError('forbidden', 'presence is not enabled for this topic', id, topic);
  if (!(await allowed(hub.config.canSubscribe, session, topic, 'subscribe'))) {
    throw new HubError('forbidden', 'not allowed to see presence', id, topic);
  }
  const entries = await hub.engine.presence(engineTopicOf(hub, session.tenant, topic));
  const clients = entries.map((entry) => ({
    client: entry.client,
    user: entry.user,
    info: entry.info ?? null,
  }));
  const answer: { type: string } & Record<string, unknown> = { type: 'presence', topic, clients };
  if (id !== null) answer.id = id;
  session.sendControl(answer);
}

function credit(session: Session, request: Request<'credit'>): void {
  const subscription = session.subscriptions.get(request.topic);
  if (subscription === undefined)
    throw new HubError('not_subscribed', 'not subscribed', request.id, request.topic);
  if (!subscription.flowControlled) {
    throw new HubError(
      'bad_request',
      'subscription has no flow control (subscribe with "credit")',
      request.id,
      request.topic,
    );
  }
  session.grant(subscription, request.credit);
}

/** Runs one request of an authenticated session. */
export function handleRequest(
  hub: HubContext,
  session: Session,
  request: ClientRequest,
): Promise<void> | undefined {
  switch (request.type) {
    case 'subscribe':
      return subscribe(hub, session, request);
    case 'unsubscribe':
      unsubscribe(hub, session, request);
      return undefined;
    case 'publish':
      return publish(hub, session, request);
    case 'presence':
      return presence(hub, session, request);
    case 'credit':
      credit(session, request);
      return undefined;
    default:
      throw new HubError('bad_request', 'already authenticated', request.id);
  }
}
