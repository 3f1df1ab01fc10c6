/**
 * Options of a {@link HubClient} and their resolution into the settings the client runs with.
 * @module
 */
import { type ReconnectConfig, type ReconnectOptions, resolveReconnect } from './backoff.js';
import { randomKey } from './ids.js';
import { SUBPROTOCOL } from './wire.js';

/** The event of a socket's `message` listener, as far as the client reads it. */
export interface SocketMessageEvent {
  data: unknown;
}

/** The event of a socket's `close` listener, as far as the client reads it. */
export interface SocketCloseEvent {
  code: number;
  reason: string;
}

/**
 * The part of the WHATWG `WebSocket` the client uses: the browser's, Node 22's global one, and
 * Conduit's `WebSocket` (`conduit/client`) all fit.
 */
export interface HubSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /**
   * `open`, `message` (read as a {@link SocketMessageEvent}), `error`, `close` (read as a
   * {@link SocketCloseEvent}): the standard events, typed as plain `Event` so that every implementation fits.
   */
  addEventListener(type: 'open' | 'message' | 'error' | 'close', listener: (event: Event) => void): void;
}

/** A WebSocket constructor (`new WebSocket(url, protocols)`). */
export type HubSocketConstructor = new (url: string, protocols?: string | string[]) => HubSocket;

/** Where the token goes: the first message (`{"type":"auth"}`) or the `token` query parameter. */
export type TokenPlacement = 'message' | 'query';

/** A token, or a function that returns one (called before every connection attempt, so it may refresh). */
export type TokenSource = string | (() => string | Promise<string>);

/** Options of a {@link HubClient}; every one is optional. */
export interface HubClientOptions {
  /** The WebSocket constructor. Default `globalThis.WebSocket` (Node 20 has none: pass Conduit's). */
  WebSocket?: HubSocketConstructor;
  /** A JWT for the hub, or a function returning one; none by default (anonymous). */
  token?: TokenSource;
  /**
   * How the token is sent. Default 'message': a failed authentication then closes with 1008, which the
   * client can see and stop on. With 'query' the hub refuses a bad token with 401 before the upgrade,
   * which a WebSocket reports only as a failed connection (so the client keeps retrying).
   */
  tokenIn?: TokenPlacement;
  /**
   * The `session` query parameter: a key shared by every connection of this client, so that the hub
   * recognises a publish retried after a reconnect even for an anonymous client. Default: a random key
   * (22 characters) per client; a `session` parameter already in the URL is kept; `false` sends none.
   */
  sessionKey?: string | false;
  /** Subprotocols offered. Default `['conduit.v1']`; `[]` offers none (the hub serves the same protocol). */
  protocols?: string[];
  /** Reconnect policy (jittered exponential backoff). */
  reconnect?: ReconnectOptions;
  /** Publishes kept while not connected; one more is rejected with `queue_full`. Default 1000. */
  offlineQueueLimit?: number;
  /**
   * How long a sent publish with `ack` waits for its ack, and how long a presence request waits for
   * its answer (from the call), in ms. Default 10 000.
   */
  ackTimeoutMs?: number;
  /** Time for the socket to open and the hub to say `connected`, in ms. Default 10 000. */
  connectTimeoutMs?: number;
  /** Random numbers in [0, 1) for the reconnect jitter. Default Math.random (tests inject their own). */
  random?: () => number;
}

/** Resolved settings of a client. */
export interface HubClientConfig {
  readonly WebSocket: HubSocketConstructor;
  readonly token: TokenSource | undefined;
  readonly tokenIn: TokenPlacement;
  readonly protocols: readonly string[];
  readonly sessionKey: string | null;
  readonly reconnect: ReconnectConfig;
  readonly offlineQueueLimit: number;
  readonly ackTimeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly random: () => number;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}`);
  return value;
}

function socketConstructor(given: HubSocketConstructor | undefined): HubSocketConstructor {
  const found = given ?? (globalThis as { WebSocket?: HubSocketConstructor }).WebSocket;
  if (typeof found !== 'function') {
    throw new TypeError('no WebSocket constructor: pass options.WebSocket (Node 20 has no global one)');
  }
  return found;
}

const SESSION_KEY = /^[\w-]{16,64}$/;

function sessionKey(key: string | false | undefined): string | null {
  if (key === false) return null;
  if (key === undefined) return randomKey(22);
  if (typeof key !== 'string' || !SESSION_KEY.test(key)) {
    throw new TypeError('sessionKey must be 16–64 characters of A–Z a–z 0–9 _ - (or false)');
  }
  return key;
}

function tokenSource(token: TokenSource | undefined): TokenSource | undefined {
  if (token !== undefined && typeof token !== 'string' && typeof token !== 'function') {
    throw new TypeError('token must be a string or a function');
  }
  return token;
}

/** Validates the options and fills in defaults; throws a TypeError or RangeError for invalid ones. */
export function resolveHubClientOptions(options: HubClientOptions): HubClientConfig {
  const tokenIn = options.tokenIn ?? 'message';
  if (tokenIn !== 'message' && tokenIn !== 'query')
    throw new TypeError("tokenIn must be 'message' or 'query'");
  return {
    WebSocket: socketConstructor(options.WebSocket),
    token: tokenSource(options.token),
    tokenIn,
    protocols: [...(options.protocols ?? [SUBPROTOCOL])],
    sessionKey: sessionKey(options.sessionKey),
    reconnect: resolveReconnect(options.reconnect),
    offlineQueueLimit: positiveInteger('offlineQueueLimit', options.offlineQueueLimit, 1000, 0),
    ackTimeoutMs: positiveInteger('ackTimeoutMs', options.ackTimeoutMs, 10_000),
    connectTimeoutMs: positiveInteger('connectTimeoutMs', options.connectTimeoutMs, 10_000),
    random: options.random ?? Math.random,
  };
}
