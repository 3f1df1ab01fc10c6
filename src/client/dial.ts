/**
 * Opens the TCP or TLS connection a WebSocket URL points to (RFC 6455 §4.1: "establish a connection"),
 * or asks the application's `createConnection` for one.
 * @module
 */
import { connect as connectTcp, isIP, type NetConnectOpts, type Socket } from 'node:net';
import { type ConnectionOptions, connect as connectTls } from 'node:tls';
import type { ConnectionRequest, WebSocketOptions } from './options.js';
import type { ConnectTarget } from './url.js';

const TLS_KEYS = [
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
] as const;

const TCP_KEYS = ['lookup', 'family', 'localAddress'] as const;

/** Copies the options of `keys` that are set (net and tls validate explicit `undefined`s too eagerly). */
function pick<K extends keyof WebSocketOptions>(
  options: WebSocketOptions,
  keys: readonly K[],
  into: Record<string, unknown>,
): void {
  for (const key of keys) {
    if (options[key] !== undefined) into[key] = options[key];
  }
}

/** The SNI name: the option, else the host unless it is an IP address (RFC 6066 §3 forbids literals). */
function serverName(target: ConnectTarget, options: WebSocketOptions): string | undefined {
  if (options.servername !== undefined) return options.servername;
  return isIP(target.host) === 0 ? target.host : undefined;
}

/**
 * Starts connecting to `target` and returns the socket at once (writes are queued until it is
 * connected). Errors arrive as the socket's 'error' event; `createConnection` may also throw.
 */
export function dial(target: ConnectTarget, options: WebSocketOptions): Socket {
  const { secure, host, port } = target;
  const servername = serverName(target, options);
  if (options.createConnection !== undefined) {
    const request: ConnectionRequest = { secure, host, port, servername };
    return options.createConnection(request);
  }
  const connectOptions: Record<string, unknown> = { host, port };
  pick(options, TCP_KEYS, connectOptions);
  if (!secure) return connectTcp(connectOptions as unknown as NetConnectOpts);
  pick(options, TLS_KEYS, connectOptions);
  if (servername !== undefined) connectOptions.servername = servername;
  // The upgrade is an HTTP/1.1 mechanism (RFC 6455 §4.1); say so to servers that also speak h2.
  connectOptions.ALPNProtocols = ['http/1.1'];
  return connectTls(connectOptions as unknown as ConnectionOptions);
}
