/**
 * The server side of the opening handshake (RFC 6455 §4.2): validating the client's request, choosing a
 * subprotocol and extensions, and building the 101 response or a rejection. Pure functions over a parsed
 * request head; no sockets.
 * @module
 */
import { WEBSOCKET_VERSION } from './constants.js';
import { HandshakeError } from './errors.js';
import type { Extension, ExtensionFactory, ExtensionOffer, ExtensionParams } from './extension.js';
import { parseExtensions, serializeExtensions } from './extension-header.js';
import {
  countHeader,
  formatHeaderLines,
  hasToken,
  isValidHeaderValue,
  isValidKey,
  parseSubprotocols,
} from './handshake.js';
import type { HttpRequestHead } from './http-head.js';
import { isToken } from './http-head.js';

/** What a valid opening handshake request asks for. */
export interface ClientRequestInfo {
  /** `Sec-WebSocket-Key`, to be answered with `computeAccept(key)`. */
  key: string;
  /** `Sec-WebSocket-Version`; always 13. */
  version: number;
  /** `Sec-WebSocket-Protocol` elements in the client's order of preference (may be empty). */
  protocols: string[];
  /** `Sec-WebSocket-Extensions` elements in the client's order (may be empty). */
  extensionOffers: ExtensionOffer[];
  /** `Origin`, when the client sent one (browsers always do; RFC 6455 §4.1, §10.2). */
  origin?: string;
  /** `Host`. */
  host: string;
  /** The request target in origin form (path and query), e.g. `/chat?room=1`. */
  path: string;
}

function fail(code: HandshakeError['code'], message: string, status = 400, headers = {}): never {
  throw new HandshakeError(code, message, status, headers);
}

/** RFC 6455 §4.2.1 items 1–4: a GET of HTTP/1.1 or later with one Host, upgrading to websocket. */
function checkRequestLine(head: HttpRequestHead): void {
  // RFC 9110 §15.5.6: 405 names the allowed methods, and the endpoint only allows GET.
  if (head.method !== 'GET') {
    fail('ERR_HANDSHAKE_METHOD', `Invalid method ${head.method}: the opening handshake must be a GET`, 405, {
      Allow: 'GET',
    });
  }
  if (head.versionMajor < 1 || (head.versionMajor === 1 && head.versionMinor < 1)) {
    fail('ERR_HANDSHAKE_HTTP_VERSION', 'The opening handshake needs HTTP/1.1 or later');
  }
  // RFC 9112 §3.2: a request without exactly one Host field gets 400.
  const hosts = countHeader(head.rawHeaders, 'host');
  if (hosts !== 1 || head.headers.get('host') === '') {
    fail('ERR_HANDSHAKE_HOST', `${hosts === 0 ? 'Missing' : hosts > 1 ? 'Repeated' : 'Empty'} Host header`);
  }
  if (!hasToken(head.headers.get('upgrade'), 'websocket')) {
    fail('ERR_HANDSHAKE_UPGRADE', 'Missing or invalid Upgrade header: expected the token "websocket"');
  }
  if (!hasToken(head.headers.get('connection'), 'upgrade')) {
    fail('ERR_HANDSHAKE_CONNECTION', 'Missing or invalid Connection header: expected the token "Upgrade"');
  }
}

/** RFC 6455 §4.2.1 items 5–6 and §4.4: one valid key, version 13. */
function checkKeyAndVersion(head: HttpRequestHead): string {
  if (head.headers.get('sec-websocket-version') !== WEBSOCKET_VERSION) {
    // RFC 6455 §4.4 names the supported version; RFC 9110 §15.5.22 requires Upgrade with a 426.
    fail('ERR_HANDSHAKE_VERSION', 'Missing or unsupported Sec-WebSocket-Version header: expected 13', 426, {
      'Sec-WebSocket-Version': WEBSOCKET_VERSION,
      Upgrade: 'websocket',
    });
  }
  if (countHeader(head.rawHeaders, 'sec-websocket-key') > 1) {
    fail('ERR_HANDSHAKE_KEY', 'Repeated Sec-WebSocket-Key header');
  }
  const key = head.headers.get('sec-websocket-key');
  if (key === undefined || !isValidKey(key)) {
    fail('ERR_HANDSHAKE_KEY', 'Missing or invalid Sec-WebSocket-Key header: expected base64 of 16 bytes');
  }
  return key;
}

/** The origin-form of the target; absolute-form (`ws://host/path`) is accepted too (RFC 6455 §4.2.1). */
function targetPath(target: string): string {
  if (target.startsWith('/')) return target;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  if (scheme === null) fail('ERR_HANDSHAKE_MALFORMED', `Invalid request target ${JSON.stringify(target)}`);
  const rest = target.slice(scheme[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/**
 * Validates an opening handshake request (RFC 6455 §4.2.1). Throws a HandshakeError whose `status` and
 * `headers` describe the response to send: 405 with `Allow: GET` for another method; 426 with
 * `Sec-WebSocket-Version: 13` for a missing or other version; 400 for the rest (HTTP version below 1.1,
 * missing or repeated Host, Upgrade without `websocket`, Connection without `upgrade`, a missing, repeated
 * or malformed Sec-WebSocket-Key, a malformed Sec-WebSocket-Protocol or Sec-WebSocket-Extensions).
 */
export function validateClientRequest(head: HttpRequestHead): ClientRequestInfo {
  checkRequestLine(head);
  const key = checkKeyAndVersion(head);
  const info: ClientRequestInfo = {
    key,
    version: 13,
    protocols: parseSubprotocols(head.headers.get('sec-websocket-protocol')),
    extensionOffers: parseExtensions(head.headers.get('sec-websocket-extensions') ?? ''),
    host: head.headers.get('host')!,
    path: targetPath(head.target),
  };
  const origin = head.headers.get('origin');
  if (origin !== undefined) info.origin = origin;
  return info;
}

/** The negotiated extensions and the response header that announces them. */
export interface NegotiatedExtensions {
  /** Extension instances in the client's order of first appearance (RFC 6455 §9.1). */
  extensions: Extension[];
  /** The `Sec-WebSocket-Extensions` response value, or `undefined` when nothing was accepted. */
  header: string | undefined;
}

/**
 * Groups offers by extension name, keeping the order of each name's first appearance and of its offers.
 * Offers with a repeated parameter are declined here, before any factory sees them (RFC 7692 §7.1).
 */
function groupOffers(offers: readonly ExtensionOffer[]): Map<string, ExtensionParams[]> {
  const groups = new Map<string, ExtensionParams[]>();
  for (const { name, params, repeatedParam } of offers) {
    if (repeatedParam !== undefined) continue;
    const group = groups.get(name);
    if (group === undefined) groups.set(name, [params]);
    else group.push(params);
  }
  return groups;
}

/**
 * Chooses extensions (RFC 6455 §9.1): each factory sees every offer of its name, in the client's order,
 * and accepts one or declines. Offers of unknown extensions are ignored. An accepted extension whose RSV
 * bits clash with one accepted earlier is declined (and closed). If a factory throws, the extensions
 * accepted so far are closed and the error propagates.
 */
export function negotiateExtensions(
  offers: readonly ExtensionOffer[],
  factories: readonly ExtensionFactory[],
): NegotiatedExtensions {
  const extensions: Extension[] = [];
  const accepted: ExtensionOffer[] = [];
  let usedRsv = 0;
  try {
    for (const [name, paramsList] of groupOffers(offers)) {
      const factory = factories.find((candidate) => candidate.name === name);
      const result = factory?.accept(paramsList);
      if (result == null) continue;
      if ((result.extension.rsv & usedRsv) !== 0) {
        result.extension.close();
        continue;
      }
      usedRsv |= result.extension.rsv;
      extensions.push(result.extension);
      accepted.push({ name, params: result.params });
    }
  } catch (error) {
    for (const extension of extensions) extension.close();
    throw error;
  }
  return { extensions, header: accepted.length > 0 ? serializeExtensions(accepted) : undefined };
}

/**
 * Chooses the subprotocol (RFC 6455 §4.2.2 item 5.4). Without a handler none is chosen. The handler gets
 * the client's list and returns one of its elements, or a falsy value for none. Returning a protocol the
 * client did not offer is a programming error: TypeError.
 */
export function selectSubprotocol(
  offered: readonly string[],
  handler?: (offered: string[]) => string | false | undefined,
): string | undefined {
  if (handler === undefined) return undefined;
  const chosen = handler([...offered]);
  if (!chosen) return undefined;
  if (!offered.includes(chosen)) {
    throw new TypeError(`Subprotocol "${chosen}" was not offered by the client (${offered.join(', ')})`);
  }
  return chosen;
}

/** What the 101 response carries besides the fixed fields. */
export interface ServerResponseOptions {
  /** `computeAccept(key)`. */
  accept: string;
  /** The chosen subprotocol, if any. */
  protocol?: string;
  /** The negotiated `Sec-WebSocket-Extensions` value, if any. */
  extensionsHeader?: string;
  /** Extra headers; must not repeat the handshake's own. */
  headers?: Readonly<Record<string, string>>;
}

const RESPONSE_RESERVED = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/**
 * The 101 Switching Protocols response head, CRLF line endings, ending with CRLF CRLF (RFC 6455 §4.2.2).
 * ASCII only. Throws a TypeError for an invalid subprotocol, extensions value or extra header.
 */
export function buildServerResponse(options: ServerResponseOptions): string {
  const { accept, protocol, extensionsHeader, headers } = options;
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`;
  if (!isValidHeaderValue(accept)) throw new TypeError('Invalid Sec-WebSocket-Accept value');
  head += `Sec-WebSocket-Accept: ${accept}\r\n`;
  if (protocol !== undefined) {
    if (!isToken(protocol)) throw new TypeError(`Subprotocol ${JSON.stringify(protocol)} is not a token`);
    head += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  }
  if (extensionsHeader !== undefined && extensionsHeader !== '') {
    if (!isValidHeaderValue(extensionsHeader)) throw new TypeError('Invalid Sec-WebSocket-Extensions value');
    head += `Sec-WebSocket-Extensions: ${extensionsHeader}\r\n`;
  }
  return `${head}${formatHeaderLines(headers, RESPONSE_RESERVED)}\r\n`;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
};

const utf8 = new TextEncoder();

const REJECTION_RESERVED = new Set(['connection', 'content-type', 'content-length', 'transfer-encoding']);

/**
 * A complete HTTP/1.1 error response: status line, `Connection: close`, `Content-Type: text/plain`,
 * `Content-Length`, the extra `headers`, and `reason` as the UTF-8 body; write it as UTF-8 and close.
 * Being on the error path it does not throw for bad headers: a name that is not a token is dropped, control
 * and non-ASCII characters are stripped from values. Throws a RangeError for a status outside 400–599.
 */
export function buildRejection(
  status: number,
  reason: string,
  headers?: Readonly<Record<string, string>>,
): string {
  if (!Number.isInteger(status) || status < 400 || status > 599) {
    throw new RangeError(`Rejection status must be 400–599, got ${status}`);
  }
  let extra = '';
  let upgrade = false;
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!isToken(name) || REJECTION_RESERVED.has(lower)) continue;
    upgrade ||= lower === 'upgrade';
    extra += `${name}: ${String(value).replace(/[^\t\x20-\x7e]/g, '')}\r\n`;
  }
  // RFC 9110 §7.8: whoever sends Upgrade also lists "upgrade" in Connection.
  const connection = upgrade ? 'Upgrade, close' : 'close';
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
    `Connection: ${connection}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
    `Content-Length: ${utf8.encode(reason).length}\r\n${extra}\r\n${reason}`
  );
}
