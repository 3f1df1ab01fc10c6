/**
 * The checks every HTTP-framework integration example must pass: its own route over plain HTTP and a
 * Conduit WebSocket on the same port, refusal of other upgrade paths, and a graceful close.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { clientClosed, openClient, waitFor, withTimeout } from '../server/helpers.js';

/** What an integration example's `start()` returns. */
export interface RunningApp {
  url: string;
  httpUrl: string;
  close(): Promise<void>;
}

/** Defines the suite for one example: `name` is its file name, `title` the framework's name. */
export function integrationSuite(
  name: string,
  title: string,
  start: (port: number) => Promise<RunningApp>,
): void {
  describe(`examples/${name}`, () => {
    let app: RunningApp;
    before(async () => {
      app = await withTimeout(start(0), 5000, `${name} start`);
    });
    after(async () => {
      await app.close().catch(() => {}); // already closed by the last test when it passed
    });

    it(`serves the ${title} route over plain HTTP on the same port`, async () => {
      assert.match(app.url, /^ws:\/\/127\.0\.0\.1:\d+\/ws$/);
      assert.equal(new URL(app.url).port, new URL(app.httpUrl).port);
      const response = await fetch(`${app.httpUrl}/hello`, { signal: AbortSignal.timeout(5000) });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { hello: 'world', websocket: '/ws' });
      const missing = await fetch(`${app.httpUrl}/nope`, { signal: AbortSignal.timeout(5000) });
      assert.equal(missing.status, 404);
      await missing.arrayBuffer();
    });

    it('echoes text and binary on /ws with their types', async () => {
      const client = await openClient(app.url);
      client.send(`hello ${name}`);
      const [text, textIsBinary] = await waitFor<[Buffer, boolean]>(client, 'message');
      assert.equal(text.toString(), `hello ${name}`);
      assert.equal(textIsBinary, false);
      client.send(Buffer.from([0, 1, 254, 255]));
      const [bytes, bytesIsBinary] = await waitFor<[Buffer, boolean]>(client, 'message');
      assert.deepEqual([...bytes], [0, 1, 254, 255]);
      assert.equal(bytesIsBinary, true);
      const closed = clientClosed(client);
      client.close(1000, 'bye');
      assert.equal((await closed).code, 1000, 'the server answers the close with our code');
    });

    it('refuses a WebSocket upgrade on another path with 404', async () => {
      const client = new WebSocket(app.url.replace(/\/ws$/, '/elsewhere'));
      const [, response] = await waitFor<[unknown, { statusCode: number }]>(client, 'unexpected-response');
      assert.equal(response.statusCode, 404);
      client.on('error', () => {}); // the abort below reports an error
      client.terminate();
    });

    it('close() closes open WebSockets with 1001 and stops the HTTP server', async () => {
      const client = await openClient(app.url);
      const closed = clientClosed(client);
      await withTimeout(app.close(), 5000, 'app.close');
      assert.equal((await closed).code, 1001);
      await assert.rejects(fetch(`${app.httpUrl}/hello`, { signal: AbortSignal.timeout(5000) }));
    });
  });
}
