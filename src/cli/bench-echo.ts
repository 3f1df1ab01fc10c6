/**
 * `conduit bench --mode echo`: each connection keeps up to K binary messages awaiting their echo and
 * measures every round trip. Echoes come back in order on a connection, so each one answers the oldest
 * message in flight: send times live in a small ring per connection, and messages carry no timestamp.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { WebSocket } from '../client/websocket.js';
import type { BenchOptions } from './bench-args.js';
import type { BenchDriver } from './bench-driver.js';
import { type BenchTarget, closeAll, openMany, openSocket, waitUntil } from './bench-sockets.js';
import type { BenchStats } from './bench-stats.js';

/** How often the pacer of `--rate` hands out messages, in ms. */
const PACER_INTERVAL_MS = 5;
/** Time allowed for the closing handshakes at the end, in ms. */
const CLOSE_WAIT_MS = 3000;

/** One connection and the send times of its messages in flight. */
class EchoLane {
  readonly ws: WebSocket;
  readonly #stats: BenchStats;
  readonly #payload: Buffer;
  readonly #sentAt: Float64Array;
  #head = 0;
  #pending = 0;
  /** Send the next message as soon as an echo returns (unpaced runs). */
  refill = false;

  constructor(ws: WebSocket, stats: BenchStats, payload: Buffer, inFlight: number) {
    this.ws = ws;
    this.#stats = stats;
    this.#payload = payload;
    this.#sentAt = new Float64Array(inFlight);
    ws.addEventListener('message', this.#onMessage);
  }

  /** Room for one more message in flight. */
  get hasRoom(): boolean {
    return this.#pending < this.#sentAt.length;
  }

  get pending(): number {
    return this.#pending;
  }

  send(now: number): void {
    const ring = this.#sentAt;
    ring[(this.#head + this.#pending) % ring.length] = now;
    this.#pending++;
    this.ws.send(this.#payload);
    this.#stats.sent++;
    this.#stats.bytesSent += this.#payload.length;
  }

  /** Fills the window: K messages in flight. */
  fill(now: number): void {
    while (this.hasRoom) this.send(now);
  }

  readonly #onMessage = (event: Event): void => {
    const now = performance.now();
    const stats = this.#stats;
    const data = (event as MessageEvent).data as Buffer;
    if (this.#pending === 0) {
      stats.error('echo: unexpected message');
      return;
    }
    const sentAt = this.#sentAt[this.#head]!;
    this.#head = (this.#head + 1) % this.#sentAt.length;
    this.#pending--;
    stats.received++;
    stats.bytesReceived += data.length;
    stats.lastReceivedAt = now;
    stats.latency.record((now - sentAt) * 1000);
    if (data.length !== this.#payload.length) stats.error('echo: wrong size');
    if (this.refill) this.send(now);
  };
}

/**
 * Hands out `rate` messages per second over the lanes with room, round robin. Credit that finds no room
 * (the server is slower than the rate) is kept, up to one full window per lane.
 */
function startPacer(lanes: EchoLane[], rate: number, inFlight: number): () => void {
  let credit = 0;
  let last = performance.now();
  let next = 0;
  const maxCredit = lanes.length * inFlight;
  const timer = setInterval(() => {
    const now = performance.now();
    credit = Math.min(credit + ((now - last) * rate) / 1000, maxCredit);
    last = now;
    for (let tried = 0; credit >= 1 && tried < lanes.length; ) {
      const lane = lanes[next]!;
      next = (next + 1) % lanes.length;
      if (lane.hasRoom) {
        lane.send(now);
        credit--;
        tried = 0;
      } else tried++;
    }
  }, PACER_INTERVAL_MS);
  return () => clearInterval(timer);
}

/** The echo mode for these options. */
export function echoDriver(options: BenchOptions, stats: BenchStats, target: BenchTarget): BenchDriver {
  const payload = Buffer.alloc(options.size, 0x61);
  let lanes: EchoLane[] = [];
  let closing = false;
  let stopPacer = (): void => {};
  return {
    async prepare() {
      const sockets = await openMany(options.connections, () => openSocket(target, stats, () => closing));
      lanes = sockets.map((ws) => new EchoLane(ws, stats, payload, options.inFlight));
    },
    start() {
      const now = performance.now();
      if (options.rate !== undefined) {
        stopPacer = startPacer(lanes, options.rate, options.inFlight);
        return;
      }
      for (const lane of lanes) {
        lane.refill = true;
        lane.fill(now);
      }
    },
    stop() {
      stopPacer();
      for (const lane of lanes) lane.refill = false;
    },
    settle(ms) {
      return waitUntil(() => lanes.every((lane) => lane.pending === 0 || lane.ws.readyState > 1), ms);
    },
    close() {
      closing = true;
      return closeAll(
        lanes.map((lane) => lane.ws),
        CLOSE_WAIT_MS,
      );
    },
  };
}
