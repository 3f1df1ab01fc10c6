/**
 * Send completion callbacks of one connection, keyed by how many bytes must have been flushed for the
 * message to be out. Allocated on the first send that passes a callback.
 * @module
 */

/** Called once a message was handed to the kernel, or with the error that prevented it. */
export type SendCallback = (error?: Error) => void;

/** A FIFO of (byte offset, callback) pairs, stored flat to avoid an object per entry. */
export class SendCallbacks {
  private readonly entries: (number | SendCallback)[] = [];
  private head = 0;

  /** Number of callbacks waiting. */
  get length(): number {
    return (this.entries.length - this.head) >> 1;
  }

  /** Queues `callback` to run once `offset` bytes in total were flushed. */
  push(offset: number, callback: SendCallback): void {
    this.entries.push(offset, callback);
  }

  /** Runs, in order, every callback whose offset is at most `flushed`. */
  runUpTo(flushed: number): void {
    const entries = this.entries;
    while (this.head < entries.length && (entries[this.head] as number) <= flushed) {
      const callback = entries[this.head + 1] as SendCallback;
      this.head += 2;
      callback();
    }
    this.compact();
  }

  /** Runs every waiting callback with `error`. */
  failAll(error: Error): void {
    const entries = this.entries;
    while (this.head < entries.length) {
      const callback = entries[this.head + 1] as SendCallback;
      this.head += 2;
      callback(error);
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }
}
