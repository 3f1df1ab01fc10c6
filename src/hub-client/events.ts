/**
 * The types of a `HubClient`'s state, events and publish options.
 * @module
 */
import type { HubError } from './errors.js';

/**
 * - `disconnected`: not connected, a reconnect may be scheduled (also the state before `connect()`);
 * - `connecting`: a socket is opening, or waiting for the hub's `connected`;
 * - `connected`: the session is ready;
 * - `closed`: `close()` was called, or the client gave up (1008, `maxRetries`); `connect()` starts again.
 */
export type HubClientState = 'connecting' | 'connected' | 'disconnected' | 'closed';

/** Events of a `HubClient` and their payloads. */
export interface HubClientEvents {
  /** Every state change. */
  state: { state: HubClientState; previous: HubClientState };
  /** The hub said `connected`: `client` is this connection's id, `user` the user id ('' if anonymous). */
  connected: { client: string; user: string };
  /** A connected session ended. */
  disconnected: { code: number; reason: string; willReconnect: boolean };
  /** A reconnect attempt is scheduled: `attempt` counts failures in a row (1 for the first retry). */
  reconnecting: { attempt: number; delayMs: number };
  /**
   * Something went wrong that no request or subscription was waiting for: an `error` from the hub, an
   * invalid message, a failed attempt; and why the client gave up (state `closed`).
   */
  error: HubError;
}

/** Options of `HubClient.publish`. */
export interface PublishOptions {
  /** Ask the hub for an `ack` (the promise resolves with the position); retried with the same id. */
  ack?: boolean;
  /**
   * Your own publish id (a string of 1–128 characters or a number); implies `ack`. Use it to retry a
   * publish yourself (after `ack_timeout`, or from a reloaded page) without creating a duplicate: the
   * HubError of a failed publish carries the id the client generated.
   */
  id?: string | number;
  /** False: the hub does not deliver this publication back to this connection. Default true. */
  echo?: boolean;
}

/** Publishes in flight, see `HubClient.pendingPublishes`. */
export interface PendingPublishes {
  /** Waiting for a connection (the offline queue). */
  queued: number;
  /** Sent, waiting for their ack. */
  unacked: number;
}
