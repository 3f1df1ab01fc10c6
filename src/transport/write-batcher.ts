/**
 * Write batching: every frame written to a socket during one tick of the event loop leaves in a single
 * `writev` system call. The first write of a tick corks the socket and queues it here; one
 * `process.nextTick` callback per tick, shared by all sockets, uncorks them all.
 * @module
 */
import type { Writable } from 'node:stream';

/** A writer that can be corked for the rest of the current tick. */
export interface Corkable {
  /** True while the socket is corked by the batcher; owned by the batcher. */
  corked: boolean;
  readonly socket: Writable;
}

const pending: Corkable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // Uncorking may run user callbacks that write again: those re-cork and join a later flush.
  const count = pending.length;
  for (let i = 0; i < count; i++) {
    const target = pending[i]!;
    target.corked = false;
    target.socket.uncork();
  }
  pending.splice(0, count);
}

/**
 * Corks `target.socket` until the end of the current tick, unless it already is. Call before each write;
 * the cost after the first write of a tick is one property read.
 */
export function corkForTick(target: Corkable): void {
  if (target.corked) return;
  target.corked = true;
  target.socket.cork();
  pending.push(target);
  if (!scheduled) {
    scheduled = true;
    process.nextTick(flushAll);
  }
}

/** Uncorks `target` now (before it is ended or destroyed), so that its queued frames go out first. */
export function flushNow(target: Corkable): void {
  if (!target.corked) return;
  target.corked = false;
  // It stays in the pending list: the later uncork there is a no-op on a stream that is not corked.
  target.socket.uncork();
}
