/**
 * Conduit's transport layer: runs protocol connections over Node sockets with batched writes, flow
 * control and one process-wide timer wheel.
 * @module
 */

export type { TransportErrorCode } from './errors.js';
export { TransportError } from './errors.js';
export { type HeapTuning, tuneHeapForLargeMessages } from './native-heap.js';
export { loadNativeMask } from './native-mask.js';
export { nativeRelayAvailable } from './native-relay.js';
export { installNodeAccelerators } from './node-accelerators.js';
export type { BackpressurePolicy, TransportConfig, TransportOptions } from './options.js';
export { resolveTransportOptions } from './options.js';
export type { HandshakeSink } from './pending-handshake.js';
export { ignoreSocketError, PendingHandshake } from './pending-handshake.js';
export { REJECT_LINGER_MS, rejectSocket } from './reject.js';
export type { SendCallback } from './send-callbacks.js';
export type { TransportSink } from './socket-transport.js';
export { asBuffer, SocketTransport } from './socket-transport.js';
export type { TimerWheelOptions, WheelEntry } from './timer-wheel.js';
export { initWheelEntry, sharedTimerWheel, TimerWheel, UNSCHEDULED } from './timer-wheel.js';
export type { CoalesceTarget, TickBatchTarget } from './write-batcher.js';
export { flushNow, holdForTick, writeCoalesced } from './write-batcher.js';
