/**
 * Frame-aware relaying between a client connection (server role) and its backend connection (client
 * role). Each message is forwarded as the payload view the receiving side produced: no copy on the way
 * to the client, one on the way to the backend (masking writes the frame buffer, RFC 6455 §5.3).
 * permessage-deflate is per side: inflated where it was received, deflated again only where the other
 * side negotiated it; on a passthrough connection (see `passthrough.ts`) compressed payloads are
 * forwarded as they are, RSV1 kept, and limits and counters see their compressed size. Pings stay on
 * their side (each side answers its own; each side has its own heartbeat); close handshakes are relayed
 * with their code and reason; each direction pauses its sender while the receiver's socket is above its
 * high water mark.
 *
 * Failures: a backend that vanishes (no close frame, protocol error, missed heartbeat) closes the
 * client with 1011; a client that vanishes closes the backend with 1001; a policy breach closes the
 * offending side with its code (1009 too big, 1008 rate, or the validation hook's) and the other one
 * with 1001 (client offended) or 1011 (backend offended).
 * @module
 */
import type { Buffer } from 'node:buffer';
import { isValidWireCloseCode, truncateReason } from '../../protocol/close.js';
import { CloseCode, ReadyState } from '../../protocol/constants.js';
import { ProtocolError } from '../../protocol/errors.js';
import type { WebSocketConnection } from '../../server/connection.js';
import { SocketTransport, type TransportSink } from '../../transport/socket-transport.js';
import type { TimerWheel } from '../../transport/timer-wheel.js';
import type { RoutePolicies } from '../config/types.js';
import { PairClock, type PairClockHost } from './pair-clock.js';
import { forwardOptions, type PassthroughLink } from './passthrough.js';
import { PassthroughInspector } from './passthrough-inspect.js';
import { MessageRate, type MessageValidator } from './policies.js';
import { type Direction, type EndReason, type ProxyObserver, ProxyStats } from './stats.js';
import type { UpstreamHandshake } from './upstream-handshake.js';

/** Options of {@link pair}. */
export interface PairOptions {
  /** Checks every message before it is forwarded (both directions). */
  validate?: MessageValidator;
  /** Told when the pair ended, with its final counters. */
  observer?: ProxyObserver;
  /**
   * Ping the client every `pingIntervalMs` and drop it when a ping goes unanswered for one interval.
   * Default true; turn it off when the client-facing server runs its own heartbeat.
   */
  clientHeartbeat?: boolean;
  /** Timer wheel of the idle timeout and client heartbeat. Default: the upstream transport's. */
  wheel?: TimerWheel;
  /**
   * Both ends of passthrough compression, when the two sides share permessage-deflate parameters
   * (`proxyConnection` sets it from the upgrade).
   */
  passthrough?: PassthroughLink | undefined;
  /**
   * On a passthrough connection, inflate compressed messages for `validate` so that it sees the real
   * message (a zlib context per direction with context takeover: what passthrough otherwise saves).
   * Default false: `validate` gets the compressed payload with `compressed` true (sizes are wire sizes).
   * A message that inflates past `maxMessageBytes` then closes its sender with 1009.
   */
  inflateForValidation?: boolean;
}

/** Closes `side` relaying a close frame's code (1005: an empty close frame) and reason. */
function relayClose(
  side: { close(code?: number, reason?: string): unknown },
  code: number,
  reason: string,
): void {
  if (code === CloseCode.NO_STATUS) side.close();
  else side.close(code, reason);
}

/** A client and a backend connection relaying to each other. Create it with {@link pair}. */
export class ProxyPair implements TransportSink, PairClockHost {
  readonly stats: ProxyStats;
  readonly client: WebSocketConnection;
  /** The backend side (client role). */
  readonly upstream: SocketTransport;
  /** @internal Wheel time of the last message forwarded either way. */
  lastActivity = 0;
  /** @internal False once either side started closing. */
  relaying = true;
  private readonly policies: RoutePolicies;
  private readonly validate: MessageValidator | null;
  private readonly observer: ProxyObserver | null;
  private readonly rate: MessageRate | null;
  private readonly wheel: TimerWheel;
  private readonly clock: PairClock;
  /** Passthrough compression; null when each side has its own (or none). */
  private readonly link: PassthroughLink | null;
  /** Inflates compressed messages for `validate` (see `inflateForValidation`). */
  private readonly inspector: PassthroughInspector | null;
  private readonly handshake: UpstreamHandshake;
  /** We stopped reading the client because the backend's socket is full. */
  private clientPaused = false;
  /** We stopped reading the backend because the client's socket is full. */
  private upstreamPaused = false;
  /** The gateway started (or relayed) the closing of that side. */
  private closingClient = false;
  private closingUpstream = false;
  /** That side failed (protocol error, transport limit, missed heartbeat) rather than closing. */
  private clientFailed = false;
  private upstreamFailed = false;
  private finished = false;

  constructor(
    client: WebSocketConnection,
    upstream: UpstreamHandshake,
    policies: RoutePolicies,
    options: PairOptions,
  ) {
    this.client = client;
    this.handshake = upstream;
    this.policies = policies;
    this.validate = options.validate ?? null;
    this.observer = options.observer ?? null;
    this.link = options.passthrough ?? null;
    const inspect = this.link !== null && this.validate !== null && options.inflateForValidation === true;
    this.inspector = inspect ? new PassthroughInspector(this.link!.client.params) : null;
    this.wheel = options.wheel ?? upstream.config.wheel;
    this.stats = new ProxyStats('frames', client.socket, upstream.socket);
    this.upstream = new SocketTransport(upstream.socket, this, upstream.config, upstream.extensions);
    const rate = policies.maxMessagesPerSecond;
    this.rate = rate > 0 ? new MessageRate(rate, this.wheel.time()) : null;
    const pingMs = options.clientHeartbeat === false ? 0 : policies.pingIntervalMs;
    this.clock = new PairClock(this, this.wheel, policies.idleTimeoutMs, pingMs);
    client.on('message', this.onClientMessage);
    client.on('drain', this.onClientDrain);
    client.on('pong', this.onClientPong);
    client.on('error', this.onClientError);
    client.on('close', this.onClientClose);
  }

  /** Round-trip time of the client's last heartbeat, ms (-1 until answered). */
  get clientRtt(): number {
    return this.clock.rtt;
  }

  /** @internal */
  get clientBackpressured(): boolean {
    return this.clientPaused || this.upstreamPaused;
  }

  /** @internal Starts relaying (the upstream's first frames included). */
  start(): void {
    this.lastActivity = this.wheel.time();
    if (this.handshake.lost) {
      // The backend left between its 101 and now: report it as the transport would have.
      this.upstream.socketClosed();
      return;
    }
    this.upstream.start(this.handshake.rest);
    if (this.relaying) this.clock.start();
  }

  /** Closes both sides with `code` (default 1001: the gateway is draining). */
  close(code: number = CloseCode.GOING_AWAY, reason = 'gateway shutting down'): void {
    this.stats.endWith('drain');
    this.closeClient(code, reason);
    this.closeUpstream(code, reason);
  }

  // --- Client → backend ----------------------------------------------------------------------------------

  private readonly onClientMessage = (data: Buffer, isBinary: boolean): void => {
    // Read for every message, relayed or not, so that the mark never outlives its message.
    const compressed = this.link?.client.takeCompressed() === true;
    if (!this.relaying || !this.admitClientMessage(data, isBinary, compressed)) return;
    const upstream = this.upstream;
    if (upstream.readyState !== ReadyState.OPEN) return;
    this.lastActivity = this.wheel.now;
    const counts = this.stats.upstream;
    counts.messages++;
    counts.frames++;
    counts.bytes += data.length;
    if (!upstream.send(data, forwardOptions(isBinary, compressed)) && !this.clientPaused) {
      this.clientPaused = true;
      this.client.pause();
    }
  };

  /**
   * Size, rate and validation of a client message; false when it must not be forwarded. The size is
   * the payload's as received: compressed, for a message passed through.
   */
  private admitClientMessage(data: Buffer, isBinary: boolean, compressed: boolean): boolean {
    if (data.length > this.policies.maxMessageBytes) {
      this.offended('client', CloseCode.MESSAGE_TOO_BIG, 'message too big', 'too_big');
      return false;
    }
    if (this.rate !== null && !this.rate.take(this.wheel.time())) {
      this.offended('client', CloseCode.POLICY_VIOLATION, 'message rate exceeded', 'rate');
      return false;
    }
    return this.validate === null || this.validated(data, 'upstream', isBinary, compressed);
  }

  /** The backend's socket drained: read from the client again. */
  onDrain(): void {
    if (!this.clientPaused) return;
    this.clientPaused = false;
    this.client.resume();
  }

  // --- Backend → client ----------------------------------------------------------------------------------

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    const compressed = this.link?.upstream.takeCompressed() === true;
    if (!this.relaying) return;
    if (this.validate !== null && !this.validated(data, 'downstream', isBinary, compressed)) return;
    const client = this.client;
    if (client.readyState !== ReadyState.OPEN) return;
    this.lastActivity = this.wheel.now;
    const counts = this.stats.downstream;
    counts.messages++;
    counts.frames++;
    counts.bytes += data.length;
    if (!client.send(data, forwardOptions(isBinary, compressed)) && !this.upstreamPaused) {
      this.upstreamPaused = true;
      this.upstream.pauseReading();
    }
  }

  private readonly onClientDrain = (): void => {
    if (!this.upstreamPaused) return;
    this.upstreamPaused = false;
    this.upstream.resumeReading();
  };

  /** Runs the validation hook; false when the message is dropped or its sender closed. */
  private validated(data: Buffer, direction: Direction, isBinary: boolean, compressed: boolean): boolean {
    const side = direction === 'upstream' ? 'client' : 'upstream';
    let message = data;
    if (compressed && this.inspector !== null) {
      try {
        message = this.inspector.inflate(data, direction, this.policies.maxMessageBytes);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        const why = error.closeCode === CloseCode.MESSAGE_TOO_BIG ? 'too_big' : 'validation';
        this.offended(side, error.closeCode, error.message, why);
        return false;
      }
    }
    const verdict = this.validate!(message, direction, isBinary, message === data && compressed);
    if (verdict === true) return true;
    if (verdict === false) {
      this.stats.dropped++;
      return false;
    }
    this.offended(side, verdict.close, verdict.reason ?? 'message rejected', 'validation');
    return false;
  }

  // --- Control frames and timers -----------------------------------------------------------------------

  /** @internal The backend pinged: its transport already answered. */
  onPing(): void {}

  /** @internal The backend answered a heartbeat: its transport keeps the books. */
  onPong(): void {}

  private readonly onClientPong = (): void => {
    this.clock.pongReceived();
  };

  /** @internal */
  pingClient(): void {
    this.client.ping();
  }

  /** @internal The client missed a heartbeat: drop it, tell the backend it went away. */
  heartbeatMissed(): void {
    this.stats.endWith('heartbeat');
    this.closingClient = true;
    this.relaying = false;
    this.client.terminate();
    this.closeUpstream(CloseCode.GOING_AWAY, 'client heartbeat timeout');
  }

  /** @internal No message either way for `idleTimeoutMs`. */
  idleTimedOut(): void {
    this.stats.endWith('idle');
    this.closeClient(CloseCode.GOING_AWAY, 'idle timeout');
    this.closeUpstream(CloseCode.GOING_AWAY, 'idle timeout');
  }

  // --- Closing ---------------------------------------------------------------------------------------------

  /** A policy breach by `side`: it gets `code`, the other side a consequence of it. */
  private offended(side: 'client' | 'upstream', code: number, reason: string, why: EndReason): void {
    this.stats.endWith(why);
    if (side === 'client') {
      this.closeClient(code, reason);
      this.closeUpstream(CloseCode.GOING_AWAY, 'client closed by policy');
    } else {
      this.closeUpstream(code, reason);
      this.closeClient(CloseCode.INTERNAL_ERROR, 'upstream closed by policy');
    }
  }

  private closeClient(code: number, reason: string): void {
    if (this.closingClient) return;
    this.closingClient = true;
    this.relaying = false;
    // The hook may name a code that cannot be sent; a policy close is then 1008.
    this.client.close(isValidWireCloseCode(code) ? code : CloseCode.POLICY_VIOLATION, truncateReason(reason));
    // Its close reply must be read even if the backend's socket is full.
    if (this.clientPaused) this.onDrain();
  }

  private closeUpstream(code: number, reason: string): void {
    if (this.closingUpstream) return;
    this.closingUpstream = true;
    this.relaying = false;
    this.upstream.close(
      isValidWireCloseCode(code) ? code : CloseCode.POLICY_VIOLATION,
      truncateReason(reason),
    );
    if (this.upstreamPaused) this.onClientDrain();
  }

  private readonly onClientError = (): void => {
    this.clientFailed = true;
  };

  /** @internal */
  onError(): void {
    this.upstreamFailed = true;
  }

  private readonly onClientClose = (code: number, reason: string): void => {
    this.stats.clientCloseCode = code;
    this.relaying = false;
    this.closingClient = true;
    if (!this.closingUpstream) {
      if (this.clientFailed || code === CloseCode.ABNORMAL) {
        this.stats.endWith('client_lost');
        this.closeUpstream(CloseCode.GOING_AWAY, 'client went away');
      } else {
        this.stats.endWith('closed');
        this.closingUpstream = true;
        this.stats.upstream.frames++;
        relayClose(this.upstream, code, reason);
        if (this.upstreamPaused) this.onClientDrain();
      }
    }
    this.maybeFinish();
  };

  /** @internal The backend's connection closed (its close code, else 1006 or the code we failed it with). */
  onClose(code: number, reason: string): void {
    this.stats.upstreamCloseCode = code;
    this.relaying = false;
    this.closingUpstream = true;
    if (!this.closingClient) {
      if (this.upstreamFailed || !this.upstream.protocol.closeReceived) {
        this.stats.endWith('upstream_lost');
        this.closeClient(CloseCode.INTERNAL_ERROR, 'upstream connection lost');
      } else {
        this.stats.endWith('closed');
        this.closingClient = true;
        this.stats.downstream.frames++;
        relayClose(this.client, code, reason);
        if (this.clientPaused) this.onDrain();
      }
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.finished || !this.stats.ended) return;
    this.finished = true;
    this.clock.stop();
    this.inspector?.close();
    this.stats.finish(this.client.socket, this.upstream.socket);
    this.observer?.onEnd?.(this.stats);
  }
}

/**
 * Starts relaying between `client` (from the proxy server's 'connection' event, before it starts) and
 * an upstream claimed from its {@link UpstreamHandshake}, under the route's `policies`.
 */
export function pair(
  client: WebSocketConnection,
  upstream: UpstreamHandshake,
  policies: RoutePolicies,
  options: PairOptions = {},
): ProxyPair {
  const proxy = new ProxyPair(client, upstream, policies, options);
  proxy.start();
  return proxy;
}
