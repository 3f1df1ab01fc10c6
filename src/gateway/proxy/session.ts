/**
 * The 'connection' side of the proxy: turns a client connection accepted after {@link proxyUpgrade}
 * into a frame-aware pair or a byte tunnel, per its route's mode, and keeps the live ones so that the
 * gateway can drain them.
 * @module
 */
import { CloseCode } from '../../protocol/constants.js';
import type { WebSocketConnection } from '../../server/connection.js';
import { type PairOptions, ProxyPair, pair } from './pair.js';
import { isProxiedUpgrade } from './proxy-upgrade.js';
import type { ProxyObserver, ProxyStats } from './stats.js';
import { type ProxyTunnel, tunnel } from './tunnel.js';

/** A proxied connection: frame-aware or tunnelled. */
export type ProxySession = ProxyPair | ProxyTunnel;

/** Options of {@link proxyConnection}: the pair's (tunnels use only `observer`). */
export type ProxyConnectionOptions = PairOptions;

/**
 * Starts relaying for `connection`, which must carry a `ProxiedUpgrade` in `data` (left there by
 * `proxyUpgrade`). Call it from the server's 'connection' listener, synchronously. Tunnel routes are
 * tunnelled when both sides negotiated the same extensions, else relayed frame-aware. A connection
 * without a `ProxiedUpgrade`, or whose passthrough compression the client's handshake did not take (a
 * server misconfiguration), is closed with 1011 and null is returned.
 */
export function proxyConnection(
  connection: WebSocketConnection,
  options: ProxyConnectionOptions = {},
): ProxySession | null {
  const proxied = connection.data;
  if (!isProxiedUpgrade(proxied)) {
    connection.close(CloseCode.INTERNAL_ERROR, 'no upstream for this connection');
    return null;
  }
  const link = proxied.passthrough;
  if (link !== undefined && !link.accepted) {
    // The backend compresses for passthrough but the client was not answered so (a server set up
    // without `proxyServerOptions`): nothing in between could inflate, so neither side may start.
    proxied.upstream.abandon(CloseCode.INTERNAL_ERROR, 'permessage-deflate passthrough not negotiated');
    connection.close(CloseCode.INTERNAL_ERROR, 'permessage-deflate passthrough not negotiated');
    return null;
  }
  const upstream = proxied.claim();
  // Bytes can only pass untouched between sides that agreed on the same extensions (none, with the
  // proxy's own server options and dialers); otherwise the frames are relayed, which always works.
  const spliceable = upstream.extensionsHeader === connection.extensions;
  if (proxied.route.mode === 'tunnel' && spliceable) return tunnel(connection, upstream, options);
  const pairOptions = link === undefined ? options : { ...options, passthrough: link };
  return pair(connection, upstream, proxied.route.policies, pairOptions);
}

/** The live proxied connections of a gateway, for draining and status pages. */
export class ProxySessions {
  /** Sessions that have not ended yet. */
  readonly live = new Set<ProxySession>();
  private readonly observer: ProxyObserver | undefined;
  private waiters: (() => void)[] = [];

  /** `observer` is told about every session's end, after it left {@link live}. */
  constructor(observer?: ProxyObserver) {
    this.observer = observer;
  }

  /** {@link proxyConnection}, tracking the session until it ends. */
  start(connection: WebSocketConnection, options: ProxyConnectionOptions = {}): ProxySession | null {
    let session: ProxySession | null = null;
    const onEnd = (stats: ProxyStats): void => {
      if (session !== null) this.live.delete(session);
      options.observer?.onEnd?.(stats);
      this.observer?.onEnd?.(stats);
      if (this.live.size === 0) this.wake();
    };
    session = proxyConnection(connection, { ...options, observer: { onEnd } });
    if (session !== null && !session.stats.ended) this.live.add(session);
    return session;
  }

  /** Closes every live session (pairs with 1001 on both sides, tunnels by ending their sockets). */
  closeAll(code: number = CloseCode.GOING_AWAY, reason = 'gateway shutting down'): void {
    for (const session of this.live) {
      if (session instanceof ProxyPair) session.close(code, reason);
      else session.close();
    }
  }

  /** Resolves once no session is live (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
