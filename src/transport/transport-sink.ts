/**
 * The interface between a `SocketTransport` and the connection class that owns it (server or
 * client side), kept apart so that both sides can import it without importing the transport itself.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { ProtocolError } from '../protocol/errors.js';
import type { TransportError } from './errors.js';

/** Receives what a `SocketTransport` produces; the server and client connection classes implement it. */
export interface TransportSink {
  /** A complete message; `data` is a view (not a copy) of what was received. */
  onMessage(data: Buffer, isBinary: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** `bufferedAmount` fell to the low water mark after `send()` had returned false. */
  onDrain(): void;
  /** A protocol violation (a close frame was sent) or a transport limit or timer ended the connection. */
  onError(error: ProtocolError | TransportError): void;
  /**
   * The TCP connection is closed; called exactly once. `code` is the status code of the close frame
   * received (1005 when it had none); without one, the code we failed the connection with after a
   * protocol error (1002, 1007, 1009...), else 1006.
   */
  onClose(code: number, reason: string): void;
}
