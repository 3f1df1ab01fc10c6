/**
 * Counters of one proxied connection (a frame-aware pair or a byte tunnel): what went each way, how
 * each side closed, how long it lived. Plain numeric fields, incremented in place on the hot path; the
 * gateway reads them live (a status page) or once at the end (metrics, access log) through
 * {@link ProxyObserver}.
 * @module
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** `upstream`: from the client to the backend; `downstream`: from the backend to the client. */
export type Direction = 'upstream' | 'downstream';

/**
 * Why a proxied connection ended: `closed` (a close handshake relayed from either side), `client_lost`
 * and `upstream_lost` (a socket ended without a close frame, or broke the protocol), `too_big`
 * (1009), `rate` (1008), `validation` (the validation hook), `idle`, `heartbeat` (the client missed a
 * ping), `drain` (the gateway closed it), `tunnel_end` (a tunnel's socket ended).
 */
export type EndReason =
  | 'closed'
  | 'client_lost'
  | 'upstream_lost'
  | 'too_big'
  | 'rate'
  | 'validation'
  | 'idle'
  | 'heartbeat'
  | 'drain'
  | 'tunnel_end';

/** Traffic in one direction. */
export interface DirectionStats {
  /** Messages forwarded (tunnels: 0, they do not see messages). */
  messages: number;
  /**
   * Frames the gateway wrote for this direction: one per forwarded message (messages are re-framed
   * whole) plus the relayed close frame. Tunnels: 0.
   */
  frames: number;
  /** Payload bytes forwarded (tunnels: every byte). */
  bytes: number;
  /** Bytes read from the sending side's socket, handshake excluded (set when the connection ends). */
  wireBytesIn: number;
  /** Bytes written to the receiving side's socket, handshake excluded (set when the connection ends). */
  wireBytesOut: number;
}

function directionStats(): DirectionStats {
  return { messages: 0, frames: 0, bytes: 0, wireBytesIn: 0, wireBytesOut: 0 };
}

/** Counters of one proxied connection. */
export class ProxyStats {
  /** `frames` or `tunnel`. */
  readonly mode: 'frames' | 'tunnel';
  /** Wall-clock start, ms since the epoch (for access logs). */
  readonly startedAt = Date.now();
  /** Client to backend. */
  readonly upstream: DirectionStats = directionStats();
  /** Backend to client. */
  readonly downstream: DirectionStats = directionStats();
  /** The code the client's connection ended with (its close frame's, 1006 without one); 0 while open. */
  clientCloseCode = 0;
  /** The code the backend's connection ended with; 0 while open. */
  upstreamCloseCode = 0;
  /** Why the connection ended (the first cause); undefined while open. */
  endReason: EndReason | undefined;
  /** Lifetime in ms; grows until the connection ended. */
  durationMs = 0;
  /** Messages the validation hook dropped, both directions. */
  dropped = 0;
  private readonly started = performance.now();
  private readonly handshakeBytes: [number, number, number, number];

  /** Snapshots the sockets' byte counters so that the handshakes are not counted as traffic. */
  constructor(mode: 'frames' | 'tunnel', client: Socket, upstream: Socket) {
    this.mode = mode;
    this.handshakeBytes = [client.bytesRead, client.bytesWritten, upstream.bytesRead, upstream.bytesWritten];
  }

  /** True once both sides ended. */
  get ended(): boolean {
    return this.clientCloseCode !== 0 && this.upstreamCloseCode !== 0;
  }

  /** Records the first cause of the end; later causes are consequences. */
  endWith(reason: EndReason): void {
    this.endReason ??= reason;
  }

  /** Updates `durationMs` (call it to read a live connection's age). */
  touchDuration(): number {
    this.durationMs = performance.now() - this.started;
    return this.durationMs;
  }

  /** Final socket byte counts (once both sides ended). */
  finish(client: Socket, upstream: Socket): void {
    const [clientRead, clientWritten, upstreamRead, upstreamWritten] = this.handshakeBytes;
    this.upstream.wireBytesIn = client.bytesRead - clientRead;
    this.upstream.wireBytesOut = upstream.bytesWritten - upstreamWritten;
    this.downstream.wireBytesIn = upstream.bytesRead - upstreamRead;
    this.downstream.wireBytesOut = client.bytesWritten - clientWritten;
    this.touchDuration();
  }
}

/** Told about proxied connections; every member is optional. */
export interface ProxyObserver {
  /** Both sides ended; `stats` is final. Called once. */
  onEnd?(stats: ProxyStats): void;
}
