/**
 * Answers a refused opening handshake with an HTTP error response and closes the socket gracefully:
 * half-close after the response, discard whatever the client still sends (so that unread bytes do not
 * turn our close into a reset that could swallow the response), destroy when the client closes or after
 * a short linger time on the shared timer wheel.
 * @module
 */
import type { Socket } from 'node:net';
import { ignoreSocketError } from './pending-handshake.js';
import { sharedTimerWheel, type TimerWheel, UNSCHEDULED, type WheelEntry } from './timer-wheel.js';

/** How long a rejected socket may stay open waiting for the client to close it, in ms. */
export const REJECT_LINGER_MS = 2000;

class Linger implements WheelEntry {
  wheelNext: WheelEntry | null = null;
  wheelPrev: WheelEntry | null = null;
  wheelSlot = UNSCHEDULED;
  wheelRounds = 0;
  private readonly socket: Socket;
  private readonly wheel: TimerWheel;

  constructor(socket: Socket, wheel: TimerWheel) {
    this.socket = socket;
    this.wheel = wheel;
  }

  onTimeout(): void {
    this.socket.destroy();
  }

  readonly onEnd = (): void => {
    this.socket.destroy();
  };

  readonly onClose = (): void => {
    this.wheel.cancel(this);
  };
}

/**
 * Writes `response` (a complete HTTP response head and body, UTF-8) to `socket` and closes it. Safe to
 * call on a socket that is already closing or destroyed.
 */
export function rejectSocket(socket: Socket, response: string, wheel: TimerWheel = sharedTimerWheel()): void {
  if (socket.listenerCount('error') === 0) socket.on('error', ignoreSocketError);
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const linger = new Linger(socket, wheel);
  socket.once('close', linger.onClose);
  socket.once('end', linger.onEnd);
  wheel.schedule(linger, REJECT_LINGER_MS);
  socket.end(response, 'utf8');
  socket.resume();
}
