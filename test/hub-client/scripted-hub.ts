/**
 * A small hub written for these tests on Conduit's WebSocketServer: it speaks the `conduit.v1`
 * protocol (docs/hub-protocol.md) — auth, subscribe with resume and credit, patterns, publish with
 * idempotent ids and acks, presence with join/leave — over real sockets, with knobs the tests need
 * (hold acks, refuse topics, stay silent, cut connections, restart on the same port).
 */
import type { Server as HttpServer } from 'node:http';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { WebSocketServer } from '../../src/server/server.js';
import type { UpgradeRequest } from '../../src/server/upgrade-request.js';
import { waitFor } from '../server/helpers.js';

type Json = Record<string, unknown>;

interface Stored {
  offset: number;
  data: unknown;
}

interface Stream {
  epoch: string;
  offset: number;
  history: Stored[];
}

interface Sub {
  credit: number | null;
  /** Messages held back for lack of credit. */
  backlog: Json[];
}

interface Peer {
  id: string;
  user: string;
  authed: boolean;
  subs: Map<string, Sub>;
}

/** Options of {@link ScriptedHub.start}. */
export interface ScriptedHubOptions {
  /** Require this token (first message or `token` query parameter); none: anonymous. */
  token?: string;
  /** Publications kept per topic. Default 100. */
  historySize?: number;
  /** Listen on this port (restart on the same port); default a free one. */
  port?: number;
  /** Attach to this http.Server instead of listening (browser tests). */
  server?: HttpServer;
  path?: string;
  /** Streams shared with a previous instance (a restart that keeps the engine's history). */
  streams?: Map<string, Stream>;
}

function matches(pattern: string, topic: string): boolean {
  const p = pattern.split('.');
  const t = topic.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return i === p.length - 1 && t.length > i;
    if (i >= t.length || (p[i] !== '*' && p[i] !== t[i])) return false;
  }
  return p.length === t.length;
}

export class ScriptedHub {
  readonly server: WebSocketServer;
  readonly streams: Map<string, Stream>;
  readonly peers = new Map<WebSocketConnection, Peer>();
  /** Every message received from clients, in order, with the client id. */
  readonly received: Array<{ client: string; message: Json }> = [];
  /** Upgrade requests seen (their URLs). */
  readonly upgrades: string[] = [];
  /** Publishes kept (ids seen) for idempotency. */
  readonly ids = new Map<string, { offset: number; epoch: string }>();
  /** When true, publishes with an id are stored but not acknowledged. */
  holdAcks = false;
  /** Publishes with an id answered `unavailable` (nothing stored) before the hub accepts them again. */
  unavailable = 0;
  /** When true, the hub never sends `connected` (a connect timeout test). */
  silent = false;
  /** Topics whose subscribe or publish is refused with `forbidden`. */
  readonly forbidden = new Set<string>();
  /** Called after a subscription was confirmed (and its recovered messages sent). */
  afterSubscribe: ((topic: string) => void) | undefined;
  #seq = 0;

  private constructor(
    readonly options: ScriptedHubOptions,
    server: WebSocketServer,
  ) {
    this.server = server;
    this.streams = options.streams ?? new Map();
    server.on('connection', (connection: WebSocketConnection, request: UpgradeRequest) =>
      this.#accept(connection, request),
    );
  }

  /** Starts a hub on 127.0.0.1 (or on `options.server`). */
  static async start(options: ScriptedHubOptions = {}): Promise<ScriptedHub> {
    const server = new WebSocketServer({
      ...(options.server === undefined
        ? { host: '127.0.0.1', port: options.port ?? 0 }
        : { server: options.server, path: options.path }),
      handleProtocols: (protocols) => (protocols.has('conduit.v1') ? 'conduit.v1' : false),
    });
    const hub = new ScriptedHub(options, server);
    if (options.server === undefined) await waitFor(server, 'listening');
    return hub;
  }

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    return address.port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}${this.options.path ?? ''}`;
  }

  /** Client messages of one type, in order. */
  sent(type: string): Json[] {
    return this.received.filter((r) => r.message.type === type).map((r) => r.message);
  }

  stream(topic: string): Stream {
    let stream = this.streams.get(topic);
    if (stream === undefined) {
      stream = { epoch: `e${Math.random().toString(36).slice(2, 8)}`, offset: 0, history: [] };
      this.streams.set(topic, stream);
    }
    return stream;
  }

  /** Publishes from the server side (as the engine would); returns the position. */
  publish(topic: string, data: unknown): { offset: number; epoch: string } {
    const stream = this.stream(topic);
    stream.offset++;
    stream.history.push({ offset: stream.offset, data });
    if (stream.history.length > (this.options.historySize ?? 100)) stream.history.shift();
    for (const [connection, peer] of this.peers) {
      for (const [key, sub] of peer.subs) {
        if (key !== topic && !matches(key, topic)) continue;
        const message: Json = { type: 'message', topic, data, offset: stream.offset, epoch: stream.epoch };
        if (key !== topic) message.pattern = key;
        this.#deliver(connection, sub, message);
      }
    }
    return { offset: stream.offset, epoch: stream.epoch };
  }

  /** Cuts every connection without a closing handshake (the client sees 1006). */
  terminateAll(): void {
    for (const connection of this.peers.keys()) connection.terminate();
  }

  /** Stops the hub; bounded. */
  stop(): Promise<void> {
    this.terminateAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  #send(connection: WebSocketConnection, message: Json) {
    connection.send(JSON.stringify(message));
  }

  #deliver(connection: WebSocketConnection, sub: Sub, message: Json) {
    if (sub.credit === null) return this.#send(connection, message);
    if (sub.credit === 0) {
      sub.backlog.push(message);
      return;
    }
    sub.credit--;
    this.#send(connection, message);
  }

  #accept(connection: WebSocketConnection, request: UpgradeRequest) {
    this.upgrades.push(request.url);
    const peer: Peer = {
      id: `c${++this.#seq}`,
      user: '',
      authed: this.options.token === undefined,
      subs: new Map(),
    };
    this.peers.set(connection, peer);
    connection.on('close', () => this.#left(connection, peer));
    connection.on('error', () => {});
    const query = new URL(request.url, 'http://x').searchParams.get('token');
    if (query !== null) {
      if (query !== this.options.token) return connection.close(1008, 'bad token');
      peer.authed = true;
    }
    connection.on('message', (data: Buffer, binary: boolean) => {
      if (binary) return this.#error(connection, 'bad_request', 'binary');
      const message = JSON.parse(data.toString()) as Json;
      this.received.push({ client: peer.id, message });
      this.#handle(connection, peer, message);
    });
    if (peer.authed) this.#connected(connection, peer);
  }

  #connected(connection: WebSocketConnection, peer: Peer) {
    if (!this.silent) this.#send(connection, { type: 'connected', client: peer.id, user: peer.user });
  }

  #error(connection: WebSocketConnection, code: string, text: string, extra: Json = {}) {
    this.#send(connection, { type: 'error', code, message: text, ...extra });
  }

  #handle(connection: WebSocketConnection, peer: Peer, message: Json) {
    if (!peer.authed) {
      if (message.type === 'auth' && message.token === this.options.token) {
        peer.authed = true;
        peer.user = 'alice';
        return this.#connected(connection, peer);
      }
      this.#error(connection, 'unauthorized', 'bad token');
      return connection.close(1008, 'unauthorized');
    }
    const topic = message.topic as string;
    switch (message.type) {
      case 'subscribe':
        return this.#subscribe(connection, peer, message);
      case 'unsubscribe':
        if (!peer.subs.delete(topic)) return this.#error(connection, 'not_subscribed', 'no', { topic });
        this.#send(connection, { type: 'unsubscribed', topic });
        return this.#presenceEvent(connection, peer, topic, 'leave');
      case 'publish':
        return this.#publish(connection, message);
      case 'presence':
        return this.#presence(connection, topic);
      case 'credit':
        return this.#credit(connection, peer, topic, message.credit as number);
      default:
        this.#error(connection, 'unknown_type', String(message.type));
    }
  }

  #subscribe(connection: WebSocketConnection, peer: Peer, message: Json) {
    const topic = message.topic as string;
    if (this.forbidden.has(topic)) return this.#error(connection, 'forbidden', 'not allowed', { topic });
    if (peer.subs.has(topic)) return this.#error(connection, 'already_subscribed', 'twice', { topic });
    const sub: Sub = { credit: (message.credit as number | undefined) ?? null, backlog: [] };
    peer.subs.set(topic, sub);
    const stream = this.stream(topic);
    const since = message.since as { offset: number; epoch: string } | undefined;
    const oldest = stream.history[0]?.offset ?? stream.offset + 1;
    const recovered =
      since !== undefined &&
      since.epoch === stream.epoch &&
      since.offset <= stream.offset &&
      oldest <= since.offset + 1;
    const { offset, epoch } = stream;
    this.#send(connection, { type: 'subscribed', topic, offset, epoch, recovered });
    if (recovered) {
      for (const stored of stream.history) {
        if (stored.offset <= since.offset) continue;
        this.#deliver(connection, sub, {
          type: 'message',
          topic,
          data: stored.data,
          offset: stored.offset,
          epoch,
        });
      }
    }
    this.#presenceEvent(connection, peer, topic, 'join');
    this.afterSubscribe?.(topic);
  }

  #publish(connection: WebSocketConnection, message: Json) {
    const topic = message.topic as string;
    const id = message.id as string | undefined;
    if (this.forbidden.has(topic)) return this.#error(connection, 'forbidden', 'not allowed', { topic, id });
    if (id !== undefined && this.unavailable > 0) {
      this.unavailable--;
      return this.#error(connection, 'unavailable', 'engine down', { topic, id });
    }
    let position = id === undefined ? undefined : this.ids.get(id);
    if (position === undefined) {
      position = this.publish(topic, message.data);
      if (id !== undefined) this.ids.set(id, position);
    }
    if (id !== undefined && !this.holdAcks) this.#send(connection, { type: 'ack', id, ...position });
  }

  #presence(connection: WebSocketConnection, topic: string) {
    if (this.forbidden.has(topic)) return this.#error(connection, 'forbidden', 'not allowed', { topic });
    const clients = [...this.peers.values()]
      .filter((p) => p.subs.has(topic))
      .map((p) => ({ client: p.id, user: p.user, info: null }));
    this.#send(connection, { type: 'presence', topic, clients });
  }

  #credit(connection: WebSocketConnection, peer: Peer, topic: string, credit: number) {
    const sub = peer.subs.get(topic);
    if (sub === undefined || sub.credit === null)
      return this.#error(connection, 'not_subscribed', 'no', { topic });
    sub.credit += credit;
    while (sub.credit > 0 && sub.backlog.length > 0) {
      sub.credit--;
      this.#send(connection, sub.backlog.shift()!);
    }
  }

  #presenceEvent(connection: WebSocketConnection, peer: Peer, topic: string, type: 'join' | 'leave') {
    for (const [other, otherPeer] of this.peers) {
      if (other === connection || !otherPeer.subs.has(topic)) continue;
      const event: Json = { type, topic, client: peer.id, user: peer.user };
      if (type === 'join') event.info = null;
      this.#send(other, event);
    }
  }

  #left(connection: WebSocketConnection, peer: Peer) {
    this.peers.delete(connection);
    for (const topic of peer.subs.keys()) this.#presenceEvent(connection, peer, topic, 'leave');
  }
}
