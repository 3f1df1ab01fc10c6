/**
 * `conduit echo`: a WebSocket echo server on every path, for trying Conduit out and for interop and
 * load tests. Each message goes back with its type (text or binary).
 * @module
 */
import type { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { WebSocketConnection } from '../server/connection.js';
import type { WebSocketServerOptions } from '../server/options.js';
import { WebSocketServer } from '../server/server.js';
import { tuneHeapForLargeMessages } from '../transport/native-heap.js';
import { CliError, parseByteCount, parsePort } from './args.js';

/** Usage of `conduit echo`. */
export const ECHO_USAGE = `Usage: conduit echo --port PORT [options]

Starts a WebSocket echo server on every path: each message is sent back with its type.

Options:
  --port PORT            TCP port (0 picks a free one; the real one is printed)
  --host HOST            address to listen on (default 127.0.0.1)
  --deflate              negotiate permessage-deflate (RFC 7692)
  --max-message BYTES    largest accepted message, in bytes (default 16777216)
  --tls-cert FILE        serve wss:// with this PEM certificate chain (needs --tls-key)
  --tls-key FILE         PEM private key of --tls-cert
  --http2                also serve WebSockets over HTTP/2 (RFC 8441) on the same port: h2 by ALPN
                         with --tls-cert, else cleartext h2c with prior knowledge

Prints "listening on ws://HOST:PORT" (wss:// with TLS) once ready. SIGINT or SIGTERM closes every
connection with 1001 and exits with status 0.`;

/** The parsed options of `conduit echo`. */
export interface EchoOptions {
  port: number;
  host: string;
  deflate: boolean;
  maxMessage: number | undefined;
  tlsCert: string | undefined;
  tlsKey: string | undefined;
  /** Also serve WebSockets over HTTP/2 (extended CONNECT) on the same port. */
  http2: boolean;
}

/** Parses the arguments after `echo`. Throws a {@link CliError} for invalid ones. */
export function parseEchoArgs(args: string[]): EchoOptions {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      deflate: { type: 'boolean' },
      'max-message': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      http2: { type: 'boolean' },
    },
  });
  if (values.port === undefined) throw new CliError('conduit echo: --port is required');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) {
    throw new CliError('conduit echo: --tls-cert and --tls-key go together');
  }
  const maxMessage = values['max-message'];
  return {
    port: parsePort(values.port),
    host: values.host ?? '127.0.0.1',
    deflate: values.deflate ?? false,
    maxMessage: maxMessage === undefined ? undefined : parseByteCount('--max-message', maxMessage),
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    http2: values.http2 ?? false,
  };
}

const AS_TEXT = Object.freeze({ binary: false });
const AS_BINARY = Object.freeze({ binary: true });

/** One listener shared by every connection: EventEmitter calls it with `this` bound to the connection. */
function echoMessage(this: WebSocketConnection, data: Buffer, isBinary: boolean): void {
  this.send(data, isBinary ? AS_BINARY : AS_TEXT);
}

function echoConnection(connection: WebSocketConnection): void {
  connection.on('message', echoMessage);
}

/** `ws://host:port` (or wss://), with IPv6 literals in brackets. */
export function listenUrl(secure: boolean, host: string, port: number): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${secure ? 'wss' : 'ws'}://${shown}:${port}`;
}

/** Starts the echo server; resolves once it is listening. Exits the process on SIGINT/SIGTERM. */
export function runEcho(options: EchoOptions): Promise<WebSocketServer> {
  // Large messages would otherwise fault fresh pages in for every buffer (see native-heap.ts).
  tuneHeapForLargeMessages();
  const secure = options.tlsCert !== undefined;
  const serverOptions: WebSocketServerOptions = {
    port: options.port,
    host: options.host,
    perMessageDeflate: options.deflate,
    maxPayload: options.maxMessage,
    http2: options.http2,
  };
  if (secure)
    serverOptions.tls = { cert: readFileSync(options.tlsCert!), key: readFileSync(options.tlsKey!) };
  const server = new WebSocketServer(serverOptions);
  server.on('connection', echoConnection);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      process.stdout.write(`listening on ${listenUrl(secure, options.host, port)}\n`);
      drainOnSignals(server);
      resolve(server);
    });
  });
}

/** SIGINT/SIGTERM: graceful close, then exit 0; a second signal exits at once. */
function drainOnSignals(server: WebSocketServer): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    server.close(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
