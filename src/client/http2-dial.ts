/**
 * Opens the TCP or TLS connection an HTTP/2 session runs on: like dial.ts, but offering `h2` by ALPN
 * (RFC 7301; with `http/1.1` after it when the client may fall back), or cleartext HTTP/2 with prior
 * knowledge (h2c, RFC 9113 §3.3) for `ws:` URLs.
 * @module
 */
import { connect as connectTcp, isIP, type NetConnectOpts, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import type { WebSocketOptions } from './options.js';
import type { ConnectTarget } from './url.js';

/** Options that shape the connection (and so tell pooled sessions apart; see http2-pool.ts). */
export const CONNECTION_KEYS = [
  'ca',
  'cert',
  'key',
  'passphrase',
  'pfx',
  'rejectUnauthorized',
  'checkServerIdentity',
  'minVersion',
  'maxVersion',
  'ciphers',
  'secureContext',
  'servername',
  'lookup',
  'family',
  'localAddress',
  'createConnection',
] as const satisfies readonly (keyof WebSocketOptions)[];

/** The options a cleartext connection uses; the others are TLS's. */
const TCP_KEYS: ReadonlySet<string> = new Set(['lookup', 'family', 'localAddress']);

/** Starts connecting; errors arrive as the socket's 'error' event (`createConnection` may also throw). */
export function dialHttp2(target: ConnectTarget, options: WebSocketOptions, alpn: readonly string[]): Socket {
  const { secure, host, port } = target;
  const servername = options.servername ?? (isIP(host) === 0 ? host : undefined);
  if (options.createConnection !== undefined) {
    return options.createConnection({ secure, host, port, servername });
  }
  const connectOptions: Record<string, unknown> = { host, port };
  for (const name of CONNECTION_KEYS) {
    const value = options[name];
    if (value !== undefined && (secure || TCP_KEYS.has(name))) connectOptions[name] = value;
  }
  delete connectOptions.createConnection;
  delete connectOptions.servername;
  if (!secure) return connectTcp(connectOptions as unknown as NetConnectOpts);
  if (servername !== undefined) connectOptions.servername = servername;
  connectOptions.ALPNProtocols = [...alpn];
  return connectTls(connectOptions as unknown as ConnectionOptions);
}
