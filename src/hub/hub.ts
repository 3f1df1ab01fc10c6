/**
 * The realtime hub: topics, presence, history and resume over the `conduit.v1` protocol, on top of a
 * `WebSocketServer` and an {@link Engine}.
 * @module
 */
import type { Registry } from 'prom-client';
import type { Engine, PresenceEntry, PublishResult } from '../engines/engine.js';
import { MemoryEngine } from '../engines/memory-engine.js';
import { isValidTopic } from '../engines/topic-pattern.js';
import { logsAt } from '../observability/logger.js';
import type { WebSocketConnection } from '../server/connection.js';
import { createJwtVerifier, type JwtVerifier } from '../server/middleware/jwt.js';
import type { WebSocketServer } from '../server/server.js';
import type { UpgradeRequest } from '../server/upgrade-request.js';
import { HubConnections } from './connections.js';
import { catchUp, fanOutPresence, fanOutPublication } from './fanout.js';
import type { HubContext } from './hub-context.js';
import { HubStats, registerHubMetrics } from './hub-stats.js';
import { LocalTopics } from './local-topics.js';
import { type HubConfig, type HubOptions, resolveHubOptions } from './options.js';
import { engineTopicOf } from './requests.js';
import { createHubServer, type HubServerOptions } from './server.js';
import { TopicPolicies } from './topic-policies.js';

/** Options of {@link Hub.publish}. */
export interface ServerPublishOptions {
  /** Tenant whose topic this is ('' for none). Default ''. */
  tenant?: string;
  /** Deliver only to connections of these user ids. */
  users?: string[];
  /** Do not deliver to this client id (e.g. the connection the message came from). */
  exclude?: string;
  /** Makes the publish idempotent under this key (see `Engine.publish`). */
  idempotencyKey?: string;
}

/**
 * A realtime hub. `attach` serves it on a new `WebSocketServer` (or `accept` hands it connections
 * accepted elsewhere); `publish` sends from server code; `close` stops everything.
 */
export class Hub implements HubContext {
  readonly config: HubConfig;
  readonly engine: Engine;
  readonly policies: TopicPolicies;
  readonly topics: LocalTopics;
  readonly stats = new HubStats();
  /** The JWT verifier built from `options.jwt`, or null. */
  readonly jwtVerifier: JwtVerifier | null;
  private readonly connections: HubConnections;
  private readonly servers: WebSocketServer[] = [];
  private readonly ownsEngine: boolean;
  private readonly started: Promise<void>;
  private readonly presenceTimer: NodeJS.Timeout;
  engineStarted = false;
  private degradedSince = 0;
  private closed = false;

  constructor(options: HubOptions = {}) {
    this.jwtVerifier =
      options.jwt === undefined ? null : createJwtVerifier({ defaultTenant: '', ...options.jwt });
    const verifier = this.jwtVerifier;
    this.config = resolveHubOptions(
      verifier === null || options.verifyToken !== undefined
        ? options
        : { ...options, verifyToken: (token) => verifier.verify(token) },
    );
    this.engine = this.config.engine ?? new MemoryEngine();
    this.ownsEngine = this.config.engine === null;
    this.policies = new TopicPolicies(this.config.topics);
    this.topics = new LocalTopics(this.engine, this.config.logger);
    this.connections = new HubConnections(this);
    this.started = this.engine.start({
      onPublication: (publication) => fanOutPublication(this.topics, this.stats, publication),
      onJoin: (topic, entry) => fanOutPresence(this.topics, 'join', topic, entry),
      onLeave: (topic, entry) => fanOutPresence(this.topics, 'leave', topic, entry),
      onAvailability: (available) => this.availabilityChanged(available),
    });
    this.started.then(
      () => {
        this.engineStarted = true;
      },
      (error: unknown) =>
        this.config.logger?.error({ err: error, engine: this.engine.name }, 'engine failed to start'),
    );
    const refresh = Math.max(1000, Math.floor(this.config.presenceTtlMs / 3));
    this.presenceTimer = setInterval(() => this.connections.refreshPresence(), refresh).unref();
    if (this.config.registry !== null) this.registerMetrics(this.config.registry);
  }

  /** Resolves once the engine is connected (requests wait for it anyway). */
  ready(): Promise<void> {
    return this.started;
  }

  /**
   * Serves the hub on a new `WebSocketServer` made from `options` (port, path, TLS, limits…), with the
   * hub's subprotocol negotiation and the upgrade policies of `options` (origins, rate limit, JWT).
   */
  attach(options: HubServerOptions = {}): WebSocketServer {
    const server = createHubServer(this, options);
    server.on('connection', (connection: WebSocketConnection, request: UpgradeRequest) =>
      this.accept(connection, request),
    );
    this.servers.push(server);
    return server;
  }

  /** Serves a connection accepted elsewhere (its subprotocol must be `conduit.v1` or none). */
  accept(connection: WebSocketConnection, request: UpgradeRequest): void {
    if (this.closed) {
      connection.close(1001, 'hub closed');
      return;
    }
    this.connections.accept(connection, request);
  }

  /** Publishes `data` (any JSON value) on `topic` from server code. */
  async publish(topic: string, data: unknown, options: ServerPublishOptions = {}): Promise<PublishResult> {
    if (!isValidTopic(topic, false)) throw new RangeError(`invalid topic name: ${JSON.stringify(topic)}`);
    await this.started;
    return this.engine.publish(engineTopicOf(this, options.tenant ?? '', topic), JSON.stringify(data), {
      history: this.policies.of(topic).history,
      publisher: options.exclude ?? '',
      excludePublisher: options.exclude !== undefined,
      ...(options.users === undefined ? {} : { users: options.users }),
      ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
    });
  }

  /** The connections present in `topic` (on every node). */
  async presence(topic: string, tenant = ''): Promise<PresenceEntry[]> {
    await this.started;
    return this.engine.presence(engineTopicOf(this, tenant, topic));
  }

  /** Open hub connections on this node. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Closes the servers made by `attach` (clients get 1001), then the engine if the hub created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.presenceTimer);
    await Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    this.connections.closeAll();
    await this.started.catch(() => undefined);
    if (this.ownsEngine) await this.engine.close();
  }

  private availabilityChanged(available: boolean): void {
    const logger = this.config.logger;
    if (!available) {
      this.stats.engineAvailable = 0;
      this.degradedSince = Date.now();
      if (logsAt(logger, 'warn'))
        logger.warn({ engine: this.engine.name }, 'engine unavailable: hub degraded');
      return;
    }
    this.stats.engineAvailable = 1;
    const seconds = this.degradedSince === 0 ? 0 : (Date.now() - this.degradedSince) / 1000;
    this.stats.degradedSeconds += seconds;
    this.degradedSince = 0;
    if (logsAt(logger, 'info'))
      logger.info({ engine: this.engine.name, degradedSeconds: seconds }, 'engine available again');
    this.catchUpAll();
  }

  /** After an outage: fans out what other nodes published while this one could not hear them. */
  private catchUpAll(): void {
    const logger = this.config.logger;
    for (const topic of [...this.topics.exact.keys()]) {
      catchUp(this.engine, this.topics, this.stats, topic).then(
        (complete) => {
          if (!complete)
            logger?.warn({ topic }, 'history no longer covers the outage: subscribers missed messages');
        },
        (error: unknown) => logger?.warn({ err: error, topic }, 'catch-up after the outage failed'),
      );
    }
  }

  private registerMetrics(registry: Registry): void {
    registerHubMetrics(registry, this.stats, {
      connections: () => this.connections.size,
      subscriptions: () => this.connections.subscriptionCount(),
      topics: () => this.topics.size,
      queuedBytes: () => this.connections.queuedBytes(),
    });
  }
}
