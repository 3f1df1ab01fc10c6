/**
 * Write batching across a tick: frames written to a connection outside its own receive batch (a proxy
 * forwarding from another socket, a hub fanning a publication out, timers, application code) are held
 * until the end of the current tick of the event loop, then leave together as one buffer (see
 * {@link writeCoalesced}). One `process.nextTick` callback per tick, shared by all connections, flushes
 * them all. Holding the frames ourselves, rather than corking the socket and writing each, spares the
 * stream layer one `write` call per frame, which costs more than copying a small frame.
 * @module
 */
import type { Writable } from 'node:stream';
import { concatFrames, POOLED_MAX } from './frame-pool.js';

/** A connection whose frames can be held for the rest of the tick. */
export interface TickBatchTarget {
  readonly socket: Writable;
  /** Frames held for this tick's flush, in order; owned by the batcher (null until first used). */
  held: Uint8Array[] | null;
  /** Bytes in {@link held}; owned by the batcher. */
  heldBytes: number;
  /** Hands one buffer to the socket (its flow-control bookkeeping included). */
  writeOut(data: Uint8Array): void;
  /** Called once held frames were handed to the socket: time to judge backpressure. */
  checkBackpressure(): void;
}

/** A connection that {@link writeCoalesced} can write to. */
export interface CoalesceTarget {
  readonly socket: Writable;
  writeOut(data: Uint8Array): void;
}

const pending: TickBatchTarget[] = [];
let scheduled = false;

/**
 * Writes `parts` (`bytes` in all) to `target` in as few stream writes as makes sense: the frame itself
 * when there is one, one pooled copy of them all when they are small, one corked `writev` otherwise (e.g.
 * the header and the untouched payload of a large message).
 */
export function writeCoalesced(target: CoalesceTarget, parts: readonly Uint8Array[], bytes: number): void {
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
}

function flushAll(): void {
  scheduled = false;
  // Flushing may run user callbacks that write again: those are held anew and join a later flush.
  const count = pending.length;
  for (let i = 0; i < count; i++) flushNow(pending[i]!);
  pending.splice(0, count);
}

/** Holds `data` for `target` until the end of the current tick (or an earlier {@link flushNow}). */
export function holdForTick(target: TickBatchTarget, data: Uint8Array): void {
  let held = target.held;
  if (held === null) {
    held = [];
    target.held = held;
  }
  if (held.length === 0) {
    pending.push(target);
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flushAll);
    }
  }
  held.push(data);
  target.heldBytes += data.byteLength;
}

/**
 * Writes what `target` holds now (before its own replies, before it is ended, or when the held bytes
 * reach its high water mark). It may stay in the pending list: flushing it again there does nothing.
 */
export function flushNow(target: TickBatchTarget): void {
  const held = target.held;
  if (held === null || held.length === 0) return;
  const bytes = target.heldBytes;
  target.heldBytes = 0;
  const socket = target.socket;
  // A socket that ended or broke meanwhile cannot take them; its 'close' fails what waited on them.
  if (!socket.writableEnded && !socket.destroyed) writeCoalesced(target, held, bytes);
  held.length = 0;
  target.checkBackpressure();
}
