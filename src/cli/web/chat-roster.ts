/**
 * Who is who in a chat room (browser code). Presence entries carry connection ids, not names, and an
 * anonymous hub session has no name the hub knows; so each page announces its name on the room's roster
 * topic (`chat-roster.<room>`, plain publishes). A page that arrives asks, and every page present
 * answers: the question is sent only once the roster subscription is active, so no answer is missed,
 * and the question itself names the newcomer to everybody. The client id changes with every connection,
 * so a page asks again after each (re)subscription.
 * @module
 */
import { displayName } from './chat-store.js';
import type { HubClientLike, SubscriptionLike } from './sdk.js';

/** Names kept for connections that left (see {@link Roster.forget}). */
const MAX_REMEMBERED = 500;

/** What pages publish on the roster topic. */
interface Announcement {
  client: string;
  name: string;
  /** True: "tell me who you are" (everybody answers with their own announcement). */
  ask: boolean;
}

function parseAnnouncement(data: unknown): Announcement | null {
  const value = data as Partial<Announcement> | null;
  if (typeof value !== 'object' || value === null || typeof value.client !== 'string') return null;
  const name = typeof value.name === 'string' ? displayName(value.name) : null;
  if (name === null || value.client.length > 128) return null;
  return { client: value.client, name, ask: value.ask === true };
}

/** The names of the connections in one room. */
export class Roster {
  private readonly names = new Map<string, string>();
  private subscription: SubscriptionLike | null = null;

  /**
   * @param client The page's hub client.
   * @param room The room.
   * @param myName This page's current name.
   * @param changed Called when a name was learned or changed.
   */
  constructor(
    private readonly client: HubClientLike,
    private readonly room: string,
    private readonly myName: () => string,
    private readonly changed: () => void,
  ) {}

  /** Subscribes to the roster topic; asks who is there on every (re)subscription. */
  start(): void {
    this.subscription = this.client.subscribe(`chat-roster.${this.room}`, {
      // Old announcements name connections that are gone, and old questions are answered already.
      recover: false,
      onMessage: (data) => this.received(data),
      onSubscribed: () => this.announce(true),
    });
  }

  /** Unsubscribes. */
  stop(): void {
    this.subscription?.unsubscribe();
    this.subscription = null;
  }

  /** The name announced by connection `client`, if any. */
  nameOf(client: string): string | undefined {
    return this.names.get(client);
  }

  /**
   * Notes that a connection left. Its name is kept: a page that re-subscribes (a newcomer fetching history
   * does) leaves and joins again under the same client id, and its one announcement may come before the
   * leave. Only the oldest names are dropped, past a bound.
   */
  forget(client: string): void {
    if (this.names.size <= MAX_REMEMBERED) return;
    const oldest = this.names.keys().next();
    if (!oldest.done && oldest.value !== client) this.names.delete(oldest.value);
  }

  /** Tells the room this page's name (after a rename, or as an answer); `ask` asks for theirs too. */
  announce(ask = false): void {
    const announcement: Announcement = { client: this.client.clientId, name: this.myName(), ask };
    // A lost announcement only leaves a "Guest" in someone's list until the next one: no retry.
    this.client.publish(`chat-roster.${this.room}`, announcement, { echo: false }).catch(() => undefined);
  }

  private received(data: unknown): void {
    const announcement = parseAnnouncement(data);
    if (announcement === null || announcement.client === this.client.clientId) return;
    this.names.set(announcement.client, announcement.name);
    if (announcement.ask) this.announce(false);
    this.changed();
  }
}
