/**
 * Tunnel mode: after both opening handshakes, the two sockets are spliced byte for byte. The gateway
 * no longer sees frames: masking, fragmentation, pings and close handshakes pass through untouched, so
 * both sides must have agreed on the same subprotocol and on no extension (the proxy's server options
 * and dialer make sure of that for tunnel routes). Each socket is ended when the other one ends.
 *
 * The client's connection object stays alive underneath, deaf, so that the server's bookkeeping
 * (limits, connection counts) runs when its socket closes. Its own writes would corrupt the stream:
 * the server must run no heartbeat of its own (`proxyServerOptions` disables it), and draining closes
 * tunnels with {@link ProxyTunnel.close}, never with `connection.close()`.
 *
 * Where the native relay can take both sockets (Linux, plain TCP on both sides, see
 * `transport/native-relay.ts`), it copies the bytes in its own thread and the JavaScript splice below is
 * not used: a chunk then costs a read() and a send(), with no event-loop callback.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import type { WebSocketConnection } from '../../server/connection.js';
import { type NativeRelay, RelayCounter, relayNatively } from '../../transport/native-relay.js';
import { type ProxyObserver, ProxyStats } from './stats.js';
import type { UpstreamHandshake } from './upstream-handshake.js';

/** A socket that was ended gracefully is destroyed if its peer has not closed it after this, ms. */
const END_LINGER_MS = 5000;

/** Options of {@link tunnel}. */
export interface TunnelOptions {
  /** Told when both sockets closed, with the final counters. */
  observer?: ProxyObserver;
}

/** One side of the splice: reads from `from`, writes to `to`, pausing `from` while `to` is full. */
class Splice {
  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly counts: { bytes: number },
  ) {}

  start(): void {
    this.from.on('data', this.onData);
    this.from.on('end', this.onEnd);
    this.to.on('drain', this.onDrain);
    this.from.resume();
  }

  private readonly onData = (chunk: Buffer): void => {
    this.counts.bytes += chunk.length;
    if (!this.to.write(chunk)) this.from.pause();
  };

  private readonly onDrain = (): void => {
    this.from.resume();
  };

  /** The sender half-closed: pass the FIN on (RFC 6455 §7.1.1 leaves the TCP closing to the server). */
  private readonly onEnd = (): void => {
    if (!this.to.destroyed) this.to.end();
  };
}

/** A client socket and a backend socket spliced together. Create it with {@link tunnel}. */
export class ProxyTunnel {
  readonly stats: ProxyStats;
  readonly client: WebSocketConnection;
  private readonly clientSocket: Socket;
  private readonly upstreamSocket: Socket;
  private readonly observer: ProxyObserver | null;
  private linger: NodeJS.Timeout | null = null;
  private finished = false;
  /** The native relay while it holds the sockets; null before, after, or when JavaScript splices. */
  private relay: NativeRelay | null = null;
  /** The native relay's counters once it ran (kept after it let go, for the final byte counts). */
  private relayed: NativeRelay | null = null;

  constructor(client: WebSocketConnection, upstream: UpstreamHandshake, options: TunnelOptions) {
    this.client = client;
    this.clientSocket = client.socket;
    this.upstreamSocket = upstream.socket;
    this.observer = options.observer ?? null;
    this.stats = new ProxyStats('tunnel', this.clientSocket, this.upstreamSocket);
    this.upstreamSocket.setNoDelay(true);
    if (upstream.rest.length > 0) this.clientSocket.write(upstream.rest);
    // Keep the connection from reading the client's bytes as frames once the server starts it.
    client.pause();
    client.on('close', this.onClientClose);
    this.upstreamSocket.on('close', this.onUpstreamClose);
  }

  /** @internal Takes over the sockets; call after the server started the client connection. */
  start(): void {
    if (this.upstreamSocket.destroyed) {
      this.onUpstreamClose(true);
      return;
    }
    // The connection's reader goes; its 'close' listener stays, for the server's bookkeeping (and its
    // 'end' listener, which only ends the socket, as the splice would).
    this.clientSocket.removeAllListeners('data');
    this.stats.touchDuration();
    this.relay = relayNatively(this.clientSocket, this.upstreamSocket, this.onRelayDone);
    if (this.relay !== null) {
      this.relayed = this.relay;
      countLive(this.stats, this.relay);
      return;
    }
    new Splice(this.clientSocket, this.upstreamSocket, this.stats.upstream).start();
    new Splice(this.upstreamSocket, this.clientSocket, this.stats.downstream).start();
  }

  /**
   * Ends both sockets (the gateway is draining). A tunnel cannot send close frames without risking
   * the middle of a frame, so both peers see the connection end without one (1006).
   */
  close(): void {
    this.stats.endWith('drain');
    this.endBoth();
  }

  /** True when the native relay copies this tunnel's bytes (false when JavaScript splices them). */
  get native(): boolean {
    return this.relayed !== null;
  }

  private endBoth(): void {
    if (this.relay !== null) this.relay.end();
    else {
      if (!this.clientSocket.destroyed) this.clientSocket.end();
      if (!this.upstreamSocket.destroyed) this.upstreamSocket.end();
    }
    if (this.linger === null) {
      this.linger = setTimeout(this.destroyBoth, END_LINGER_MS);
      this.linger.unref();
    }
  }

  private readonly destroyBoth = (): void => {
    this.relay?.destroy();
    this.clientSocket.destroy();
    this.upstreamSocket.destroy();
  };

  /**
   * The relay let go of both sockets: both directions ended (each peer's FIN passed on and every byte
   * written), or a socket failed (errno), or it was destroyed. Nothing is left to write: the Node
   * sockets are destroyed, and their 'close' events end the tunnel as in the JavaScript splice.
   */
  private readonly onRelayDone = (errno: number): void => {
    this.relay = null;
    if (errno !== 0) this.stats.endWith('tunnel_end');
    this.clientSocket.destroy();
    this.upstreamSocket.destroy();
  };

  private readonly onClientClose = (code: number): void => {
    // Someone else destroyed the socket: the relay's duplicate would keep the connection open.
    this.relay?.destroy();
    this.stats.clientCloseCode = code;
    this.stats.endWith('tunnel_end');
    this.sideClosed(this.upstreamSocket, this.clientSocket.errored !== null);
  };

  private readonly onUpstreamClose = (hadError: boolean): void => {
    this.relay?.destroy();
    this.stats.upstreamCloseCode = 1006;
    this.stats.endWith('tunnel_end');
    this.sideClosed(this.clientSocket, hadError);
  };

  /** One socket closed: end the other (destroy it after an error), finish once both are closed. */
  private sideClosed(other: Socket, hadError: boolean): void {
    if (hadError) other.destroy();
    else this.endBoth();
    if (this.finished || !this.stats.ended) return;
    this.finished = true;
    if (this.linger !== null) clearTimeout(this.linger);
    this.stats.finish(this.clientSocket, this.upstreamSocket);
    if (this.relayed !== null) addRelayed(this.stats, this.relayed);
    this.observer?.onEnd?.(this.stats);
  }
}

/** Makes the tunnel's live byte counts read the relay's counters (plus what Node had read before). */
function countLive(stats: ProxyStats, relay: NativeRelay): void {
  const { counters, handedOver } = relay;
  Object.defineProperty(stats.upstream, 'bytes', {
    get: () => handedOver.first + (counters[RelayCounter.FIRST_READ] ?? 0),
    enumerable: true,
  });
  Object.defineProperty(stats.downstream, 'bytes', {
    get: () => handedOver.second + (counters[RelayCounter.SECOND_READ] ?? 0),
    enumerable: true,
  });
}

/** Adds what the relay read and wrote to the wire counts taken from the Node sockets. */
function addRelayed(stats: ProxyStats, relay: NativeRelay): void {
  const { counters } = relay;
  stats.upstream.wireBytesIn += counters[RelayCounter.FIRST_READ] ?? 0;
  stats.upstream.wireBytesOut += counters[RelayCounter.SECOND_WRITTEN] ?? 0;
  stats.downstream.wireBytesIn += counters[RelayCounter.SECOND_READ] ?? 0;
  stats.downstream.wireBytesOut += counters[RelayCounter.FIRST_WRITTEN] ?? 0;
}

/**
 * Splices `client` (from the proxy server's 'connection' event, before it starts) and a claimed
 * upstream. The splice itself begins on the next tick, once the server has started the connection.
 */
export function tunnel(
  client: WebSocketConnection,
  upstream: UpstreamHandshake,
  options: TunnelOptions = {},
): ProxyTunnel {
  const proxy = new ProxyTunnel(client, upstream, options);
  process.nextTick(() => proxy.start());
  return proxy;
}
