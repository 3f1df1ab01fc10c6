/**
 * The gateway's HTTP/2 sessions to its backends (RFC 8441): the WebSockets proxied to one backend share
 * a session, each on its own stream. A session is usable once the backend's SETTINGS arrived with
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3), and takes streams up to the backend's
 * SETTINGS_MAX_CONCURRENT_STREAMS (RFC 9113 §5.1.2): beyond it another session is opened, since a CONNECT
 * over the limit would wait (in nghttp2's queue) for a WebSocket to end, which may be hours away.
 * A session without streams closes after {@link UPSTREAM_SESSION_IDLE_MS}; a backend found without
 * WebSockets over HTTP/2 is remembered for {@link UPSTREAM_UNSUPPORTED_MS}, so that `http2: auto` goes
 * straight to HTTP/1.1.
 * @module
 */
import { type ClientHttp2Session, connect as connectHttp2 } from 'node:http2';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { dialHttp2 } from '../../client/http2-dial.js';
import { Http2ConnectError } from '../../client/http2-errors.js';
import { sessionKey } from '../../client/http2-pool.js';
import type { WebSocketOptions } from '../../client/options.js';
import type { ConnectTarget } from '../../client/url.js';

/** How long a session without streams stays open for the next WebSocket, ms. */
export const UPSTREAM_SESSION_IDLE_MS = 5000;
/** How long a backend without WebSockets over HTTP/2 is remembered as such, ms. */
export const UPSTREAM_UNSUPPORTED_MS = 30_000;

/** One stream's hold on a session: release it once the stream is closed (or was never opened). */
export interface Http2Lease {
  readonly session: ClientHttp2Session;
  release(): void;
}

/** Told once: a lease on a usable session, or why there is none. */
export type LeaseCallback = (error: Error | null, lease: Http2Lease | null) => void;

/** What a session needs from its pool. */
interface SessionOwner {
  /** Takes the session out of the pool (no new streams on it). */
  forget(session: UpstreamSession): void;
  /** The backend does not offer WebSockets over HTTP/2. */
  unsupported(key: string): void;
  /** Finds another session for a waiter that a full session could not take. */
  lease(key: string, open: () => UpstreamSession, callback: LeaseCallback): void;
}

/** One HTTP/2 session to a backend and the streams that hold it. */
class UpstreamSession {
  readonly session: ClientHttp2Session;
  /** Leases given or promised: streams opening or open, and waiters. */
  private held = 0;
  private state: 'pending' | 'ready' | 'failed' = 'pending';
  /** False once it must take no new streams (GOAWAY, closed, failed). */
  private usable = true;
  /** The backend's SETTINGS_MAX_CONCURRENT_STREAMS; unknown (unbounded) until its SETTINGS. */
  private limit = Number.POSITIVE_INFINITY;
  private waiters: LeaseCallback[] = [];
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly key: string,
    private readonly owner: SessionOwner,
    private readonly reopen: () => UpstreamSession,
    target: ConnectTarget,
    options: WebSocketOptions,
    alpn: readonly string[],
  ) {
    const authority = `${target.secure ? 'https' : 'http'}://${target.hostHeader}`;
    this.session = connectHttp2(authority, {
      settings: { enablePush: false },
      createConnection: () => this.watch(dialHttp2(target, options, alpn)),
    });
    this.session.on('remoteSettings', this.onSettings);
    this.session.on('error', this.onError);
    this.session.once('goaway', this.retire);
    this.session.once('close', this.onClose);
  }

  /** True when it may take one more stream. */
  get hasRoom(): boolean {
    return this.usable && this.held < this.limit;
  }

  /** Leases a stream slot: at once when ready, else when the SETTINGS arrive. */
  lease(callback: LeaseCallback): void {
    this.hold();
    if (this.state === 'ready') process.nextTick(callback, null, this.newLease());
    else this.waiters.push(callback);
  }

  private hold(): void {
    this.held++;
    if (this.idleTimer === null) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.session.ref();
  }

  private newLease(): Http2Lease {
    let released = false;
    return {
      session: this.session,
      release: () => {
        if (released) return;
        released = true;
        this.release();
      },
    };
  }

  /** A stream let go; the last one starts the idle delay (an idle session does not keep Node alive). */
  private release(): void {
    this.held--;
    if (this.held > 0 || this.session.destroyed) return;
    if (!this.usable) {
      this.session.close();
      return;
    }
    this.session.unref();
    this.idleTimer = setTimeout(this.closeIdle, UPSTREAM_SESSION_IDLE_MS);
    this.idleTimer.unref();
  }

  /** TLS: ALPN choosing anything but h2 means no HTTP/2 at all on this backend. */
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
    this.retire();
    if (error instanceof Http2ConnectError) this.owner.unsupported(this.key);
    const waiters = this.waiters;
    this.waiters = [];
    this.held -= waiters.length;
    for (const callback of waiters) callback(error, null);
    if (this.held === 0 && !this.session.destroyed) this.session.destroy();
  }

  private readonly onSettings = (settings: {
    enableConnectProtocol?: boolean;
    maxConcurrentStreams?: number;
  }): void => {
    this.limit = settings.maxConcurrentStreams ?? Number.POSITIVE_INFINITY;
    if (this.state !== 'pending') return;
    if (settings.enableConnectProtocol !== true) {
      const message = 'The backend does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)';
      this.fail(new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', message));
      return;
    }
    this.state = 'ready';
    const waiters = this.waiters;
    this.waiters = [];
    // The waiters beyond the backend's stream limit go to another session.
    const room = Math.max(0, this.limit - (this.held - waiters.length));
    waiters.forEach((callback, index) => {
      if (index < room) callback(null, this.newLease());
      else {
        this.held--;
        this.owner.lease(this.key, this.reopen, callback);
      }
    });
  };

  /**
   * Before SETTINGS, an HTTP/2 protocol error means the backend does not speak HTTP/2 (an HTTP/1.1 server
   * answering the h2c preface); network and TLS errors are reported as they are. Later errors end the
   * streams, which their connections report.
   */
  private readonly onError = (error: NodeJS.ErrnoException): void => {
    if (!String(error.code).startsWith('ERR_HTTP2')) {
      this.fail(error);
      return;
    }
    const message = `The HTTP/2 session failed before the backend's SETTINGS: ${error.message}`;
    this.fail(new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', message, { cause: error }));
  };

  private readonly onClose = (): void => {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.fail(
      new Http2ConnectError('ERR_HTTP2_UNSUPPORTED', 'The HTTP/2 session closed before its SETTINGS'),
    );
    this.retire();
  };

  /** No new streams here (GOAWAY, failure, close); the open ones finish on it. */
  private readonly retire = (): void => {
    if (!this.usable) return;
    this.usable = false;
    this.owner.forget(this);
  };

  private readonly closeIdle = (): void => {
    this.idleTimer = null;
    this.retire();
    this.session.close();
  };
}

/** The sessions of every backend, by backend origin and connection options. */
export class UpstreamHttp2Pool implements SessionOwner {
  private readonly sessions = new Map<string, UpstreamSession[]>();
  private readonly unsupportedUntil = new Map<string, number>();

  /**
   * Leases a stream slot on a session to `target` (opening one, offering `alpn` over TLS, when none has
   * room); `callback` gets the lease, or the session's failure (an `Http2ConnectError`
   * `ERR_HTTP2_UNSUPPORTED` when the backend does not offer WebSockets over HTTP/2).
   */
  acquire(
    target: ConnectTarget,
    options: WebSocketOptions,
    alpn: readonly string[],
    callback: LeaseCallback,
  ): void {
    const key = sessionKey(target, options);
    const open = (): UpstreamSession => {
      const created = new UpstreamSession(key, this, open, target, options, alpn);
      const list = this.sessions.get(key);
      if (list === undefined) this.sessions.set(key, [created]);
      else list.push(created);
      return created;
    };
    this.lease(key, open, callback);
  }

  /** True when `target` was found without WebSockets over HTTP/2 lately. */
  knownUnsupported(target: ConnectTarget, options: WebSocketOptions): boolean {
    const key = sessionKey(target, options);
    const until = this.unsupportedUntil.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.unsupportedUntil.delete(key);
    return false;
  }

  /** Sessions that take new streams (for tests and diagnostics). */
  get sessionCount(): number {
    let count = 0;
    for (const list of this.sessions.values()) count += list.length;
    return count;
  }

  /** @internal */
  lease(key: string, open: () => UpstreamSession, callback: LeaseCallback): void {
    const session = this.sessions.get(key)?.find((candidate) => candidate.hasRoom) ?? open();
    session.lease(callback);
  }

  /** @internal */
  forget(session: UpstreamSession): void {
    const list = this.sessions.get(session.key);
    if (list === undefined) return;
    const index = list.indexOf(session);
    if (index !== -1) list.splice(index, 1);
    if (list.length === 0) this.sessions.delete(session.key);
  }

  /** @internal */
  unsupported(key: string): void {
    this.unsupportedUntil.set(key, Date.now() + UPSTREAM_UNSUPPORTED_MS);
  }
}

/** The process-wide pool: backends are shared by every route and every gateway of the process. */
export const upstreamHttp2Sessions = new UpstreamHttp2Pool();
