/**
 * The client side of the opening handshake (RFC 6455 §4.1): building the request and validating the
 * server's response. Pure functions over strings and a parsed response head; no sockets.
 * @module
 */
import { HandshakeError } from './errors.js';
import type { Extension, ExtensionFactory, ExtensionOffer, ExtensionParams } from './extension.js';
import { parseExtensions, serializeExtensions } from './extension-header.js';
import {
  computeAccept,
  formatHeaderLines,
  hasToken,
  isValidHeaderValue,
  isValidKey,
  subprotocolListError,
} from './handshake.js';
import type { HttpResponseHead } from './http-head.js';

/** What goes into an opening handshake request. */
export interface ClientRequestOptions {
  /** `Host` value: host name or address, with `:port` when not the scheme's default. */
  host: string;
  /** Request target in origin form, starting with `/` (path and query). */
  path: string;
  /** `Sec-WebSocket-Key`, from `generateKey()`. */
  key: string;
  /** Subprotocols, most preferred first: unique tokens. */
  protocols?: readonly string[];
  /** Extension offers, most preferred first. */
  extensions?: readonly ExtensionOffer[];
  /** `Origin` value, for clients that act on behalf of a web origin (RFC 6455 §4.1 item 8, §10.2). */
  origin?: string;
  /** Extra headers; must not repeat the handshake's own. */
  headers?: Readonly<Record<string, string>>;
}

const REQUEST_RESERVED = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'origin',
]);

function checkRequestOptions({ host, path, key, protocols }: ClientRequestOptions): void {
  if (host === '' || !/^[\x21-\x7e]+$/.test(host))
    throw new TypeError(`Invalid host ${JSON.stringify(host)}`);
  // Origin form (RFC 9112 §3.2.1): printable ASCII without spaces, starting with "/".
  if (!/^\/[\x21-\x7e]*$/.test(path)) throw new TypeError(`Invalid request path ${JSON.stringify(path)}`);
  if (!isValidKey(key)) throw new TypeError('Sec-WebSocket-Key must be base64 of 16 bytes');
  const error = protocols === undefined ? undefined : subprotocolListError(protocols);
  if (error !== undefined) throw new TypeError(`Invalid subprotocols: ${error}`);
}

/**
 * The opening handshake request head (RFC 6455 §4.1): CRLF line endings, ending with CRLF CRLF, ASCII
 * only. Throws a TypeError for an invalid host, path, key, subprotocol list, extension offer, origin or
 * extra header (a name that is not a token, a value with control characters, or a handshake header).
 */
export function buildClientRequest(options: ClientRequestOptions): string {
  checkRequestOptions(options);
  const { host, path, key, protocols, extensions, origin, headers } = options;
  let head =
    `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (protocols !== undefined && protocols.length > 0) {
    head += `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n`;
  }
  if (extensions !== undefined && extensions.length > 0) {
    const value = serializeExtensions(extensions);
    if (!isValidHeaderValue(value)) throw new TypeError('Extension offers must be ASCII');
    head += `Sec-WebSocket-Extensions: ${value}\r\n`;
  }
  if (origin !== undefined) {
    if (!isValidHeaderValue(origin)) throw new TypeError(`Invalid origin ${JSON.stringify(origin)}`);
    head += `Origin: ${origin}\r\n`;
  }
  return `${head}${formatHeaderLines(headers, REQUEST_RESERVED)}\r\n`;
}

/** What the client offered, needed to check the response. */
export interface ServerResponseExpectations {
  /** The `Sec-WebSocket-Key` that was sent. */
  key: string;
  /** The subprotocols that were offered (default none). */
  protocols?: readonly string[];
  /** The factories whose offers were sent (default none). */
  extensionFactories?: readonly ExtensionFactory[];
}

/** The outcome of a successful opening handshake, as the client sees it. */
export interface HandshakeOutcome {
  /** The subprotocol the server chose, or `''` for none (WHATWG `WebSocket.protocol`). */
  protocol: string;
  /** Confirmed extensions, in the order of the response header. */
  extensions: Extension[];
  /** The response's `Sec-WebSocket-Extensions` value, or `''` (WHATWG `WebSocket.extensions`). */
  extensionsHeader: string;
}

function fail(code: HandshakeError['code'], message: string, status?: number): never {
  throw new HandshakeError(code, message, status);
}

/** RFC 6455 §4.1, server response items 1–4. */
function checkUpgrade(head: HttpResponseHead, key: string): void {
  if (head.status !== 101) {
    fail('ERR_HANDSHAKE_STATUS', `Unexpected response status ${head.status}: expected 101`, head.status);
  }
  const upgrade = head.headers.get('upgrade');
  if (upgrade === undefined || upgrade.toLowerCase() !== 'websocket') {
    fail('ERR_HANDSHAKE_UPGRADE', 'Missing or invalid Upgrade header in the response: expected "websocket"');
  }
  if (!hasToken(head.headers.get('connection'), 'upgrade')) {
    fail(
      'ERR_HANDSHAKE_CONNECTION',
      'Missing or invalid Connection header in the response: expected "Upgrade"',
    );
  }
  if (head.headers.get('sec-websocket-accept') !== computeAccept(key)) {
    fail('ERR_HANDSHAKE_ACCEPT', 'Missing or wrong Sec-WebSocket-Accept header in the response');
  }
}

/** RFC 6455 §4.1, server response item 6: at most one subprotocol, and one that was offered. */
function checkSubprotocol(head: HttpResponseHead, offered: readonly string[]): string {
  const protocol = head.headers.get('sec-websocket-protocol');
  if (protocol === undefined) return '';
  if (!offered.includes(protocol)) {
    const why = offered.length === 0 ? 'none was offered' : `offered ${offered.join(', ')}`;
    fail('ERR_HANDSHAKE_SUBPROTOCOL', `The server chose subprotocol ${JSON.stringify(protocol)} but ${why}`);
  }
  return protocol;
}

/** Calls `factory.confirm`, turning anything it throws but a HandshakeError into one. */
function confirmOne(factory: ExtensionFactory, params: ExtensionParams): Extension {
  try {
    return factory.confirm(params);
  } catch (error) {
    if (error instanceof HandshakeError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    fail('ERR_HANDSHAKE_EXTENSION', `Extension "${factory.name}" rejected the server's response: ${detail}`);
  }
}

/**
 * RFC 6455 §4.1, server response item 5 and §9.1: every extension in the response was offered, appears
 * once, is confirmed by its factory and claims RSV bits no other one claims. On failure the extensions
 * confirmed so far are closed.
 */
function confirmExtensions(value: string, factories: readonly ExtensionFactory[]): Extension[] {
  const extensions: Extension[] = [];
  const seen = new Set<string>();
  try {
    let usedRsv = 0;
    for (const { name, params, repeatedParam } of parseExtensions(value)) {
      if (repeatedParam !== undefined) {
        fail('ERR_HANDSHAKE_EXTENSION', `The server repeated parameter "${repeatedParam}" of "${name}"`);
      }
      const factory = factories.find((candidate) => candidate.name === name);
      if (factory === undefined)
        fail('ERR_HANDSHAKE_EXTENSION', `The server accepted "${name}", never offered`);
      if (seen.has(name)) fail('ERR_HANDSHAKE_EXTENSION', `The server accepted "${name}" twice`);
      seen.add(name);
      const extension = confirmOne(factory, params);
      extensions.push(extension);
      if ((extension.rsv & usedRsv) !== 0) {
        fail('ERR_HANDSHAKE_EXTENSION', `Extension "${name}" claims an RSV bit another extension claims`);
      }
      usedRsv |= extension.rsv;
    }
  } catch (error) {
    for (const extension of extensions) extension.close();
    throw error;
  }
  return extensions;
}

/**
 * Validates the server's response to an opening handshake (RFC 6455 §4.1). Throws a HandshakeError:
 * `ERR_HANDSHAKE_STATUS` when the status is not 101 (the error's `status` is the received one),
 * `ERR_HANDSHAKE_UPGRADE`, `ERR_HANDSHAKE_CONNECTION`, `ERR_HANDSHAKE_ACCEPT`, `ERR_HANDSHAKE_SUBPROTOCOL`
 * for a subprotocol that was not offered, `ERR_HANDSHAKE_EXTENSION` for an extension not offered, accepted
 * twice or rejected by its factory's `confirm`.
 */
export function validateServerResponse(
  head: HttpResponseHead,
  expected: ServerResponseExpectations,
): HandshakeOutcome {
  checkUpgrade(head, expected.key);
  const protocol = checkSubprotocol(head, expected.protocols ?? []);
  const extensionsHeader = head.headers.get('sec-websocket-extensions') ?? '';
  const extensions = confirmExtensions(extensionsHeader, expected.extensionFactories ?? []);
  return { protocol, extensions, extensionsHeader };
}
