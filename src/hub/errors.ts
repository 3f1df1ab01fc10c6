/**
 * Errors the hub reports to clients as `{"type":"error"}` messages (docs/hub-protocol.md).
 * @module
 */

/** The `code` of an `error` message. */
export type HubErrorCode =
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

/** A request failed; the connection stays open unless the caller decides otherwise. */
export class HubError extends Error {
  override readonly name = 'HubError';
  constructor(
    readonly code: HubErrorCode,
    message: string,
    /** The request's `id`, echoed to the client. */
    readonly id: string | number | null = null,
    /** The topic concerned, when there is one. */
    readonly topic: string | null = null,
  ) {
    super(message);
  }

  /** The same error tied to a request id and topic. */
  withContext(id: string | number | null, topic: string | null): HubError {
    return new HubError(this.code, this.message, this.id ?? id, this.topic ?? topic);
  }
}
