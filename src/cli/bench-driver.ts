/**
 * The life cycle every `conduit bench` mode follows, so that one runner times, stops and reports them
 * all alike.
 * @module
 */

/** One mode of `conduit bench`, driven through its phases in this order. */
export interface BenchDriver {
  /** Opens the connections the run needs; rejects with an `OpenError` when the server cannot be reached. */
  prepare(): Promise<void>;
  /** Starts the traffic: the measured phase begins. */
  start(): void;
  /** Starts no new work (messages, publications, handshakes). */
  stop(): void;
  /** Resolves once nothing is in flight any more, or after `ms`. */
  settle(ms: number): Promise<void>;
  /** Closes every connection with 1000 (cutting those that do not answer in time). */
  close(): Promise<void>;
}
