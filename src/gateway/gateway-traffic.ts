/**
 * Traffic counters of one route towards one upstream, kept across reloads (Prometheus counters must not
 * go back). The hot path touches plain numbers only: a pair's own {@link ProxyStats} count messages,
 * frames and bytes, and the message-size histogram is a small array indexed per message. Metrics read
 * everything at scrape time: the totals of ended connections plus the live counters of open ones.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { MessageValidator } from './proxy/policies.js';
import type { Direction, ProxyStats } from './proxy/stats.js';

/** Upper bounds of the message size histogram, bytes: powers of 4 from 64 B to 16 MiB. */
export const MESSAGE_SIZE_BUCKETS: readonly number[] = [
  64, 256, 1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216,
];

/** A fixed-bucket histogram of sizes. */
export class SizeBuckets {
  /** Observations per bucket (not cumulative); the last slot counts those above every bound. */
  readonly counts = new Float64Array(MESSAGE_SIZE_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  record(size: number): void {
    let index = 0;
    const bounds = MESSAGE_SIZE_BUCKETS;
    while (index < bounds.length && size > bounds[index]!) index++;
    this.counts[index]!++;
    this.sum += size;
    this.count++;
  }
}

/** Messages, frames and bytes in one direction. */
export interface TrafficCounts {
  messages: number;
  frames: number;
  bytes: number;
}

function zero(): TrafficCounts {
  return { messages: 0, frames: 0, bytes: 0 };
}

/** The traffic of one (route, upstream) pair. */
export class RouteTraffic {
  /** Connections open now. */
  open = 0;
  /** Connections accepted since start. */
  total = 0;
  /** Counters of connections that ended. */
  readonly ended: Record<Direction, TrafficCounts> = { upstream: zero(), downstream: zero() };
  readonly sizes: Record<Direction, SizeBuckets> = {
    upstream: new SizeBuckets(),
    downstream: new SizeBuckets(),
  };
  /** Ended connections by side and close code (`client:1000`, `upstream:1011`; 1006: no close frame). */
  readonly closeCodes = new Map<string, number>();
  /** Counters of the open connections, read live. */
  private readonly live = new Set<ProxyStats>();

  constructor(
    readonly route: string,
    readonly upstream: string,
  ) {}

  /**
   * The pair's validation hook, used as the per-message observation point: it records the size and
   * lets every message through. One function per route, shared by its connections.
   */
  readonly observe: MessageValidator = (message: Buffer, direction: Direction): boolean => {
    this.sizes[direction].record(message.length);
    return true;
  };

  /** A connection was accepted (call before its session starts: it may end synchronously). */
  opened(): void {
    this.open++;
    this.total++;
  }

  /** The session of an accepted connection started; its counters are read live until it ends. */
  started(stats: ProxyStats): void {
    if (!stats.ended) this.live.add(stats);
  }

  /** A connection ended (`stats` final, or null when it never became a session). */
  closed(stats: ProxyStats | null): void {
    this.open--;
    if (stats === null) return;
    this.live.delete(stats);
    // RFC 6455 §7.1.5: a side that ended without a close frame closed with 1006.
    this.countClose(`client:${stats.clientCloseCode || 1006}`);
    this.countClose(`upstream:${stats.upstreamCloseCode || 1006}`);
    for (const direction of ['upstream', 'downstream'] as const) {
      const into = this.ended[direction];
      const from = stats[direction];
      into.messages += from.messages;
      into.frames += from.frames;
      into.bytes += from.bytes;
    }
  }

  private countClose(key: string): void {
    this.closeCodes.set(key, (this.closeCodes.get(key) ?? 0) + 1);
  }

  /** Totals so far in `direction`: ended connections plus the live counters of open ones. */
  totals(direction: Direction): TrafficCounts {
    const sum = { ...this.ended[direction] };
    for (const stats of this.live) {
      const from = stats[direction];
      sum.messages += from.messages;
      sum.frames += from.frames;
      sum.bytes += from.bytes;
    }
    return sum;
  }
}

/** Every RouteTraffic of a gateway, by route and upstream name. */
export class TrafficTable {
  private readonly entries = new Map<string, RouteTraffic>();

  /** The traffic of `route` towards `upstream`, created on first use. */
  get(route: string, upstream: string): RouteTraffic {
    const key = `${route}\u0000${upstream}`;
    let traffic = this.entries.get(key);
    if (traffic === undefined) {
      traffic = new RouteTraffic(route, upstream);
      this.entries.set(key, traffic);
    }
    return traffic;
  }

  values(): IterableIterator<RouteTraffic> {
    return this.entries.values();
  }
}
