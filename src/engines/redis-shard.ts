/**
 * One Redis instance as the engine sees it: a command connection (scripts) and a subscriber connection
 * (pub/sub), their availability, and the reference-counted subscriptions that are restored on every
 * reconnect.
 *
 * Nothing waits for Redis: both connections refuse commands while disconnected (no offline queue) and fail
 * commands in flight when the connection drops (no retries), so an operation rejects at once with
 * `ERR_ENGINE_UNAVAILABLE` instead of hanging; `commandTimeoutMs` bounds a command to a server that stopped
 * answering without closing the socket.
 * @module
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../observability/logger.js';
import { EngineError } from './engine.js';
import { isNoScript, redactUrl, toEngineError, unavailable } from './redis-errors.js';
import { SCRIPTS, type ScriptName } from './redis-scripts.js';
import { SubscriptionTable } from './redis-subscriptions.js';

/** Connection settings of a shard (resolved engine options). */
export interface ShardSettings {
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  reconnectDelayMs: number;
  maxReconnectDelayMs: number;
  /** Extra ioredis options (TLS, credentials, db); the engine's own settings take precedence. */
  redisOptions: RedisOptions;
  logger: Logger | null;
}

/** What a shard reports to its engine. */
export interface ShardEvents {
  message(shard: RedisShard, channel: string, message: string): void;
  pmessage(shard: RedisShard, glob: string, channel: string, message: string): void;
  /** The shard became usable (both connections ready, subscriptions restored) or stopped being so. */
  availability(shard: RedisShard, available: boolean): void;
  /** A connection came back after a loss. */
  reconnected(shard: RedisShard): void;
}

const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, source]) => [name, createHash('sha1').update(source).digest('hex')]),
) as Record<ScriptName, string>;

type Arg = string | number;

/** One Redis instance of the engine. */
export class RedisShard {
  readonly command: Redis;
  readonly subscriber: Redis;
  /** Concrete topic channels held by this node. */
  readonly channels: SubscriptionTable;
  /** Pattern globs held by this node. */
  readonly globs: SubscriptionTable;
  /** Both connections ready and every subscription restored. */
  available = false;
  /** Where the shard points, without its password: its name in logs and on the hash ring. */
  readonly where: string;
  private commandReady = false;
  /**
   * Scripts sent with EVAL on the current command connection: from then on EVALSHA finds them, since
   * Redis runs a connection's commands in order. Cleared when the connection closes (a restarted Redis
   * has an empty script cache).
   */
  private readonly loadedScripts = new Set<ScriptName>();
  private subscriberReady = false;
  private subscriberGeneration = 0;
  private readonly everReady = { command: false, subscriber: false };
  /** Callers of {@link start} waiting for the shard to become usable (or to close: an error). */
  private waiters: ((err?: Error) => void)[] = [];
  private closing = false;

  /** @param url The instance's URL. */
  constructor(
    private readonly url: string,
    private readonly settings: ShardSettings,
    private readonly events: ShardEvents,
  ) {
    this.where = redactUrl(url);
    this.command = this.connection('command');
    this.subscriber = this.connection('subscriber');
    const sub = this.subscriber;
    // Refused up front while disconnected; a connection that dropped without telling yet fails the send.
    const whenReady = <T>(send: () => Promise<T>): Promise<T> =>
      sub.status === 'ready'
        ? send().catch((err: unknown) => Promise.reject(toEngineError(err, this.where)))
        : Promise.reject(unavailable(this.where));
    this.channels = new SubscriptionTable({
      subscribe: (names) => whenReady(() => sub.subscribe(...names)),
      unsubscribe: (names) => sub.unsubscribe(...names),
    });
    this.globs = new SubscriptionTable({
      subscribe: (names) => whenReady(() => sub.psubscribe(...names)),
      unsubscribe: (names) => sub.punsubscribe(...names),
    });
    this.watch();
  }

  private connection(role: 'command' | 'subscriber'): Redis {
    const { settings } = this;
    return new Redis(this.url, {
      ...settings.redisOptions,
      connectionName: `conduit-engine-${role}`,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      autoResubscribe: false,
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: settings.commandTimeoutMs,
      retryStrategy: (attempt) => {
        const delay = Math.min(settings.reconnectDelayMs * 2 ** (attempt - 1), settings.maxReconnectDelayMs);
        // Jitter keeps a fleet of nodes from reconnecting in lockstep after a Redis restart.
        return Math.round(delay * (0.75 + Math.random() * 0.5));
      },
    });
  }

  private watch(): void {
    const { command, subscriber } = this;
    command.on('ready', () => {
      this.commandReady = true;
      this.noteReady('command');
      this.update();
    });
    command.on('close', () => {
      this.commandReady = false;
      this.loadedScripts.clear();
      this.update();
    });
    subscriber.on('ready', () => {
      this.noteReady('subscriber');
      void this.restoreSubscriptions();
    });
    subscriber.on('close', () => {
      this.subscriberGeneration++;
      this.subscriberReady = false;
      this.update();
    });
    subscriber.on('message', (channel: string, message: string) =>
      this.events.message(this, channel, message),
    );
    subscriber.on('pmessage', (glob: string, channel: string, message: string) =>
      this.events.pmessage(this, glob, channel, message),
    );
    // Without a listener ioredis prints every connection error; the availability change is what matters.
    const onError = (err: Error): void =>
      this.settings.logger?.debug({ err, redis: this.where }, 'redis error');
    command.on('error', onError);
    subscriber.on('error', onError);
  }

  private noteReady(role: 'command' | 'subscriber'): void {
    if (this.everReady[role]) this.events.reconnected(this);
    this.everReady[role] = true;
  }

  /** Restores every subscription on a fresh subscriber connection, then reports the shard usable. */
  private async restoreSubscriptions(): Promise<void> {
    const generation = ++this.subscriberGeneration;
    try {
      await Promise.all([this.channels.resubscribe(), this.globs.resubscribe()]);
    } catch (err) {
      if (generation !== this.subscriberGeneration || this.closing) return;
      // The connection is up but refused the subscriptions: start it over rather than run without them.
      this.settings.logger?.warn({ err, redis: this.where }, 'redis resubscribe failed, reconnecting');
      this.subscriber.disconnect(true);
      return;
    }
    if (generation !== this.subscriberGeneration) return;
    this.subscriberReady = true;
    this.update();
  }

  private update(): void {
    if (this.closing) return;
    const available = this.commandReady && this.subscriberReady;
    if (available === this.available) return;
    this.available = available;
    if (available) for (const wake of this.waiters.splice(0)) wake();
    this.events.availability(this, available);
  }

  /** Connects both connections; rejects with `ERR_ENGINE_UNAVAILABLE` when not usable within `timeoutMs`. */
  async start(timeoutMs: number): Promise<void> {
    const usable = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(unavailable(this.where)), timeoutMs);
      this.waiters.push((err) => {
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      });
    });
    this.command.connect().catch(() => {});
    this.subscriber.connect().catch(() => {});
    await usable;
  }

  /**
   * Runs one of the engine's scripts. Its first call on a connection is an EVAL, which also loads it, and
   * the calls sent behind it are EVALSHAs. Trying EVALSHA first and falling back to EVAL on NOSCRIPT
   * would reorder calls made in a burst: the first fallback EVAL loads the script, so EVALSHAs sent after
   * it succeed before the fallbacks of those sent before it (publications would leave out of order).
   * The NOSCRIPT fallback stays for a cache flushed behind our back (SCRIPT FLUSH).
   */
  async run(script: ScriptName, keys: readonly string[], args: readonly Arg[]): Promise<unknown> {
    if (!this.commandReady) throw unavailable(this.where);
    if (this.loadedScripts.has(script)) {
      try {
        return await this.command.evalsha(SHAS[script], keys.length, ...keys, ...args);
      } catch (err) {
        if (!isNoScript(err)) throw toEngineError(err, this.where);
      }
    }
    // Marked before the reply: what is sent after this EVAL reaches Redis after it.
    this.loadedScripts.add(script);
    try {
      return await this.command.eval(SCRIPTS[script], keys.length, ...keys, ...args);
    } catch (err) {
      throw toEngineError(err, this.where);
    }
  }

  /** Closes both connections (politely, then at once if QUIT gets no answer). */
  async close(): Promise<void> {
    this.closing = true;
    this.channels.clear();
    this.globs.clear();
    const closed = new EngineError('ERR_ENGINE_CLOSED', 'The engine was closed');
    for (const wake of this.waiters.splice(0)) wake(closed);
    await Promise.all([quit(this.command), quit(this.subscriber)]);
  }
}

async function quit(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    await redis.quit().catch(() => {});
  }
  redis.disconnect();
}
