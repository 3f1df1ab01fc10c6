/**
 * What a `conduit bench` run counts: messages and bytes both ways, latency samples, errors by kind and
 * close codes. Plain fields, so that the hot paths of the modes only add to numbers.
 * @module
 */
import { LatencyHistogram } from './bench-histogram.js';

/** The tallies of one run, shared by the mode that fills them and the progress and result printers. */
export class BenchStats {
  /** Messages sent (echo), deliveries due (subscribe: publications × subscribers), handshakes begun (connect). */
  sent = 0;
  /** Echoes received, deliveries received, or handshakes completed. */
  received = 0;
  /** Publications sent (subscribe only). */
  published = 0;
  /** Handshakes that failed (connect only). */
  failed = 0;
  /** Payload bytes sent and received. */
  bytesSent = 0;
  bytesReceived = 0;
  /** Latency samples, in microseconds. */
  readonly latency = new LatencyHistogram();
  /** Errors by kind (`connect: ECONNREFUSED`, `hub: rate_limited`, `closed 1011`...). */
  readonly errors = new Map<string, number>();
  /** Close codes of the connections that ended, with how many ended so. */
  readonly closeCodes = new Map<number, number>();
  /** `performance.now()` when the measured phase started and ended. */
  startedAt = 0;
  endedAt = 0;
  /** `performance.now()` of the last answer received: the end of the phase when the last ones trickle in. */
  lastReceivedAt = 0;

  /** Counts one error of `kind`. */
  error(kind: string): void {
    this.errors.set(kind, (this.errors.get(kind) ?? 0) + 1);
  }

  /** Counts one connection that ended with `code`. */
  closed(code: number): void {
    this.closeCodes.set(code, (this.closeCodes.get(code) ?? 0) + 1);
  }

  /** Every error counted. */
  get errorCount(): number {
    let total = 0;
    for (const n of this.errors.values()) total += n;
    return total;
  }

  /** Sent and not (yet) answered: messages awaiting their echo, deliveries missing, handshakes under way. */
  get inFlight(): number {
    return this.sent - this.received - this.failed;
  }

  /** Seconds of the measured phase so far (until it ended). */
  elapsedSeconds(now: number = performance.now()): number {
    if (this.startedAt === 0) return 0;
    return ((this.endedAt === 0 ? now : this.endedAt) - this.startedAt) / 1000;
  }
}
