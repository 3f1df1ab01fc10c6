/** The chat example: the Hub with presence and history on `chat.>`, used through the hub client SDK. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ChatServer, start } from '../../examples/chat.js';
import { WebSocket } from '../../src/client/index.js';
import { HubClient } from '../../src/hub-client/index.js';
import { withTimeout } from '../server/helpers.js';

/** A promise settled by `register`'s callback, bounded in time. */
function until<T>(register: (resolve: (value: T) => void) => void, what: string): Promise<T> {
  return withTimeout(new Promise<T>((resolve) => register(resolve)), 5000, what);
}

describe('examples/chat', () => {
  it('two clients see each other in presence and talk in a room; an oversized message is refused', async () => {
    const app: ChatServer = await withTimeout(start(0), 5000, 'chat start');
    const clients: HubClient[] = [];
    const open = (): HubClient => {
      const client = new HubClient(app.url, {
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      });
      clients.push(client);
      client.connect();
      return client;
    };
    try {
      const ann = open();
      const bob = open();
      const annHears: unknown[] = [];
      const annSubscribed = until<void>((resolve) => {
        ann.subscribe('chat.lobby', {
          onMessage: (data) => annHears.push(data),
          onSubscribed: () => resolve(),
        });
      }, 'ann subscribed');
      await annSubscribed;
      const joined = until<string>((resolve) => {
        bob.subscribe('chat.lobby', {});
        const timer = setInterval(async () => {
          const present = await ann.presence('chat.lobby').catch(() => []);
          if (present.length === 2) {
            clearInterval(timer);
            resolve('both');
          }
        }, 20);
      }, 'both present');
      await joined;
      await bob.publish('chat.lobby', { from: 'bob', text: 'hello' }, { ack: true });
      await withTimeout(
        (async () => {
          while (annHears.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        })(),
        5000,
        'ann hears bob',
      );
      assert.deepEqual(annHears, [{ from: 'bob', text: 'hello' }]);

      const tooBig = bob.publish('chat.lobby', { text: 'x'.repeat(5000) }, { ack: true });
      await assert.rejects(tooBig, (error: { code?: string }) => error.code === 'limit_exceeded');
    } finally {
      for (const client of clients) client.close();
      await withTimeout(app.close(), 5000, 'chat close');
    }
  });
});
