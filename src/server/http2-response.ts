/**
 * The server's answers to an extended CONNECT (RFC 8441 §5): a 200 response that opens the WebSocket, or
 * an error status that refuses it; both as HTTP/2 header blocks rather than an HTTP/1.1 head.
 * @module
 */
import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { isValidHeaderValue } from '../protocol/handshake.js';
import { isToken } from '../protocol/http-head.js';
import { ignoreSocketError } from '../transport/pending-handshake.js';

/**
 * Fields HTTP/2 forbids (connection-specific, RFC 9113 §8.2.2) or that the answer sets itself; a hook's
 * headers never override them.
 */
const RESERVED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'content-length',
  'content-type',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
]);

/** What a 200 answer carries besides the status. */
export interface Http2AcceptFields {
  protocol: string | undefined;
  extensionsHeader: string | undefined;
  headers: Readonly<Record<string, string>> | undefined;
}

/**
 * Opens the WebSocket: responds 200 with the chosen subprotocol and extensions (RFC 8441 §5: any 2xx, no
 * Sec-WebSocket-Accept). Throws a TypeError for an extra header that is not a token, has a bad value or
 * is one the handshake sets itself, as the HTTP/1.1 answer does.
 */
export function respondAccept(stream: ServerHttp2Stream, fields: Http2AcceptFields): void {
  const out: OutgoingHttpHeaders = { ':status': 200 };
  if (fields.protocol !== undefined) {
    if (!isToken(fields.protocol)) throw new TypeError(`Subprotocol ${JSON.stringify(fields.protocol)}`);
    out['sec-websocket-protocol'] = fields.protocol;
  }
  if (fields.extensionsHeader !== undefined && fields.extensionsHeader !== '') {
    out['sec-websocket-extensions'] = fields.extensionsHeader;
  }
  for (const [name, value] of Object.entries(fields.headers ?? {})) {
    const lower = name.toLowerCase();
    const text = String(value);
    if (!isToken(name)) throw new TypeError(`Header name ${JSON.stringify(name)} is not a token`);
    if (RESERVED.has(lower)) throw new TypeError(`Header "${name}" cannot be set on an HTTP/2 answer`);
    if (!isValidHeaderValue(text)) throw new TypeError(`Header "${name}" has an invalid value`);
    out[lower] = text;
  }
  stream.respond(out);
}

/** Extra headers of a refusal, made safe: bad names and reserved fields dropped, bad characters removed. */
function refusalHeaders(headers: Readonly<Record<string, string>> | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const lower = name.toLowerCase();
    if (!isToken(name) || RESERVED.has(lower)) continue;
    out[lower] = String(value).replace(/[^\t\x20-\x7e]/g, '');
  }
  return out;
}

/**
 * Refuses the request with `status` and `message` as a text body. Once the answer is sent, the request
 * side is reset with NO_ERROR (RFC 9113 §8.1 allows it after a complete response), so that a client
 * that keeps its side open does not pin the stream. Safe on a stream that is already closing.
 */
export function respondRefusal(
  stream: ServerHttp2Stream,
  status: number,
  message: string,
  headers?: Readonly<Record<string, string>>,
): void {
  if (stream.destroyed || stream.closed) return;
  // A peer reset with an error code is emitted as 'error': nothing to do about it here.
  if (stream.listenerCount('error') === 0) stream.on('error', ignoreSocketError);
  if (stream.headersSent) {
    stream.close(constants.NGHTTP2_CANCEL);
    return;
  }
  stream.respond({
    ...refusalHeaders(headers),
    ':status': status,
    'content-type': 'text/plain; charset=utf-8',
  });
  stream.end(message, () => {
    if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR);
  });
}
