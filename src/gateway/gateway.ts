/**
 * The gateway: listeners, routes, upstreams and the proxy core wired together, with hot reload and
 * drain. Each configuration load becomes a generation — a {@link RuntimeSnapshot} and the
 * client-facing `WebSocketServer` whose upgrade hook reads it — so that a reload is a swap: new
 * connections follow the new generation, live ones keep the backends they were given.
 *
 * The client-facing server tracks no clients and runs no heartbeat (`proxyServerOptions`): each pair
 * runs its route's heartbeat, and draining goes through {@link ProxySessions.closeAll}, which closes
 * tunnels without writing frames into them.
 * @module
 */
import { constants } from 'node:http2';
import type { Registry } from 'prom-client';
import { Registry as PromRegistry } from 'prom-client';
import type { WebSocketTlsOptions } from '../client/options.js';
import { activeLogger, type Logger } from '../observability/logger.js';
import { WebSocketServer } from '../server/server.js';
import type { Environment } from './config/interpolate.js';
import { loadGatewayConfig } from './config/load.js';
import type { AdminConfig, GatewayConfig } from './config/types.js';
import { AdminServer, type ReloadResult } from './gateway-admin.js';
import { BackendWatcher } from './gateway-backend-log.js';
import { handleHttpRequest } from './gateway-http.js';
import { type ListenerInfo, ListenerSet } from './gateway-listeners.js';
import { GatewayMetrics } from './gateway-metrics.js';
import { IpConnectionCounts } from './gateway-middleware.js';
import { answer } from './gateway-reply.js';
import {
  buildSnapshot,
  type PreparedConfig,
  prepareConfig,
  type RuntimeSnapshot,
  serverLimits,
} from './gateway-runtime.js';
import { type GatewayStatus, gatewayStatus } from './gateway-status.js';
import { UpgradeFlow } from './gateway-upgrade.js';
import { ProxyPair } from './proxy/pair.js';
import { proxyServerOptions } from './proxy/server-options.js';
import { ProxySessions } from './proxy/session.js';
import type { Upstream } from './upstream.js';

export type { ReloadResult } from './gateway-admin.js';

/** Options of a {@link Gateway}. */
export interface GatewayOptions {
  /** The file {@link Gateway.reload} reads (SIGHUP, `POST /reload`); shown in /status. */
  configPath?: string;
  /** Variables for `${VAR}` when reloading. Default `process.env`. */
  env?: Environment;
  /** Operational lines (reloads, backend state, drain), pino-compatible. Default: silent. */
  logger?: Logger;
  /** Where the per-connection access log goes. Default: `logger`; false: nowhere. */
  accessLog?: Logger | false;
  /** The prom-client registry of the gateway's metrics. Default: a registry of its own. */
  registry?: Registry;
  /** TLS settings for wss:// and https:// backends and their health checks (a private CA...). */
  upstreamTls?: WebSocketTlsOptions;
}

/** One configuration in force: its snapshot and the server whose hook reads it. */
interface Generation {
  readonly snapshot: RuntimeSnapshot;
  readonly server: WebSocketServer;
}

/** Resolves after `ms`, without keeping the process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** A running (or ready to start) gateway. */
export class Gateway {
  /** Live proxied connections. */
  readonly sessions = new ProxySessions();
  readonly metrics: GatewayMetrics;
  private readonly options: GatewayOptions;
  private readonly logger: Logger | null;
  private readonly listeners: ListenerSet;
  private readonly ipCounts = new IpConnectionCounts();
  private readonly flow: UpgradeFlow;
  private readonly watcher: BackendWatcher;
  private readonly initial: GatewayConfig;
  private generation: Generation | null = null;
  private admin: AdminServer | null = null;
  private draining = false;
  private drained: Promise<void> | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly reloads: GatewayStatus['reloads'] = { ok: 0, failed: 0, lastError: null };

  /** Loads `path` and starts a gateway on it; throws a `GatewayConfigError` for an unusable file. */
  static async load(path: string, options: Omit<GatewayOptions, 'configPath'> = {}): Promise<Gateway> {
    const config = await loadGatewayConfig(path, { env: options.env ?? process.env });
    const gateway = new Gateway(config, { ...options, configPath: path });
    await gateway.start();
    return gateway;
  }

  /**
   * Loads `path` and builds everything a start would (certificates read, middleware compiled) without
   * binding anything: what `conduit gateway --check` runs. Throws a `GatewayConfigError` listing every
   * problem; resolves with the configuration when there is none.
   */
  static async check(
    path: string,
    options: Pick<GatewayOptions, 'env' | 'upstreamTls'> = {},
  ): Promise<GatewayConfig> {
    const config = await loadGatewayConfig(path, { env: options.env ?? process.env });
    prepareConfig(config, path, { upstreamTls: options.upstreamTls });
    return config;
  }

  /** A gateway for `config`; nothing listens until {@link Gateway.start}. */
  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    this.initial = config;
    this.options = options;
    this.logger = activeLogger(options.logger);
    this.watcher = new BackendWatcher(this.logger);
    const accessLog = options.accessLog === false ? null : activeLogger(options.accessLog ?? options.logger);
    this.metrics = new GatewayMetrics(options.registry ?? new PromRegistry(), () => this.upstreams());
    this.flow = new UpgradeFlow({
      metrics: this.metrics,
      ipCounts: this.ipCounts,
      sessions: this.sessions,
      accessLog,
      logger: this.logger,
      draining: () => this.draining,
    });
    this.listeners = new ListenerSet({
      request: (req, res) => {
        const snapshot = this.generation?.snapshot;
        if (snapshot === undefined) answer(res, 503, 'Gateway starting');
        else
          handleHttpRequest(snapshot, req, res, {
            upstreamTls: options.upstreamTls,
            draining: this.draining,
          });
      },
      upgrade: (req, socket, head) => {
        if (this.generation === null) socket.destroy();
        else this.generation.server.handleUpgrade(req, socket, head, this.flow.onConnection);
      },
      stream: (stream, headers) => {
        if (this.generation !== null) {
          this.generation.server.handleHttp2Stream(stream, headers, this.flow.onConnection);
          return;
        }
        stream.on('error', () => {});
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
      },
      error: (error, listener) =>
        this.logger?.error({ err: error, listener: listener.url }, 'listener error'),
    });
  }

  /** The configuration in force. */
  get config(): GatewayConfig {
    return this.generation?.snapshot.config ?? this.initial;
  }

  /** The client-facing listeners (bound ports). */
  get listenerInfo(): ListenerInfo[] {
    return this.listeners.list();
  }

  /** The admin listener's URL, or null. */
  get adminUrl(): string | null {
    return this.admin?.url ?? null;
  }

  /** Binds the listeners and the admin listener and starts health checks. */
  async start(): Promise<void> {
    if (this.generation !== null) throw new Error('The gateway is already started');
    const prepared = this.prepare(this.initial);
    this.install(prepared, null);
    try {
      await this.listeners.apply(this.initial.listen, prepared.tls);
      await this.setAdmin(this.initial.admin);
    } catch (error) {
      this.listeners.stopAccepting();
      this.listeners.closeConnections();
      for (const upstream of this.upstreams()) upstream.stop();
      this.generation = null;
      throw error;
    }
    this.logger?.info(
      { listeners: this.listeners.list().map((l) => l.url), admin: this.adminUrl },
      'gateway started',
    );
  }

  /**
   * Reloads the configuration file. An invalid file (or one whose listeners cannot be bound) is refused
   * and the configuration in force keeps serving; the result says which happened.
   */
  reload(): Promise<ReloadResult> {
    return this.serialize(async () => {
      try {
        if (this.options.configPath === undefined) throw new Error('No configuration file to reload');
        const env = this.options.env ?? process.env;
        await this.applyNow(await loadGatewayConfig(this.options.configPath, { env }));
        return this.reloaded();
      } catch (error) {
        return this.refused(error);
      }
    });
  }

  /**
   * Applies `config` as a reload would (counted and logged as one); throws, changing nothing, when it
   * cannot be used.
   */
  apply(config: GatewayConfig): Promise<ReloadResult> {
    return this.serialize(async () => {
      try {
        await this.applyNow(config);
      } catch (error) {
        this.refused(error);
        throw error;
      }
      return this.reloaded();
    });
  }

  /**
   * Drains: stops accepting, closes every proxied connection with 1001 (both sides), waits up to
   * `timeoutMs` (default the configuration's `drainTimeout`) for them to finish, cuts what remains,
   * then stops health checks and the admin listener. Idempotent.
   */
  drain(timeoutMs: number = this.config.drainTimeoutMs): Promise<void> {
    this.drained ??= this.drainNow(timeoutMs);
    return this.drained;
  }

  /** {@link Gateway.drain} with a short grace period (tests, embedding). */
  close(): Promise<void> {
    return this.drain(Math.min(this.config.drainTimeoutMs, 2000));
  }

  /** The state as plain data (`GET /status`). */
  status(): GatewayStatus {
    const snapshot = this.generation?.snapshot;
    if (snapshot === undefined) throw new Error('The gateway is not started');
    return gatewayStatus(snapshot, {
      source: this.options.configPath ?? 'config',
      reloads: { ...this.reloads },
      draining: this.draining,
      listeners: this.listeners.list(),
      admin: this.adminUrl,
      connections: this.sessions.live.size,
    });
  }

  private upstreams(): Iterable<Upstream> {
    return this.generation?.snapshot.upstreams.values() ?? [];
  }

  private prepare(config: GatewayConfig): PreparedConfig {
    return prepareConfig(config, this.options.configPath ?? 'config', {
      upstreamTls: this.options.upstreamTls,
    });
  }

  /** Builds and swaps in the generation of `prepared`; retires `previous`. */
  private install(prepared: PreparedConfig, previous: Generation | null): void {
    const snapshot = buildSnapshot(prepared, previous?.snapshot ?? null, this.metrics.traffic, {
      tls: this.options.upstreamTls,
    });
    const server = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      ...proxyServerOptions(),
      ...serverLimits(prepared.config),
      upgrade: this.flow.hook(snapshot),
    });
    server.on('handshakeError', (error: unknown) =>
      this.logger?.error({ err: error }, 'upgrade hook failed'),
    );
    this.generation = { snapshot, server };
    this.watcher.watch(snapshot);
    for (const upstream of snapshot.upstreams.values()) upstream.start();
    if (previous === null) return;
    for (const [name, upstream] of previous.snapshot.upstreams) {
      upstream.stop();
      for (const backend of upstream.removedIn(snapshot.upstreams.get(name) ?? null)) backend.dispose();
    }
  }

  private async applyNow(config: GatewayConfig): Promise<void> {
    if (this.draining || this.generation === null) throw new Error('The gateway is not serving');
    const prepared = this.prepare(config);
    const admin = await this.prepareAdmin(config.admin);
    try {
      await this.listeners.apply(config.listen, prepared.tls);
    } catch (error) {
      if (admin !== this.admin) admin?.close();
      throw error;
    }
    this.install(prepared, this.generation);
    if (admin !== this.admin) {
      this.admin?.close();
      this.admin = admin;
    }
  }

  /** The admin server for `config`: the current one when unchanged, else a new bound one. */
  private async prepareAdmin(config: AdminConfig | null): Promise<AdminServer | null> {
    const current = this.admin;
    if (config === null) return null;
    if (current !== null && current.config.host === config.host && current.config.port === config.port)
      return current;
    const admin = new AdminServer(config, {
      metrics: () => this.metrics.text(),
      status: () => this.status(),
      serving: () => !this.draining,
      reload: () => this.reload(),
      failed: (error, path) => this.logger?.error({ err: error, path }, 'admin endpoint failed'),
    });
    await admin.listen();
    return admin;
  }

  private async setAdmin(config: AdminConfig | null): Promise<void> {
    this.admin = await this.prepareAdmin(config);
  }

  private reloaded(): ReloadResult {
    const loadedAt = this.generation!.snapshot.loadedAt.toISOString();
    this.reloads.ok++;
    this.metrics.reloaded(true);
    this.logger?.info({ source: this.options.configPath, loadedAt }, 'configuration reloaded');
    return { ok: true, loadedAt };
  }

  private refused(error: unknown): ReloadResult {
    const message = error instanceof Error ? error.message : String(error);
    this.reloads.failed++;
    this.reloads.lastError = message;
    this.metrics.reloaded(false);
    this.logger?.error(
      { source: this.options.configPath, error: message },
      'reload refused: the old configuration keeps serving',
    );
    return { ok: false, error: message };
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => {});
    return run;
  }

  private async drainNow(timeoutMs: number): Promise<void> {
    this.draining = true;
    this.logger?.info({ connections: this.sessions.live.size, timeoutMs }, 'draining');
    this.listeners.stopAccepting();
    this.sessions.closeAll();
    await Promise.race([this.sessions.whenIdle(), delay(timeoutMs)]);
    if (this.sessions.live.size > 0) {
      this.logger?.warn({ connections: this.sessions.live.size }, 'drain timeout: cutting connections');
      for (const session of this.sessions.live) {
        session.client.terminate();
        if (session instanceof ProxyPair) session.upstream.terminate();
      }
      await Promise.race([this.sessions.whenIdle(), delay(1000)]);
    }
    this.listeners.closeConnections();
    for (const upstream of this.upstreams()) upstream.stop();
    this.admin?.close();
    this.logger?.info('drained');
  }
}
