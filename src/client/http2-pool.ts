/**
 * The client's HTTP/2 sessions: one per origin and connection options, shared by every WebSocket opened
 * to that origin (each on its own stream), closed a short while after its last WebSocket closed. A
 * session is usable for WebSockets once the server's SETTINGS arrived with
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3); an origin found without it is remembered for a while,
 * so that `http2: 'auto'` falls back to HTTP/1.1 at once.
 * @module
 */
import { type ClientHttp2Session, connect as connectHttp2 } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { CONNECTION_KEYS, dialHttp2 } from './http2-dial.js';
import { Http2ConnectError } from './http2-errors.js';
import type { WebSocketOptions } from './options.js';
import type { ConnectTarget } from './url.js';

/** How long a session without WebSockets stays open for the next one, in ms. */
export const SESSION_IDLE_MS = 2000;
/** How long an origin without WebSockets over HTTP/2 is remembered as such, in ms. */
export const UNSUPPORTED_MEMORY_MS = 30_000;

/** Told once whether a session can carry WebSockets: `null` when it can, else why not. */
export type ReadyCallback = (error: Error | null) => void;

/** Identities of option objects and functions, so that keys can name them. */
const identities = new WeakMap<object, number>();
let lastIdentity = 0;

function keyPart(value: unknown): string {
  if (value === undefined) return '';
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return String(value);
  let id = identities.get(value);
  if (id === undefined) {
    id = ++lastIdentity;
    identities.set(value, id);
  }
  return `#${id}`;
}

/** The pool key: origin plus every option that shapes the connection (objects by identity). */
export function sessionKey(target: ConnectTarget, options: WebSocketOptions): string {
  const parts = [target.secure ? 'wss' : 'ws', target.host, String(target.port)];
  for (const name of CONNECTION_KEYS) parts.push(keyPart(options[name]));
  return parts.join('|');
}

const sessions = new Map<string, PooledSession>();
const unsupportedUntil = new Map<string, number>();

/** One pooled HTTP/2 session and the WebSockets (streams) that hold it. */
export class PooledSession {
  readonly key: string;
  readonly session: ClientHttp2Session;
  /** Open or opening WebSockets on this session. */
  private refs = 0;
  private state: 'pending' | 'ready' | 'failed' = 'pending';
  private failure: Error | null = null;
  private waiters: ReadyCallback[] = [];
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(key: string, target: ConnectTarget, options: WebSocketOptions, alpn: readonly string[]) {
    this.key = key;
    const authority = `${target.secure ? 'https' : 'http'}://${target.hostHeader}`;
    this.session = connectHttp2(authority, {
      settings: { enablePush: false },
      createConnection: () => this.watch(dialHttp2(target, options, alpn)),
    });
    this.session.on('remoteSettings', this.onSettings);
    this.session.on('error', this.onError);
    this.session.once('close', this.onClose);
    this.session.once('goaway', this.forget);
  }

  /** Calls `callback` once the session is known to carry WebSockets, or not. */
  whenReady(callback: ReadyCallback): void {
    if (this.state === 'pending') this.waiters.push(callback);
    else process.nextTick(callback, this.failure);
  }

  /** One more WebSocket holds the session. */
  hold(): void {
    this.refs++;
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
      this.session.ref();
    }
  }

  /** A WebSocket let go; the last one starts the idle delay (the session no longer keeps Node alive). */
  release(): void {
    this.refs--;
    if (this.refs > 0 || this.session.destroyed) return;
    if (this.state !== 'ready') {
      this.session.destroy();
      return;
    }
    this.session.unref();
    this.idleTimer = setTimeout(this.closeIdle, SESSION_IDLE_MS);
    this.idleTimer.unref();
  }

  /** TLS: a protocol other than h2 chosen by ALPN means no HTTP/2 at all. */
  private watch(socket: Socket): Socket {
    socket.once('secureConnect', () => {
      const chosen = (socket as TLSSocket).alpnProtocol;
      if (chosen === 'h2') return;
      this.fail(
        new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', `TLS negotiated ${chosen || 'no protocol'}, not h2`),
      );
      socket.destroy();
    });
    return socket;
  }

  private fail(error: Error): void {
    if (this.state !== 'pending') return;
    this.state = 'failed';
    this.failure = error;
    this.forget();
    if (error instanceof Http2ConnectError)
      unsupportedUntil.set(this.key, Date.now() + UNSUPPORTED_MEMORY_MS);
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const callback of waiters) callback(this.failure);
  }

  private readonly onSettings = (settings: { enableConnectProtocol?: boolean }): void => {
    if (this.state !== 'pending') return;
    if (settings.enableConnectProtocol !== true) {
      const message = 'The server does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)';
      this.fail(new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', message));
      if (this.refs === 0) this.session.close();
      return;
    }
    this.state = 'ready';
    this.notify();
  };

  /**
   * Before SETTINGS, an HTTP/2 protocol error means the peer does not speak HTTP/2 (an HTTP/1.1 server
   * answering the h2c preface); network and TLS errors are reported as they are (HTTP/1.1 would meet them
   * too). Later errors end the streams, which their WebSockets report.
   */
  private readonly onError = (error: NodeJS.ErrnoException): void => {
    if (!String(error.code).startsWith('ERR_HTTP2')) {
      this.fail(error);
      return;
    }
    const message = `The HTTP/2 session failed before the server's SETTINGS: ${error.message}`;
    this.fail(new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', message, { cause: error }));
  };

  private readonly onClose = (): void => {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    const message = 'The HTTP/2 session closed before the server sent its SETTINGS';
    this.fail(new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', message));
    this.forget();
  };

  /** No new WebSockets on this session (it failed, closes, or the server sent GOAWAY). */
  private readonly forget = (): void => {
    if (sessions.get(this.key) === this) sessions.delete(this.key);
  };

  private readonly closeIdle = (): void => {
    this.idleTimer = null;
    this.forget();
    this.session.close();
  };
}

/**
 * The session for `target` and `options`, held for one more WebSocket (call `release()` once done with
 * it). A new one is opened when there is none, offering `alpn` over TLS.
 */
export function holdSession(
  target: ConnectTarget,
  options: WebSocketOptions,
  alpn: readonly string[],
): PooledSession {
  const key = sessionKey(target, options);
  let pooled = sessions.get(key);
  if (pooled === undefined || pooled.session.destroyed || pooled.session.closed) {
    pooled = new PooledSession(key, target, options, alpn);
    sessions.set(key, pooled);
  }
  pooled.hold();
  return pooled;
}

/** True when `target` was found without WebSockets over HTTP/2 in the last {@link UNSUPPORTED_MEMORY_MS}. */
export function knownUnsupported(target: ConnectTarget, options: WebSocketOptions): boolean {
  const key = sessionKey(target, options);
  const until = unsupportedUntil.get(key);
  if (until === undefined) return false;
  if (until > Date.now()) return true;
  unsupportedUntil.delete(key);
  return false;
}

/** Open pooled sessions (for tests and diagnostics). */
export function pooledSessionCount(): number {
  return sessions.size;
}
