/**
 * The back-pointer from a socket to the object that currently handles its events (the pending handshake,
 * then the transport). Listeners are functions shared by every socket (EventEmitter calls them with
 * `this` = the socket) that follow this pointer, so a connection costs no closures; one symbol for both
 * owners keeps the socket at a single extra property.
 * @module
 */
import type { Socket } from 'node:net';

/** The property that holds a socket's owner. */
export const kSocketOwner = Symbol('conduit.socketOwner');

/** A socket with its owner attached. */
export type OwnedSocket<T> = Socket & { [kSocketOwner]: T };

/** Attaches `owner` to `socket` (replacing any previous owner) and returns the socket, typed. */
export function setSocketOwner<T>(socket: Socket, owner: T): OwnedSocket<T> {
  const owned = socket as OwnedSocket<T>;
  owned[kSocketOwner] = owner;
  return owned;
}
