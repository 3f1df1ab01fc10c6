/**
 * The messages a connection could not hand to its socket yet (the socket is above its high water mark, or
 * a flow-controlled subscription has no credit). Bounded in bytes by the session; this class only keeps
 * order and counts.
 * @module
 */
import type { PreparedMessage } from '../protocol/prepared-message.js';

/** One queued message. */
export interface QueuedMessage {
  message: PreparedMessage;
  /** Payload bytes, what the queue limit counts. */
  size: number;
}

/** A FIFO of prepared messages with a byte count (array with a head index: no per-shift copying). */
export class Outbox {
  private items: QueuedMessage[] = [];
  private head = 0;
  /** Bytes of the queued messages. */
  bytes = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: QueuedMessage): void {
    this.items.push(item);
    this.bytes += item.size;
  }

  /** The oldest message, removed; undefined when empty. */
  shift(): QueuedMessage | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as unknown as QueuedMessage;
    this.head++;
    this.bytes -= item.size;
    // Compact once the consumed prefix dominates, keeping shift O(1) amortized.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Empties the queue. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }
}
