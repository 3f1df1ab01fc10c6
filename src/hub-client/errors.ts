/**
 * The one error type of the hub client: a stable `code` (the server's error codes of the `conduit.v1`
 * protocol, plus the client's own) and a human-readable message.
 * @module
 */

/** Error codes the hub sends in `error` messages (docs/hub-protocol.md, "Error codes"). */
export type HubServerErrorCode =
  | 'bad_request'
  | 'unknown_type'
  | 'invalid_topic'
  | 'unauthorized'
  | 'forbidden'
  | 'not_subscribed'
  | 'already_subscribed'
  | 'limit_exceeded'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

/**
 * Error codes raised by the client itself:
 * - `closed`: the client was closed (or gave up reconnecting) before the request was answered;
 * - `queue_full`: a publish found the offline queue at `offlineQueueLimit`;
 * - `ack_timeout`: no `ack` came within `ackTimeoutMs` of sending a publish (it may still have been applied);
 * - `timeout`: a presence request was not answered within `ackTimeoutMs`;
 * - `connect_timeout`: the socket did not open or the hub did not send `connected` within `connectTimeoutMs`;
 * - `policy_violation`: the hub closed the connection with 1008 (the client stops reconnecting);
 * - `retries_exhausted`: `reconnect.maxRetries` attempts in a row failed;
 * - `token_failed`: the token function threw or rejected;
 * - `bad_message`: the hub sent something that is not a valid `conduit.v1` message (ignored);
 * - `invalid_argument`: a call was made with an invalid topic, credit or data.
 */
export type HubClientErrorCode =
  | 'closed'
  | 'queue_full'
  | 'ack_timeout'
  | 'timeout'
  | 'connect_timeout'
  | 'policy_violation'
  | 'retries_exhausted'
  | 'token_failed'
  | 'bad_message'
  | 'invalid_argument';

/** Every code a {@link HubError} may carry; unknown codes from a newer hub pass through as strings. */
export type HubErrorCode = HubServerErrorCode | HubClientErrorCode | (string & {});

/** Where a {@link HubError} came from. */
export interface HubErrorDetails {
  /** The publish `id` the hub's error answered. */
  id?: string | number;
  /** The topic the error is about. */
  topic?: string;
  /** The underlying error (a token function's rejection, a server error behind a close...). */
  cause?: unknown;
}

/** An error reported by the hub (an `error` message) or raised by the client; `code` is stable. */
export class HubError extends Error {
  override readonly name = 'HubError';
  /** Stable machine-readable code, see {@link HubErrorCode}. */
  readonly code: HubErrorCode;
  /** The publish `id` this error answers, when it answers one. */
  readonly id: string | number | undefined;
  /** The topic the error is about, when the hub said so. */
  readonly topic: string | undefined;

  constructor(code: HubErrorCode, message: string, details: HubErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.id = details.id;
    this.topic = details.topic;
  }
}
