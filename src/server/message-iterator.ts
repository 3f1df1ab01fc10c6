/**
 * `for await` over a connection's messages. The iterator subscribes only when created, so connections
 * used through events pay nothing; it pauses reading from the peer while messages pile up unconsumed.
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { EventEmitter } from 'node:events';

/** One received message. */
export interface Message {
  data: Buffer;
  isBinary: boolean;
}

/** The part of a connection the iterator needs. */
export interface IterableConnection extends EventEmitter {
  pause(): void;
  resume(): void;
  readonly readyState: number;
}

/** Unconsumed messages at which reading pauses; it resumes when the queue is empty again. */
export const ITERATOR_HIGH_WATER = 64;

const CLOSED = 3;

/** Async iterator over the messages of one connection; ends when the connection closes. */
export class MessageIterator implements AsyncIterableIterator<Message> {
  private readonly connection: IterableConnection;
  private readonly queue: Message[] = [];
  private head = 0;
  private waiting: ((result: IteratorResult<Message>) => void) | null = null;
  private ended = false;
  private paused = false;

  constructor(connection: IterableConnection) {
    this.connection = connection;
    if (connection.readyState === CLOSED) {
      this.ended = true;
      return;
    }
    connection.on('message', this.onMessage);
    connection.on('close', this.onClose);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Message> {
    return this;
  }

  /** The next message, or `done` once the connection closed and every queued message was consumed. */
  next(): Promise<IteratorResult<Message>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++]!;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        this.unpause();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Stops iterating (`break` out of `for await`): unsubscribes; the connection stays open. */
  return(): Promise<IteratorResult<Message>> {
    this.finish();
    this.queue.length = 0;
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  private readonly onMessage = (data: Buffer, isBinary: boolean): void => {
    const waiting = this.waiting;
    if (waiting !== null) {
      this.waiting = null;
      waiting({ value: { data, isBinary }, done: false });
      return;
    }
    this.queue.push({ data, isBinary });
    if (!this.paused && this.queue.length - this.head >= ITERATOR_HIGH_WATER) {
      this.paused = true;
      this.connection.pause();
    }
  };

  private readonly onClose = (): void => {
    this.finish();
  };

  private unpause(): void {
    if (!this.paused) return;
    this.paused = false;
    this.connection.resume();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.connection.off('message', this.onMessage);
    this.connection.off('close', this.onClose);
    this.unpause();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ value: undefined, done: true });
  }
}
