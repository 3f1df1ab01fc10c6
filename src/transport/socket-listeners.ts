/**
 * Socket listeners shared by every connection. EventEmitter calls them with `this` = the socket, so a
 * connection costs no closures; the socket points back to its transport (socket-owner.ts).
 * @module
 */
import type { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { receiveBatched } from './receive-batch.js';
import { kSocketOwner, type OwnedSocket, setSocketOwner } from './socket-owner.js';
import type { SocketTransport } from './socket-transport.js';

type TransportSocket = OwnedSocket<SocketTransport>;

function onSocketData(this: TransportSocket, chunk: Buffer): void {
  const transport = this[kSocketOwner];
  transport.metrics?.bytesReceived.inc(chunk.length);
  receiveBatched(transport, chunk);
}

function onSocketEnd(this: TransportSocket): void {
  this[kSocketOwner].socketEnded();
}

function onSocketClose(this: TransportSocket): void {
  this[kSocketOwner].socketClosed();
}

/** ECONNRESET, EPIPE, TLS errors: 'close' follows and reports 1006; nothing else to do. */
function onSocketError(): void {}

/** Makes `transport` the owner of `socket` and attaches the shared listeners. */
export function listen(socket: Socket, transport: SocketTransport): void {
  setSocketOwner(socket, transport);
  socket.on('data', onSocketData);
  // Without half-open support Node ends the socket itself once the peer's FIN arrives, flushing what is
  // corked first; a listener of our own would only cost every connection an array of two listeners.
  if (socket.allowHalfOpen) socket.on('end', onSocketEnd);
  socket.on('close', onSocketClose);
  // The handshake layer may have installed an error listener already; one is enough.
  if (socket.listenerCount('error') === 0) socket.on('error', onSocketError);
}
