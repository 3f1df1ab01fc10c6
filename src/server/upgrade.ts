/**
 * The steps of a server's opening handshake (RFC 6455 §4.2) around the application's hooks: checking
 * the request before them, and answering it after them with a 101 response or an error status.
 * @module
 */
import type { Buffer } from 'node:buffer';
import * as crypto from 'node:crypto';
import type { HandshakeFailureReason } from '../observability/metric-types.js';
import { WEBSOCKET_GUID, WEBSOCKET_VERSION } from '../protocol/constants.js';
import { HandshakeError } from '../protocol/errors.js';
import type { Extension } from '../protocol/extension.js';
import { computeAccept, hasToken } from '../protocol/handshake.js';
import {
  buildRejection,
  buildServerResponse,
  type ClientRequestInfo,
  negotiateExtensions,
  selectSubprotocol,
  validateClientRequest,
} from '../protocol/handshake-server.js';
import type { HttpRequestHead } from '../protocol/http-head.js';
import type { PendingHandshake } from '../transport/pending-handshake.js';
import { rejectSocket } from '../transport/reject.js';
import { type ConnectionOwner, WebSocketConnection } from './connection.js';
import type { ServerConfig, UpgradeRejection, WebSocketServerOptions } from './options.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** One handshake that passed the checks, while the hooks decide. */
export interface HandshakeContext {
  pending: PendingHandshake;
  request: UpgradeRequest;
  info: ClientRequestInfo;
  /** Bytes that followed the request head (the first frames, rarely). */
  rest: Buffer;
  callback: ((connection: WebSocketConnection, request: UpgradeRequest) => void) | undefined;
}

/** A rejection decided by the server itself, with the reason counted in metrics and logs. */
export interface Refusal extends UpgradeRejection {
  reason: HandshakeFailureReason;
}

/** Why a HandshakeError refuses a request, as a metrics label. */
export function reasonOf(error: HandshakeError): HandshakeFailureReason {
  if (error.code === 'ERR_HANDSHAKE_VERSION') return 'version';
  return error.code === 'ERR_HANDSHAKE_HEADER_TOO_LARGE' ? 'header_too_large' : 'bad_request';
}

/** The rejection that describes a HandshakeError. */
export function rejectionOf(error: HandshakeError): Refusal {
  return {
    status: error.status,
    message: error.message,
    headers: { ...error.headers },
    reason: reasonOf(error),
  };
}

/**
 * Checks a request before the hooks run: server state (503), `path` (404), a request that is not an
 * upgrade at all (426, RFC 9110 §15.5.22), then RFC 6455 §4.2.1 (400/405/426). Returns the request's
 * handshake fields, or the rejection to send.
 */
export function checkRequest(
  head: HttpRequestHead,
  request: UpgradeRequest,
  config: ServerConfig,
  closing: boolean,
): ClientRequestInfo | Refusal {
  if (closing) return { status: 503, message: 'Server shutting down', reason: 'shutting_down' };
  if (config.path !== undefined && request.pathname !== config.path)
    return { status: 404, message: 'Not Found', reason: 'not_found' };
  if (!hasToken(head.headers.get('upgrade'), 'websocket')) {
    return {
      status: 426,
      message: 'This endpoint speaks WebSocket only',
      headers: { Upgrade: 'websocket', 'Sec-WebSocket-Version': WEBSOCKET_VERSION },
      reason: 'not_websocket',
    };
  }
  try {
    return validateClientRequest(head);
  } catch (error) {
    if (error instanceof HandshakeError) return rejectionOf(error);
    throw error;
  }
}

/** The status a rejection is answered with: its own when it is an error status (400–599), else 500. */
export function statusOf(rejection: UpgradeRejection): number {
  const status = rejection.status;
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/** Answers with an error response and closes the socket; ends the pending handshake. */
export function rejectHandshake(
  pending: PendingHandshake,
  config: ServerConfig,
  rejection: UpgradeRejection,
): void {
  pending.finish();
  const response = buildRejection(statusOf(rejection), rejection.message ?? '', rejection.headers);
  rejectSocket(pending.socket, response, config.transport.wheel);
}

type OneShotHash = (algorithm: string, data: string, encoding: 'base64') => string;
/** `crypto.hash` (Node >= 20.12): one call, no Hash object (and no native context left for the GC). */
const oneShotHash = (crypto as { hash?: OneShotHash }).hash;

/** `Sec-WebSocket-Accept` for `key` (RFC 6455 §4.2.2), without a Hash object where Node allows. */
function acceptFor(key: string): string {
  return typeof oneShotHash === 'function'
    ? oneShotHash('sha1', key + WEBSOCKET_GUID, 'base64')
    : computeAccept(key);
}

function closeAll(extensions: readonly Extension[]): void {
  for (const extension of extensions) extension.close();
}

/**
 * Chooses the subprotocol and extensions, writes the 101 response (RFC 6455 §4.2.2) and creates the
 * connection (not yet started). Throws what the negotiation or the response building threw (a
 * HandshakeError for a bad offer, a TypeError for a bad `handleProtocols` answer or response header).
 */
export function acceptUpgrade(
  context: HandshakeContext,
  config: ServerConfig,
  options: WebSocketServerOptions,
  owner: ConnectionOwner,
): WebSocketConnection {
  const { pending, request, info } = context;
  const handler = options.handleProtocols;
  const protocol = selectSubprotocol(
    info.protocols,
    handler === undefined ? undefined : (offered) => handler(new Set(offered), request),
  );
  const negotiated = negotiateExtensions(info.extensionOffers, config.factories);
  let response: string;
  try {
    response = buildServerResponse({
      accept: acceptFor(info.key),
      protocol,
      extensionsHeader: negotiated.header,
      headers: request.responseHeaders,
    });
  } catch (error) {
    closeAll(negotiated.extensions);
    throw error;
  }
  pending.finish();
  pending.socket.write(response, 'latin1');
  return new WebSocketConnection({
    socket: pending.socket,
    config: config.transport,
    extensions: negotiated.extensions,
    extensionsHeader: negotiated.header ?? '',
    protocol: protocol ?? '',
    data: request.data,
    owner,
    logger: config.logger,
  });
}
