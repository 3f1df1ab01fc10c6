/**
 * Helpers of the middleware tests: a real HTTP upgrade request (node:http) whose answer — 101 or an
 * error response — is returned with its status, headers and body; and a server with a given hook.
 */
import { request } from 'node:http';
import type { UpgradeHook } from '../../../src/server/options.js';
import type { WebSocketServer } from '../../../src/server/server.js';
import { startServer, withTimeout } from '../helpers.js';

/** What the server answered to an opening handshake. */
export interface HandshakeAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Options of {@link handshake}. */
export interface HandshakeOptions {
  path?: string;
  headers?: Record<string, string>;
  /** Address to connect to. Default 127.0.0.1. */
  host?: string;
}

/**
 * Sends an opening handshake to `port` and resolves with the answer; a 101's socket is destroyed at
 * once (the tests only look at the handshake). Bounded in time.
 */
export function handshake(port: number, options: HandshakeOptions = {}): Promise<HandshakeAnswer> {
  const answer = new Promise<HandshakeAnswer>((resolve, reject) => {
    const req = request({
      host: options.host ?? '127.0.0.1',
      port,
      path: options.path ?? '/',
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
        ...options.headers,
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
  return withTimeout(answer, 5000, 'handshake');
}

/** Starts a standalone server on `host` (default 127.0.0.1) and a free port with `hook` as its upgrade hook. */
export async function serverWith(
  hook: UpgradeHook,
  host = '127.0.0.1',
): Promise<{ server: WebSocketServer; port: number }> {
  const { server, port } = await startServer({ upgrade: hook, host });
  return { server, port };
}
