/**
 * Write batching for replies: frames a connection writes while it parses a received chunk (echoes,
 * pongs, close replies, application sends from its message handlers) are held until the chunk is parsed
 * and then leave together (see `writeCoalesced` in write-batcher.ts). A batch is written out early once
 * it reaches the high water mark. Parsing is synchronous, so
 * one batch for the whole process suffices; a connection that starts parsing while another one's batch is
 * open (a handler resuming a paused peer) flushes that batch first, keeping every socket's order.
 * @module
 */
import { flushNow, type TickBatchTarget, writeCoalesced } from './write-batcher.js';

/** A connection whose writes can be batched. */
export interface BatchTarget extends TickBatchTarget {
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
  writeCoalesced(target, parts, bytes);
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
  // Frames held for this tick were written before the replies to come: they must leave first.
  flushNow(target);
  owner = target;
  try {
    target.parseChunk(chunk);
  } finally {
    flushBatch();
    owner = outer;
  }
}
