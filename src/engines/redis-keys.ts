/**
 * Names of the Redis keys and pub/sub channels the Redis engine uses, all under one prefix.
 *
 * Per-topic keys carry the topic as a hash tag (`{topic}`) so that every key one script touches hashes to
 * the same slot; topic names cannot contain braces, so the tag is always exactly the topic.
 * @module
 */

/** The keys one topic owns. */
export interface TopicKeys {
  /** Hash: `e` epoch, `o` last offset, `t` last stream-id time, `h` history ttl in ms. */
  readonly meta: string;
  /** Stream of stored publications; entry id `<time>-<offset>`. */
  readonly stream: string;
  /** Sorted set of present clients, scored by expiry time (ms). */
  readonly presenceExpiry: string;
  /** Hash of present clients: client id to the entry's JSON. */
  readonly presenceEntries: string;
  /** Pub/sub channel of the topic: publications and presence events. */
  readonly channel: string;
}

/** Characters that are special in a Redis glob (PSUBSCRIBE). */
const GLOB_SPECIAL = /[*?[\]\\]/g;

/** Escapes `text` so that a Redis glob matches it literally. */
export function escapeGlob(text: string): string {
  return text.replace(GLOB_SPECIAL, '\\$&');
}

/** Key and channel naming for one engine prefix. */
export class RedisKeys {
  /** Every topic channel starts with this. */
  readonly channelPrefix: string;
  /** Sorted set indexing every presence entry of the instance by expiry, for the sweeper. */
  readonly presenceIndex: string;

  constructor(readonly prefix: string) {
    this.channelPrefix = `${prefix}:ch:`;
    this.presenceIndex = `${prefix}:presence-index`;
  }

  /** The keys of `topic`. */
  topic(topic: string): TopicKeys {
    const base = `${this.prefix}:{${topic}}`;
    return {
      meta: `${base}:meta`,
      stream: `${base}:stream`,
      presenceExpiry: `${base}:pz`,
      presenceEntries: `${base}:ph`,
      channel: this.channelPrefix + topic,
    };
  }

  /** The idempotency key of a publish to `topic`. */
  idempotency(topic: string, key: string): string {
    return `${this.prefix}:{${topic}}:idem:${key}`;
  }

  /** The channel of `topic`. */
  channel(topic: string): string {
    return this.channelPrefix + topic;
  }

  /** The topic of a channel name, or null when the channel is not one of ours. */
  topicOf(channel: string): string | null {
    return channel.startsWith(this.channelPrefix) ? channel.slice(this.channelPrefix.length) : null;
  }

  /**
   * A Redis glob matching the channels of every topic `pattern` matches (and possibly more: Redis' `*`
   * also crosses `.`, so `chat.*` and `chat.>` both become `chat.*`). Deliveries are filtered exactly
   * with the compiled pattern afterwards.
   */
  glob(pattern: string): string {
    const parts = pattern.split('.').map((segment) => {
      if (segment === '*' || segment === '>') return '*';
      return escapeGlob(segment);
    });
    return escapeGlob(this.channelPrefix) + parts.join('.');
  }

  /** The presence index member of one client in one topic (topics contain no newline). */
  presenceMember(topic: string, client: string): string {
    return `${topic}\n${client}`;
  }

  /** Splits a presence index member into topic and client. */
  splitPresenceMember(member: string): { topic: string; client: string } {
    const cut = member.indexOf('\n');
    return { topic: member.slice(0, cut), client: member.slice(cut + 1) };
  }
}
