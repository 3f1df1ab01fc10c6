/**
 * The client-facing listeners of the gateway: one `http` or `https` server per `listen:` entry, whose
 * 'upgrade' events go to the proxy and whose plain requests go to the HTTP side; with `http2`, the
 * same port also takes WebSockets over HTTP/2 (RFC 8441, see {@link Http2Side}). A reload reconciles
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
import {
  constants,
  createServer as createHttp2Server,
  type Http2Server,
  type IncomingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext, TLSSocket } from 'node:tls';
import { type PrefaceSink, PrefaceSniffer } from '../server/http2-preface.js';
import { sharedTimerWheel } from '../transport/timer-wheel.js';
import type { ListenerConfig } from './config/types.js';
import { sniContext, type TlsMaterial } from './gateway-tls.js';

/** Where listener traffic goes. */
export interface ListenerHandlers {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** A CONNECT stream of an HTTP/2 listener: a WebSocket over HTTP/2 (RFC 8441), or a bad request. */
  stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void;
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
  /** True when it also takes WebSockets over HTTP/2. */
  http2?: boolean;
}

/** `ws://host:port`, IPv6 literals in brackets. */
export function listenerUrl(scheme: string, host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** ALPN protocols of a wss listener with `http2`, preferred first (RFC 7301). */
const HTTP2_ALPN: readonly string[] = ['h2', 'http/1.1'];

/** Stream errors after a reset we sent: nothing to do. */
function ignore(): void {}

/**
 * HTTP/2 streams other than CONNECT (plain requests) are reset with HTTP_1_1_REQUIRED (RFC 9113 §7):
 * browsers and curl repeat them over HTTP/1.1, where the routes' `http` handling applies unchanged.
 */
function onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, handlers: ListenerHandlers): void {
  if (headers[':method'] === 'CONNECT') {
    handlers.stream(stream, headers);
    return;
  }
  stream.on('error', ignore);
  stream.close(constants.NGHTTP2_HTTP_1_1_REQUIRED);
}

/**
 * The HTTP/2 side of a listener with `http2`. The listening `http`/`https` server keeps HTTP/1.1 (its
 * requests, upgrades, keep-alives and timeouts work as without HTTP/2): HTTP/2 connections are taken
 * from it before its HTTP/1.1 parser sees them — by ALPN over TLS, by their first bytes in cleartext
 * (the h2c preface, RFC 9113 §3.4) — and handed to a private `node:http2` server that never listens and
 * advertises SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3). `node:http2`'s own `allowHTTP1` would not
 * do: it works over TLS only, and without the http server's tracking of idle keep-alive connections.
 */
class Http2Side implements PrefaceSink {
  private readonly server: Http2Server;
  /** The listening server's own listeners of the event: its HTTP/1.1 side, now for HTTP/1.1 sockets only. */
  private readonly http1Listeners: ((socket: Socket) => void)[];
  private readonly sessions = new Set<ServerHttp2Session>();
  private readonly sniffers = new Set<PrefaceSniffer>();

  constructor(
    private readonly listening: HttpServer | HttpsServer,
    secure: boolean,
    handlers: ListenerHandlers,
  ) {
    this.server = createHttp2Server({ settings: { enableConnectProtocol: true } });
    this.server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) =>
      onStream(stream, headers, handlers),
    );
    this.server.on('session', this.onSession);
    const event = secure ? 'secureConnection' : 'connection';
    this.http1Listeners = listening.listeners(event) as ((socket: Socket) => void)[];
    listening.removeAllListeners(event);
    listening.on(event, secure ? this.routeTls : this.routeCleartext);
  }

  /** Stops: sockets still being sniffed are cut; sessions get GOAWAY and end with their last stream. */
  stopAccepting(): void {
    for (const sniffer of this.sniffers) sniffer.socket.destroy();
    this.sniffers.clear();
    for (const session of this.sessions) session.close();
  }

  /** Cuts the sessions still open (after a drain). */
  closeAll(): void {
    for (const session of this.sessions) session.destroy();
  }

  /** @internal */
  http1(sniffer: PrefaceSniffer, head: Buffer): void {
    this.sniffers.delete(sniffer);
    this.toHttp1(sniffer.socket, head);
  }

  /** @internal */
  http2(sniffer: PrefaceSniffer, head: Buffer): void {
    this.sniffers.delete(sniffer);
    const socket = sniffer.socket;
    socket.pause();
    socket.unshift(head);
    this.server.emit('connection', socket);
  }

  /** @internal */
  abandoned(sniffer: PrefaceSniffer): void {
    this.sniffers.delete(sniffer);
  }

  private toHttp1(socket: Socket, head: Buffer | null): void {
    for (const listener of this.http1Listeners) listener.call(this.listening, socket);
    // The http server's parser reads from the socket's handle from now on; what the sniffer read
    // goes to it first, as a 'data' event.
    if (head !== null) socket.emit('data', head);
  }

  private readonly routeTls = (socket: TLSSocket): void => {
    if (socket.alpnProtocol === 'h2') this.server.emit('connection', socket);
    else this.toHttp1(socket, null);
  };

  private readonly routeCleartext = (socket: Socket): void => {
    const timeout = this.listening.headersTimeout;
    this.sniffers.add(new PrefaceSniffer(socket, this, sharedTimerWheel(), timeout));
  };

  private readonly onSession = (session: ServerHttp2Session): void => {
    this.sessions.add(session);
    session.once('close', () => this.sessions.delete(session));
  };
}

/** One bound listener. */
class Listener {
  readonly key: string;
  readonly secure: boolean;
  readonly http2: boolean;
  readonly server: HttpServer | HttpsServer;
  private readonly h2: Http2Side | null;
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
    this.http2 = config.http2 === true;
    const alpn = this.http2 ? { ALPNProtocols: [...HTTP2_ALPN] } : {};
    this.server =
      material === null
        ? createHttpServer()
        : createHttpsServer({
            cert: material.cert,
            key: material.key,
            SNICallback: this.selectContext,
            ...alpn,
          });
    this.server.on('request', handlers.request);
    this.server.on('upgrade', handlers.upgrade);
    this.h2 = this.http2 ? new Http2Side(this.server, this.secure, handlers) : null;
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
    this.h2?.stopAccepting();
  }

  /** Destroys the connections it still holds (keep-alives, HTTP/2 sessions). */
  closeConnections(): void {
    this.server.closeAllConnections();
    this.h2?.closeAll();
  }

  info(): ListenerInfo {
    const address = this.server.address() as AddressInfo | null;
    const port = address?.port ?? this.config.port;
    const host = this.config.host;
    const url = listenerUrl(this.secure ? 'wss' : 'ws', host, port);
    return { url, host, port, secure: this.secure, http2: this.http2 };
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
   * with nothing else changed — except a listener switching between ws and wss, or HTTP/2 on and off,
   * which is closed before its successor is bound on the same port.
   */
  async apply(configs: readonly ListenerConfig[], materials: readonly (TlsMaterial | null)[]): Promise<void> {
    const wanted = configs.map((config, index) => ({
      key: keyOf(config, index),
      config,
      material: materials[index] ?? null,
    }));
    const added = wanted.filter(({ key, config, material }) => {
      const current = this.listeners.get(key);
      return current?.secure !== (material !== null) || current.http2 !== (config.http2 === true);
    });
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
    for (const listener of this.retired) listener.closeConnections();
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
