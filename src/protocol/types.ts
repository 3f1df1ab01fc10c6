/**
 * Options and callbacks of a protocol connection.
 * @module
 */

import type { ProtocolError } from './errors.js';
import type { Extension } from './extension.js';

/** Which end of the connection this is: it decides masking (RFC 6455 §5.1, §5.3). */
export type Role = 'client' | 'server';

/** Limits on what a peer may send, each with a documented default. */
export interface ProtocolLimits {
  /** Largest payload of one frame, in bytes. Bigger frames close the connection with 1009. Default 16 MiB. */
  maxFrameSize?: number;
  /**
   * Largest message after reassembly and decompression, in bytes. Bigger messages close the connection
   * with 1009. Default 16 MiB.
   */
  maxMessageSize?: number;
}

/** Options of a {@link WebSocketProtocol}. */
export interface ProtocolOptions extends ProtocolLimits {
  role: Role;
  /** Negotiated extensions, in the order of the `Sec-WebSocket-Extensions` response header. */
  extensions?: Extension[];
  /** Answer every ping with a pong carrying the same payload (RFC 6455 §5.5.2). Default true. */
  autoPong?: boolean;
  /**
   * Source of masking keys for the client role; must be cryptographically random (RFC 6455 §10.3).
   * Default: WebCrypto `getRandomValues`, fetched in batches.
   */
  randomFill?: (target: Uint8Array) => void;
}

/**
 * Receives what the protocol produces. The hot path calls these directly rather than allocating an
 * event object per frame.
 */
export interface ProtocolHandler {
  /**
   * Bytes to write to the transport, in order. After a close frame the protocol writes nothing but pongs
   * owed to pings that arrive before the peer's close (RFC 6455 §5.5.2).
   */
  write(data: Uint8Array): void;
  /**
   * A complete message. Text messages are already validated as UTF-8. `data` may be a view into a
   * received chunk (unmasked in place); it stays valid, but the chunk it views is retained while it lives.
   */
  onMessage(data: Uint8Array, isBinary: boolean): void;
  /** A ping arrived (the pong is already queued when `autoPong` is on). */
  onPing?(payload: Uint8Array): void;
  /** A pong arrived. */
  onPong?(payload: Uint8Array): void;
  /**
   * The peer's close frame arrived. `code` is 1005 when the frame had no status code. When the peer
   * started the closing handshake, the reply close frame has already been written.
   */
  onClose?(code: number, reason: string): void;
  /**
   * The peer broke the protocol or a limit. A close frame with `error.closeCode` has already been written;
   * the transport should flush it and close the connection (RFC 6455 §7.1.7).
   */
  onError?(error: ProtocolError): void;
}
