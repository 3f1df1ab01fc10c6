/**
 * Routes the hub's topic messages to subscriptions, and keeps the replies meant for a subscription
 * the application already dropped away from a new subscription to the same topic.
 * @module
 */
import type { HubError } from './errors.js';
import type { SubscriptionCore } from './subscription.js';
import { type ServerMessage, unsubscribeFrame } from './wire.js';

type Msg<T extends ServerMessage['type']> = Extract<ServerMessage, { type: T }>;

/** The subscriptions of one client, by topic or pattern. */
export class SubscriptionRouter {
  readonly #subscriptions = new Map<string, SubscriptionCore>();
  /**
   * Per topic, `unsubscribe` frames sent on this connection and not yet answered. The hub answers in
   * order, so until the answer every reply about the topic belongs to the dropped subscription.
   */
  readonly #draining = new Map<string, number>();

  /** `send` sends a frame when connected and returns false when not. */
  constructor(private readonly send: (frame: string) => boolean) {}

  /** The subscription to `topic`, if any. */
  get(topic: string): SubscriptionCore | undefined {
    return this.#subscriptions.get(topic);
  }

  /** Registers a subscription and subscribes at once when connected. */
  add(core: SubscriptionCore): void {
    this.#subscriptions.set(core.topic, core);
    this.#subscribe(core);
  }

  /** The application unsubscribed. */
  release(core: SubscriptionCore, serverKnows: boolean): void {
    if (this.#subscriptions.get(core.topic) === core) this.#subscriptions.delete(core.topic);
    if (serverKnows && this.send(unsubscribeFrame(core.topic))) {
      this.#draining.set(core.topic, (this.#draining.get(core.topic) ?? 0) + 1);
    }
  }

  /** A session is ready: (re)subscribe everything. */
  connected(): void {
    this.#draining.clear();
    for (const core of this.#subscriptions.values()) this.#subscribe(core);
  }

  /** The session ended: the hub forgot every subscription. */
  disconnected(): void {
    this.#draining.clear();
    for (const core of this.#subscriptions.values()) core.reset();
  }

  #subscribe(core: SubscriptionCore): void {
    if (core.state === 'pending' && this.send(core.frame())) core.sent();
  }

  /** True (and the count updated on `unsubscribed`) while replies for `topic` go to a dropped subscription. */
  #drained(topic: string, answered: boolean): boolean {
    const pending = this.#draining.get(topic);
    if (pending === undefined) return false;
    if (answered) {
      if (pending > 1) this.#draining.set(topic, pending - 1);
      else this.#draining.delete(topic);
    }
    return true;
  }

  subscribed(message: Msg<'subscribed'>): void {
    if (!this.#drained(message.topic, false)) this.get(message.topic)?.subscribed(message);
  }

  unsubscribed(message: Msg<'unsubscribed'>): void {
    if (this.#drained(message.topic, true)) return;
    const core = this.get(message.topic);
    if (core === undefined || core.state === 'pending') return;
    this.#subscriptions.delete(message.topic);
    core.revoked();
  }

  message(message: Msg<'message'>): void {
    const key = message.pattern ?? message.topic;
    if (!this.#drained(key, false)) this.get(key)?.message(message);
  }

  presence(message: Msg<'join'> | Msg<'leave'>): void {
    if (this.#drained(message.topic, false)) return;
    const { topic, client, user } = message;
    const joined = message.type === 'join';
    this.get(topic)?.presence(
      joined ? { topic, client, user, info: message.info } : { topic, client, user },
      joined,
    );
  }

  /**
   * An error about a topic that a subscription is waiting on: it refuses the subscription. Also
   * swallows errors meant for a dropped subscription. True when handled.
   */
  refusal(error: HubError): boolean {
    const topic = error.topic;
    if (topic === undefined) return false;
    // A dropped subscription that the hub had refused answers its unsubscribe with not_subscribed.
    if (this.#drained(topic, error.code === 'not_subscribed')) return true;
    const core = this.get(topic);
    if (core?.state !== 'subscribing') return false;
    this.#subscriptions.delete(topic);
    core.failed(error);
    return true;
  }

  /** An error about the topic of an active subscription (it stays active). True when handled. */
  topicError(error: HubError): boolean {
    const core = error.topic === undefined ? undefined : this.get(error.topic);
    if (core === undefined) return false;
    core.error(error);
    return true;
  }
}
