/**
 * The events a {@link WebSocket} dispatches (WHATWG WebSocket standard): `CloseEvent` (global in
 * browsers and in Node >= 23, defined here for older Node), and `ErrorEvent`, an `error` Event that also
 * carries the Error behind it, for Node users who want more than "something failed".
 * @module
 */

/** The fields of a {@link CloseEvent}. */
export interface CloseEventFields extends EventInit {
  code?: number;
  reason?: string;
  wasClean?: boolean;
}

/** `close` event of a WebSocket, for runtimes without a global `CloseEvent`. */
class ConduitCloseEvent extends Event {
  /** The close code received (1005 for a close frame without one), or 1006 when none arrived. */
  readonly code: number;
  /** The close reason received, or ''. */
  readonly reason: string;
  /** True when the closing handshake completed (RFC 6455 §7.1.4). */
  readonly wasClean: boolean;

  constructor(type: string, init: CloseEventFields = {}) {
    super(type, init);
    this.code = init.code ?? 0;
    this.reason = init.reason ?? '';
    this.wasClean = init.wasClean ?? false;
  }
}

/** The global `CloseEvent` where the runtime has one (so `instanceof` works across libraries), else ours. */
export const CloseEvent: typeof ConduitCloseEvent =
  (globalThis as unknown as { CloseEvent?: typeof ConduitCloseEvent }).CloseEvent ?? ConduitCloseEvent;
/** A `close` event: `code`, `reason`, `wasClean`. */
export type CloseEvent = ConduitCloseEvent;

/** The fields of an {@link ErrorEvent}. */
export interface ErrorEventFields extends EventInit {
  message?: string;
  error?: unknown;
}

/**
 * `error` event of a WebSocket. The WHATWG standard fires a plain Event; this one adds `error` (the
 * HandshakeError, ProtocolError, TransportError, ClientError or system error that caused it) and its
 * `message`.
 */
export class ErrorEvent extends Event {
  readonly message: string;
  readonly error: unknown;

  constructor(type: string, init: ErrorEventFields = {}) {
    super(type, init);
    this.message = init.message ?? '';
    this.error = init.error;
  }
}
