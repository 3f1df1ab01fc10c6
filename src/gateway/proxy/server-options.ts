/**
 * The client-facing `WebSocketServer` settings a proxy needs: the 101 carries the subprotocol the
 * backend chose, permessage-deflate is negotiated per route, and per-route heartbeats and idle timeouts
 * are left to the pair (the server's own would apply one setting to every route).
 *
 * Per-route compression relies on an ordering the server guarantees: it calls `handleProtocols` and
 * then negotiates extensions synchronously, within the same call, for each handshake it accepts. The
 * subprotocol handler remembers the route being accepted; the extension factory reads it right after.
 * On a `passthrough` route the client is answered with the backend's own parameters (see `passthrough.ts`).
 * @module
 */
import type { ExtensionFactory } from '../../protocol/extension.js';
import { type PerMessageDeflateOptions, perMessageDeflate } from '../../protocol/permessage-deflate.js';
import type { HandleProtocols, WebSocketServerOptions } from '../../server/options.js';
import { answerClient } from './passthrough.js';
import { isProxiedUpgrade, type ProxiedUpgrade } from './proxy-upgrade.js';

/** The server options {@link proxyServerOptions} sets. */
export type ProxyServerOptions = Required<
  Pick<
    WebSocketServerOptions,
    'handleProtocols' | 'extensions' | 'perMessageDeflate' | 'heartbeatInterval' | 'idleTimeout'
  >
>;

/** True when the route of `proxied` lets the client side negotiate permessage-deflate. */
function compressesClientSide(proxied: ProxiedUpgrade | null): boolean {
  if (proxied === null) return false;
  const { route } = proxied;
  return route.mode === 'frames' && route.policies.compression !== 'off';
}

/**
 * Options to spread into the proxy's `WebSocketServer` options. `deflate` tunes the client-side
 * permessage-deflate of `negotiate` routes, and of `passthrough` connections that fell back to it
 * (tunnel routes never negotiate it).
 * Do not set `perMessageDeflate` or `handleProtocols` yourself; set `heartbeatInterval`/`idleTimeout`
 * only for servers that carry no proxied routes.
 */
export function proxyServerOptions(deflate: PerMessageDeflateOptions = {}): ProxyServerOptions {
  const inner = perMessageDeflate(deflate);
  /** The handshake being accepted; set by `handleProtocols`, read by the factory within the same call. */
  let accepting: ProxiedUpgrade | null = null;

  const handleProtocols: HandleProtocols = (offered, request) => {
    accepting = isProxiedUpgrade(request.data) ? request.data : null;
    const chosen = accepting?.upstream.protocol ?? '';
    // The backend chose among the client's own offers (the dialer offered a subset of them).
    return chosen !== '' && offered.has(chosen) ? chosen : false;
  };

  const deflateFactory: ExtensionFactory = {
    name: inner.name,
    offer: () => inner.offer(),
    accept(offers) {
      const proxied = accepting;
      accepting = null;
      if (!compressesClientSide(proxied)) return null;
      const { route, passthrough, upstream } = proxied!;
      if (route.policies.compression !== 'passthrough') return inner.accept(offers);
      return answerClient(passthrough, upstream, offers, inner);
    },
    confirm: (params) => inner.confirm(params),
  };

  return {
    handleProtocols,
    extensions: [deflateFactory],
    perMessageDeflate: false,
    heartbeatInterval: 0,
    idleTimeout: 0,
  };
}
