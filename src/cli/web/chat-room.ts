/**
 * One chat room as the page lives in it (browser code): its messages with history, who is present, and
 * their names.
 *
 * History. The hub replays history only to a `subscribe` with `since`, and `since` needs the topic's
 * epoch. A page that was here before resumes from the position it stored, a few dozen messages back, so
 * a reload shows the recent conversation again. A newcomer (or a page whose position is too old) first
 * learns the position from `subscribed`, then subscribes again `HISTORY_STEPS` messages back; when the
 * hub no longer keeps that much (history has a size and an age bound), it tries fewer.
 * @module
 */
import { Roster } from './chat-roster.js';
import { chatStore, displayName } from './chat-store.js';
import type {
  HubClientLike,
  MessageMeta,
  PresenceEntry,
  StreamPosition,
  SubscribedInfo,
  SubscriptionLike,
} from './sdk.js';

/** How many messages back to ask for, in turn, until the hub has them. */
const HISTORY_STEPS = [50, 10];
/** Longest message text shown. */
const MAX_TEXT = 2000;

/** A chat message as published on `chat.<room>`. */
export interface ChatMessage {
  name: string;
  text: string;
  /** The sender's browser (a random key kept in localStorage), to mark one's own messages. */
  author: string;
  /** Sender's clock, ms since the Unix epoch. */
  at: number;
}

/** One person in the presence list: a name and how many connections use it. */
export interface Person {
  name: string;
  you: boolean;
  connections: number;
}

/** What the room shows. */
export interface RoomView {
  /** Empties the conversation (before history is replayed again). */
  clearMessages(): void;
  /** Appends a message; `mine` when this browser sent it. */
  addMessage(message: ChatMessage, mine: boolean): void;
  /** Appends a line from the page itself (missed messages...). */
  addNotice(text: string): void;
  /** Replaces the presence list. */
  showPeople(people: Person[]): void;
}

/** Reads a message published by another page; null when it is not one. */
export function parseChatMessage(data: unknown): ChatMessage | null {
  const value = data as Partial<ChatMessage> | null;
  if (typeof value !== 'object' || value === null || typeof value.text !== 'string') return null;
  const name = typeof value.name === 'string' ? displayName(value.name) : null;
  const at = typeof value.at === 'number' && Number.isFinite(value.at) ? value.at : Date.now();
  const author = typeof value.author === 'string' ? value.author : '';
  return { name: name ?? 'Guest', text: value.text.slice(0, MAX_TEXT), author, at };
}

/** The page's presence in one room. */
export class ChatRoom {
  readonly topic: string;
  private readonly roster: Roster;
  private readonly present = new Map<string, PresenceEntry>();
  private subscription: SubscriptionLike | null = null;
  private historyTry = 0;
  /** False once left: answers still on their way (presence, roster) must not draw into the next room. */
  private active = true;
  /** The last message shown (messages at or before it are not shown again). */
  private last: StreamPosition | null = null;

  constructor(
    private readonly client: HubClientLike,
    readonly room: string,
    private readonly me: { name(): string; author: string },
    private readonly view: RoomView,
  ) {
    this.topic = `chat.${room}`;
    this.roster = new Roster(
      client,
      room,
      () => me.name(),
      () => this.showPeople(),
    );
  }

  /** Joins: roster first (so answers to our question come), then the room, resuming where we were. */
  enter(): void {
    this.roster.start();
    const stored = chatStore.position(this.room);
    const back = HISTORY_STEPS[0]!;
    this.subscribe(
      stored === null ? undefined : { offset: Math.max(0, stored.offset - back), epoch: stored.epoch },
    );
  }

  /** Leaves the room. */
  leave(): void {
    this.active = false;
    this.subscription?.unsubscribe();
    this.subscription = null;
    this.roster.stop();
  }

  /** Publishes a message; resolves once the hub stored it. */
  async send(text: string): Promise<void> {
    const message: ChatMessage = { name: this.me.name(), text, author: this.me.author, at: Date.now() };
    await this.client.publish(this.topic, message, { ack: true });
  }

  /** This page's name changed: tell the room. */
  renamed(): void {
    this.roster.announce(false);
    this.showPeople();
  }

  private subscribe(since: StreamPosition | undefined): void {
    this.subscription = this.client.subscribe(this.topic, {
      ...(since === undefined ? {} : { since }),
      onMessage: (data, meta) => this.received(data, meta),
      onJoin: (event) => {
        this.present.set(event.client, event);
        this.showPeople();
      },
      onLeave: (event) => {
        this.present.delete(event.client);
        this.roster.forget(event.client);
        this.showPeople();
      },
      onSubscribed: (info) => this.subscribed(info),
    });
  }

  private subscribed(info: SubscribedInfo): void {
    if (!this.active) return;
    void this.refreshPresence();
    if (info.recovered) {
      // What was asked for follows (history, or the messages missed while disconnected).
      this.historyTry = 0;
      return;
    }
    const back = HISTORY_STEPS[this.historyTry];
    if (back === undefined || info.offset === 0) {
      if (info.resumed && this.last !== null) this.view.addNotice('Some messages may have been missed.');
      return;
    }
    this.historyTry++;
    // Subscribe again from a position of this epoch: the hub then replays what it still keeps.
    const wasShowing = this.last !== null;
    this.view.clearMessages();
    if (wasShowing) this.view.addNotice('Messages were missed: showing the recent conversation again.');
    this.last = null;
    this.subscription?.unsubscribe();
    this.subscribe({ offset: Math.max(0, info.offset - back), epoch: info.epoch });
  }

  private received(data: unknown, meta: MessageMeta): void {
    if (!this.active) return;
    const last = this.last;
    if (last !== null && last.epoch === meta.epoch && meta.offset <= last.offset) return;
    this.last = { offset: meta.offset, epoch: meta.epoch };
    chatStore.setPosition(this.room, this.last);
    const message = parseChatMessage(data);
    if (message === null) return;
    this.view.addMessage(message, message.author !== '' && message.author === this.me.author);
  }

  private async refreshPresence(): Promise<void> {
    const entries = await this.client.presence(this.topic).catch(() => null);
    if (entries === null || !this.active) return;
    this.present.clear();
    for (const entry of entries) this.present.set(entry.client, entry);
    this.showPeople();
  }

  private showPeople(): void {
    if (!this.active) return;
    const people = new Map<string, Person>();
    for (const client of this.present.keys()) {
      const you = client === this.client.clientId;
      const name = you ? this.me.name() : (this.roster.nameOf(client) ?? 'Guest');
      const key = `${you ? 1 : 0}\n${name}`;
      const person = people.get(key) ?? { name, you, connections: 0 };
      person.connections++;
      people.set(key, person);
    }
    const sorted = [...people.values()].sort(
      (a, b) => Number(b.you) - Number(a.you) || a.name.localeCompare(b.name),
    );
    this.view.showPeople(sorted);
  }
}
