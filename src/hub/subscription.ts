/**
 * One connection's subscription to one topic or pattern.
 * @module
 */
import type { Publication } from '../engines/engine.js';
import type { Session } from './session.js';
import type { ResolvedTopicPolicy } from './topic-policies.js';

/**
 * `pending`: registered for live publications but not yet positioned (they are buffered while history
 * or the position is read); `live`: publications are delivered as they come; `closed`: gone.
 */
export type SubscriptionState = 'pending' | 'live' | 'closed';

/** Publications buffered while a subscription is pending; beyond this the subscriber is too slow to resume. */
export const PENDING_BUFFER_LIMIT = 10_000;

/** A subscription and its delivery state. */
export class Subscription {
  state: SubscriptionState = 'pending';
  /** Live publications that arrived while pending, in offset order. */
  buffer: Publication[] = [];
  /** Set when the pending buffer overflowed: the subscription is answered with `recovered: false`. */
  overflowed = false;
  /** Messages it may still receive under flow control; Infinity without flow control. */
  credit: number;
  /** Whether presence was announced for it (so leave is announced too). */
  present = false;

  constructor(
    /** The connection it belongs to. */
    readonly session: Session,
    /** The topic or pattern as the client named it. */
    readonly topic: string,
    /** The engine's name of the topic (tenant-scoped). */
    readonly engineTopic: string,
    readonly isPattern: boolean,
    readonly policy: ResolvedTopicPolicy,
    credit: number | null,
  ) {
    this.credit = credit ?? Number.POSITIVE_INFINITY;
  }

  /** Whether it uses credit-based flow control. */
  get flowControlled(): boolean {
    return this.credit !== Number.POSITIVE_INFINITY;
  }

  /** Keeps a live publication that arrived while pending. */
  hold(publication: Publication): void {
    if (this.buffer.length >= PENDING_BUFFER_LIMIT) {
      this.overflowed = true;
      this.buffer = [];
      return;
    }
    if (!this.overflowed) this.buffer.push(publication);
  }
}
