/**
 * Options of a socket transport: flow control, backpressure policy and timers, resolved once per server
 * (or client) into a shared {@link TransportConfig} so that connections hold a single reference to them.
 * @module
 */
import type { TransportMetrics } from '../observability/metric-types.js';
import { DEFAULT_MAX_MESSAGE_SIZE } from '../protocol/connection.js';
import type { Role } from '../protocol/types.js';
import { sharedTimerWheel, type TimerWheel } from './timer-wheel.js';

/** What a send does when more than `maxBackpressure` bytes already wait in the socket. */
export type BackpressurePolicy = 'close' | 'drop';

/** Options of a socket transport; every limit has a documented default. */
export interface TransportOptions {
  /**
   * Largest message after reassembly and decompression, in bytes (frames are limited to it too). A bigger
   * one closes the connection with 1009. Default 16 MiB.
   */
  maxPayload?: number;
  /**
   * `send()` returns false once this many bytes wait in the socket, and the transport stops reading
   * from the peer until they drain below `lowWaterMark` (a peer cannot make us buffer its echoes or
   * pongs faster than it reads them). Default 64 KiB.
   */
  highWaterMark?: number;
  /** 'drain' is emitted, and reading resumes, when the waiting bytes fall to this. Default 16 KiB. */
  lowWaterMark?: number;
  /**
   * Hard limit of bytes waiting in the socket. A send that finds more than this applies
   * `backpressurePolicy`. One message may pass it (the check is made before the send), so memory per
   * connection stays under `maxBackpressure` plus one message. Default 1 MiB.
   */
  maxBackpressure?: number;
  /**
   * `close` (default): close the connection with 1008 (policy violation) and destroy it after
   * `closeTimeout` if the peer does not read the close frame. `drop`: discard the message; `send()`
   * returns false and its callback gets `ERR_BACKPRESSURE_DROPPED`.
   */
  backpressurePolicy?: BackpressurePolicy;
  /** After sending a close frame, wait this long (ms) for the peer before destroying the socket. Default 5000. */
  closeTimeout?: number;
  /**
   * Close with 1001 when no data message was sent or received for this long (ms); pings and pongs do not
   * count. 0 disables it. Default 0.
   */
  idleTimeout?: number;
  /**
   * Send a ping every this many ms; a peer whose pong has not arrived by the next ping is terminated
   * (close 1006). The round-trip time of the last ping is kept. 0 disables it. Default 30000.
   */
  heartbeatInterval?: number;
  /** Answer every ping with a pong carrying the same payload (RFC 6455 §5.5.2). Default true. */
  autoPong?: boolean;
}

/** Resolved transport settings, shared by every connection of one server or client. */
export interface TransportConfig {
  readonly role: Role;
  readonly maxPayload: number;
  readonly highWaterMark: number;
  readonly lowWaterMark: number;
  readonly maxBackpressure: number;
  readonly dropOnBackpressure: boolean;
  readonly closeTimeout: number;
  readonly idleTimeout: number;
  readonly heartbeatInterval: number;
  /** Answer pings automatically; undefined means true. */
  readonly autoPong?: boolean;
  readonly wheel: TimerWheel;
  /** Where connections count bytes, messages and control frames; null counts nothing. */
  readonly metrics: TransportMetrics | null;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${name} must be a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/**
 * Validates `options` and fills in the defaults. Throws a RangeError for an invalid limit. `metrics`, when
 * given, is shared by every connection using the result.
 */
export function resolveTransportOptions(
  role: Role,
  options: TransportOptions,
  wheel?: TimerWheel,
  metrics: TransportMetrics | null = null,
): TransportConfig {
  const highWaterMark = nonNegative('highWaterMark', options.highWaterMark, 64 * 1024);
  const lowWaterMark = nonNegative('lowWaterMark', options.lowWaterMark, Math.min(16 * 1024, highWaterMark));
  if (lowWaterMark > highWaterMark) throw new RangeError('lowWaterMark must not exceed highWaterMark');
  const policy = options.backpressurePolicy ?? 'close';
  if (policy !== 'close' && policy !== 'drop') {
    throw new RangeError(`backpressurePolicy must be 'close' or 'drop', got ${String(policy)}`);
  }
  const maxPayload = nonNegative('maxPayload', options.maxPayload, DEFAULT_MAX_MESSAGE_SIZE);
  // Unlike ws, 0 does not mean "unlimited": every limit stays finite.
  if (maxPayload === 0) throw new RangeError('maxPayload must be positive');
  return {
    role,
    maxPayload,
    highWaterMark,
    lowWaterMark,
    maxBackpressure: nonNegative('maxBackpressure', options.maxBackpressure, 1024 * 1024),
    dropOnBackpressure: policy === 'drop',
    closeTimeout: nonNegative('closeTimeout', options.closeTimeout, 5000),
    idleTimeout: nonNegative('idleTimeout', options.idleTimeout, 0),
    heartbeatInterval: nonNegative('heartbeatInterval', options.heartbeatInterval, 30_000),
    autoPong: options.autoPong ?? true,
    wheel: wheel ?? sharedTimerWheel(),
    metrics,
  };
}
