/**
 * The client-facing listeners of the gateway: one `http` or `https` server per `listen:` entry, whose
 * 'upgrade' events go to the proxy and whose plain requests go to the HTTP side. A reload reconciles
 * the set: ports in both configurations keep their server (and so their sockets and connections; a wss
 * listener just gets the new certificates), new ports are bound before anything else changes, and
 * ports that left the configuration stop accepting while their connections live on.
 * @module
 */
import type { Buffer } from 'node:buffer';
import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { ListenerConfig } from './config/types.js';
import { sniContext, type TlsMaterial } from './gateway-tls.js';

/** Where listener traffic goes. */
export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A listener failed after it started (rare: the OS took the socket away). */
  error(error: Error, listener: ListenerInfo): void;
}

/** A listener as /status and the CLI show it. */
export interface ListenerInfo {
  /** `ws://host:port` or `wss://host:port`, with the bound port. */
  url: string;
  host: string;
  port: number;
  secure: boolean;
}

/** `ws://host:port`, IPv6 literals in brackets. */
export function listenerUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** One bound listener. */
class Listener {
  readonly key: string;
  readonly secure: boolean;
  readonly server: HttpServer | HttpsServer;
  private material: TlsMaterial | null;

  constructor(
    key: string,
    readonly config: ListenerConfig,
    material: TlsMaterial | null,
    handlers: ListenerHandlers,
  ) {
    this.key = key;
    this.material = material;
    this.secure = material !== null;
    this.server =
      material === null
        ? createHttpServer()
        : createHttpsServer({ cert: material.cert, key: material.key, SNICallback: this.selectContext });
    this.server.on('request', handlers.request);
    this.server.on('upgrade', handlers.upgrade);
  }

  /** Binds; rejects with the listen error (EADDRINUSE...). */
  listen(handlers: ListenerHandlers): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off('error', reject);
        this.server.on('error', (error: Error) => handlers.error(error, this.info()));
        resolve();
      });
    });
  }

  /** New certificates (a reload): new handshakes use them, established sessions are unaffected. */
  update(material: TlsMaterial | null): void {
    if (material === null || !this.secure) return;
    this.material = material;
    (this.server as HttpsServer).setSecureContext({ cert: material.cert, key: material.key });
  }

  /** Stops accepting; open connections (proxied WebSockets included) are left alone. */
  stopAccepting(): void {
    this.server.close();
    this.server.closeIdleConnections();
  }

  info(): ListenerInfo {
    const address = this.server.address() as AddressInfo | null;
    const port = address?.port ?? this.config.port;
    const host = this.config.host;
    return { url: listenerUrl(this.secure ? 'wss' : 'ws', host, port), host, port, secure: this.secure };
  }

  private readonly selectContext = (
    serverName: string,
    callback: (error: Error | null, context?: SecureContext) => void,
  ): void => {
    callback(null, this.material === null ? undefined : sniContext(this.material, serverName));
  };
}

/** Identity of a listener across reloads: host and port (port 0 by position, it has no fixed port). */
function keyOf(config: ListenerConfig, index: number): string {
  return config.port === 0 ? `${config.host}:0#${index}` : `${config.host}:${config.port}`;
}

/** Waits one turn of the event loop, so that a closed listening handle has released its port. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The listeners of the current configuration. */
export class ListenerSet {
  private listeners = new Map<string, Listener>();
  /** Listeners stopped by a reload or drain: their idle keep-alive sockets are closed at the end. */
  private retired: Listener[] = [];

  constructor(private readonly handlers: ListenerHandlers) {}

  /**
   * Makes the bound listeners those of `configs` (`materials[i]` is the TLS of `configs[i]`). New
   * listeners are bound first; if one cannot be, those just bound are closed and the error is thrown
   * with nothing else changed — except a listener switching between ws and wss, which is closed before
   * its successor is bound on the same port.
   */
  async apply(configs: readonly ListenerConfig[], materials: readonly (TlsMaterial | null)[]): Promise<void> {
    const wanted = configs.map((config, index) => ({
      key: keyOf(config, index),
      config,
      material: materials[index] ?? null,
    }));
    const added = wanted.filter(
      ({ key, material }) => this.listeners.get(key)?.secure !== (material !== null),
    );
    const replaced = added.flatMap(({ key }) => this.listeners.get(key) ?? []);
    if (replaced.length > 0) {
      for (const listener of replaced) {
        this.retire(listener);
        this.listeners.delete(listener.key);
      }
      await nextTurn();
    }
    const bound = await this.bindAll(
      added.map((entry) => new Listener(entry.key, entry.config, entry.material, this.handlers)),
    );
    const fresh = new Map(bound.map((listener) => [listener.key, listener]));
    const next = new Map<string, Listener>();
    for (const { key, material } of wanted) {
      const listener = fresh.get(key) ?? this.listeners.get(key)!;
      if (!fresh.has(key)) listener.update(material);
      next.set(key, listener);
    }
    for (const listener of this.listeners.values()) {
      if (!next.has(listener.key)) this.retire(listener);
    }
    this.listeners = next;
  }

  /** Every listener, in configuration order, as plain data. */
  list(): ListenerInfo[] {
    return [...this.listeners.values()].map((listener) => listener.info());
  }

  /** Stops accepting on every listener (the drain). */
  stopAccepting(): void {
    for (const listener of this.listeners.values()) this.retire(listener);
    this.listeners = new Map();
  }

  /** Destroys the sockets still held by stopped listeners (plain HTTP keep-alives, after a drain). */
  closeConnections(): void {
    for (const listener of this.retired) listener.server.closeAllConnections();
    this.retired = [];
  }

  private async bindAll(listeners: Listener[]): Promise<Listener[]> {
    const bound: Listener[] = [];
    try {
      for (const listener of listeners) {
        await listener.listen(this.handlers);
        bound.push(listener);
      }
    } catch (error) {
      for (const listener of bound) listener.stopAccepting();
      throw error;
    }
    return bound;
  }

  private retire(listener: Listener): void {
    listener.stopAccepting();
    this.retired.push(listener);
  }
}
