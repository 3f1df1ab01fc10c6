/**
 * Keeps `send()` calls in order when one of them is a Blob, whose bytes can only be read asynchronously
 * (WHATWG WebSocket standard, `send(Blob)`): from a Blob on, every message waits in this queue until the
 * Blobs before it are read. Without Blobs the queue stays empty and costs nothing.
 * @module
 */

/** What can wait: a text message (string), binary bytes, or a Blob still to be read. */
export type QueuedData = string | Uint8Array | Blob;

/** Where queued messages go once their turn comes, and where a failed Blob read is reported. */
export interface SendQueueSink {
  /** Sends one message now (strings as text, bytes as binary). */
  sendQueued(data: string | Uint8Array): void;
  /** The queue became empty after having waited for a Blob. */
  queueEmptied(): void;
  /** A Blob could not be read: the connection cannot keep its message order. */
  queueFailed(error: Error): void;
}

/** Messages waiting behind a Blob, in `send()` order. */
export class SendQueue {
  /** Payload bytes waiting in the queue (they count towards `bufferedAmount`). */
  bytes = 0;
  private items: QueuedData[] = [];
  private sizes: number[] = [];
  private reading = false;
  private readonly sink: SendQueueSink;

  constructor(sink: SendQueueSink) {
    this.sink = sink;
  }

  /** True when nothing waits: a message that is not a Blob may then be sent at once. */
  get empty(): boolean {
    return this.items.length === 0;
  }

  /** Queues a message of `size` payload bytes, and starts reading if a Blob is first in line. */
  push(data: QueuedData, size: number): void {
    this.items.push(data);
    this.sizes.push(size);
    this.bytes += size;
    if (!this.reading) this.pump();
  }

  /** Drops every waiting message (the connection closed); what was dropped stays counted in `bytes`. */
  clear(): void {
    this.items = [];
    this.sizes = [];
  }

  /** Sends what is ready, up to the first Blob, then reads that Blob and continues once it is read. */
  private pump(): void {
    const items = this.items;
    while (items.length > 0) {
      const head = items[0]!;
      if (head instanceof Blob) {
        this.read(head);
        return;
      }
      items.shift();
      this.bytes -= this.sizes.shift()!;
      this.sink.sendQueued(head);
    }
    this.sink.queueEmptied();
  }

  private read(blob: Blob): void {
    this.reading = true;
    const items = this.items;
    blob.arrayBuffer().then(
      (buffer) => {
        this.reading = false;
        // Cleared meanwhile: the connection is gone.
        if (this.items !== items) return;
        items[0] = new Uint8Array(buffer);
        this.pump();
      },
      (error: unknown) => {
        this.reading = false;
        if (this.items !== items) return;
        this.clear();
        this.sink.queueFailed(error instanceof Error ? error : new Error(String(error)));
      },
    );
  }
}
