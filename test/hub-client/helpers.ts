/**
 * Helpers of the hub client tests: clients wired to Conduit's WebSocket (Node 20 has no global one),
 * closed after each test, and bounded waits on their events.
 */
import { WebSocket } from '../../src/client/index.js';
import { HubClient, type HubClientEvents, type HubClientOptions } from '../../src/hub-client/index.js';
import { withTimeout } from '../server/helpers.js';

export { withTimeout };

/** Clients made by {@link makeClient}, closed by {@link closeClients}. */
const clients = new Set<HubClient>();

/** A HubClient using Conduit's WebSocket and short reconnect delays. */
export function makeClient(url: string, options: HubClientOptions = {}): HubClient {
  const client = new HubClient(url, {
    WebSocket,
    ...options,
    reconnect: { initialDelayMs: 10, maxDelayMs: 50, ...options.reconnect },
  });
  clients.add(client);
  return client;
}

/** Closes every client made by {@link makeClient} (call in afterEach/after). */
export function closeClients(): void {
  for (const client of clients) client.close();
  clients.clear();
}

/** The next `event` of `client` (that satisfies `accept`), bounded in time. */
export function nextEvent<K extends keyof HubClientEvents>(
  client: HubClient,
  event: K,
  ms = 5000,
  accept: (payload: HubClientEvents[K]) => boolean = () => true,
): Promise<HubClientEvents[K]> {
  let stop = (): void => {};
  const fired = new Promise<HubClientEvents[K]>((resolve) => {
    const listener = (payload: HubClientEvents[K]): void => {
      if (!accept(payload)) return;
      stop();
      resolve(payload);
    };
    client.on(event, listener);
    stop = () => client.off(event, listener);
  });
  return withTimeout(fired, ms, `hub client event '${String(event)}'`).finally(stop);
}

/** `promise` (a client call), bounded in time. */
export function within<T>(promise: Promise<T>, what = 'a hub client call', ms = 5000): Promise<T> {
  return withTimeout(promise, ms, what);
}

/** Connects and waits for `connected`. */
export async function connected(client: HubClient, ms = 5000): Promise<HubClientEvents['connected']> {
  const event = nextEvent(client, 'connected', ms);
  client.connect();
  return event;
}

/** Polls `check` until it returns true, at most `ms`. */
export async function eventually(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** A promise with its resolve function (collect messages until a count is reached). */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
