/**
 * Write batching for replies: frames a connection writes while it parses a received chunk (echoes,
 * pongs, close replies, application sends from its message handlers) are held until the chunk is parsed
 * and then leave as one buffer: the frame itself when there is one (a plain `socket.write`, no cork), one
 * pooled copy of them all when they are small, one corked `writev` otherwise (e.g. the header and the
 * untouched payload of a large message). A batch is written out early once it reaches the high water mark. Parsing is synchronous, so
 * one batch for the whole process suffices; a connection that starts parsing while another one's batch is
 * open (a handler resuming a paused peer) flushes that batch first, keeping every socket's order.
 * @module
 */
import type { Socket } from 'node:net';
import { concatFrames, POOLED_MAX } from './frame-pool.js';

/** A connection whose writes can be batched. */
export interface BatchTarget {
  readonly socket: Socket;
  /** Hands one buffer to the socket (its flow-control bookkeeping included). */
  writeOut(data: Uint8Array): void;
  /** Called once the batch was handed to the socket: time to judge backpressure. */
  checkBackpressure(): void;
  /** Parses one received chunk (its writes go through {@link addToBatch} while the batch is open). */
  parseChunk(chunk: Uint8Array): void;
}

let owner: BatchTarget | null = null;
const parts: Uint8Array[] = [];
let bytes = 0;

/** The connection whose chunk is being parsed, or null. */
export function batchOwner(): BatchTarget | null {
  return owner;
}

/** Bytes held in the batch of `target` (0 when it owns none). */
export function batchedBytes(target: BatchTarget): number {
  return owner === target ? bytes : 0;
}

/** Adds a frame to the open batch (the caller checked that it owns it). */
export function addToBatch(data: Uint8Array): void {
  parts.push(data);
  bytes += data.byteLength;
}

/** Writes out and empties the open batch, if any. */
export function flushBatch(): void {
  const target = owner;
  if (target === null || bytes === 0) return;
  const count = parts.length;
  if (count === 1) {
    target.writeOut(parts[0]!);
  } else if (bytes <= POOLED_MAX) {
    target.writeOut(concatFrames(parts, bytes));
  } else {
    target.socket.cork();
    for (let i = 0; i < count; i++) target.writeOut(parts[i]!);
    target.socket.uncork();
  }
  parts.length = 0;
  bytes = 0;
  // After the uncork: what the kernel did not take is what counts (not all of it, as under the cork).
  target.checkBackpressure();
}

/**
 * Parses `chunk` with `target.parseChunk` inside a batch owned by `target`, then writes the batch out,
 * also when parsing throws.
 */
export function receiveBatched(target: BatchTarget, chunk: Uint8Array): void {
  const outer = owner;
  flushBatch();
  owner = target;
  try {
    target.parseChunk(chunk);
  } finally {
    flushBatch();
    owner = outer;
  }
}
