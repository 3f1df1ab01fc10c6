import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { WebSocketServer } from '../../src/server/server.js';
import { clientClosed, closeServer, openClient, startServer, waitFor } from './helpers.js';

function nextMessage(client: WebSocket): Promise<[Buffer, boolean]> {
  return waitFor<[Buffer, boolean]>(client, 'message');
}

describe('WebSocketServer echo with the ws client', () => {
  let server: WebSocketServer;
  let url: string;
  const serverCloses: [number, string][] = [];

  before(async () => {
    ({ server, url } = await startServer({ perMessageDeflate: { threshold: 0 } }));
    server.on('connection', (connection: WebSocketConnection) => {
      connection.on('message', (data: Buffer, isBinary: boolean) => {
        const text = isBinary ? '' : data.toString();
        if (text === 'close-me') connection.close(4002, 'server says bye');
        else if (text === 'ping-me') connection.ping('from-server');
        else if (text === 'fragment-me') connection.send('a'.repeat(1000), { fragmentSize: 100 });
        else connection.send(data, { binary: isBinary });
      });
      connection.on('close', (code: number, reason: string) => serverCloses.push([code, reason]));
    });
  });

  after(() => closeServer(server));

  it('echoes text and binary messages with their type', async () => {
    const client = await openClient(`${url}/any/path`);
    client.send('héllo wörld');
    const [text, textIsBinary] = await nextMessage(client);
    assert.equal(text.toString(), 'héllo wörld');
    assert.equal(textIsBinary, false);
    client.send(Buffer.from([0, 1, 2, 255]));
    const [bytes, bytesIsBinary] = await nextMessage(client);
    assert.deepEqual([...bytes], [0, 1, 2, 255]);
    assert.equal(bytesIsBinary, true);
    client.close();
    await clientClosed(client);
  });

  it('echoes a 1 MB message intact', async () => {
    const client = await openClient(url);
    const payload = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    client.send(payload);
    const [echoed, isBinary] = await nextMessage(client);
    assert.equal(isBinary, true);
    assert.ok(echoed.equals(payload));
    client.close();
    await clientClosed(client);
  });

  it('reassembles a fragmented message and sends fragmented ones', async () => {
    const client = await openClient(url);
    client.send('frag', { fin: false });
    client.send('men', { fin: false });
    client.send('ted', { fin: true });
    const [echoed] = await nextMessage(client);
    assert.equal(echoed.toString(), 'fragmented');
    client.send('fragment-me');
    const [long] = await nextMessage(client);
    assert.equal(long.toString(), 'a'.repeat(1000));
    client.close();
    await clientClosed(client);
  });

  it('negotiates permessage-deflate with ws and round-trips compressed messages', async () => {
    const client = await openClient(url, { perMessageDeflate: true });
    assert.match(client.extensions, /permessage-deflate/);
    const text = JSON.stringify({ items: Array.from({ length: 500 }, (_, i) => ({ i, name: `item ${i}` })) });
    client.send(text);
    const [echoed, isBinary] = await nextMessage(client);
    assert.equal(isBinary, false);
    assert.equal(echoed.toString(), text);
    client.close();
    await clientClosed(client);
  });

  it('does not negotiate permessage-deflate with a client that does not offer it', async () => {
    const client = await openClient(url, { perMessageDeflate: false });
    assert.equal(client.extensions, '');
    client.close();
    await clientClosed(client);
  });

  it('answers pings and reports pongs', async () => {
    const client = await openClient(url);
    client.ping('abc');
    const [pong] = await waitFor<[Buffer]>(client, 'pong');
    assert.equal(pong.toString(), 'abc');
    const gotPing = waitFor<[Buffer]>(client, 'ping');
    client.send('ping-me');
    const [ping] = await gotPing;
    assert.equal(ping.toString(), 'from-server');
    client.close();
    await clientClosed(client);
  });

  it('reports the client close code and reason, and closes with the server code and reason', async () => {
    const client = await openClient(url);
    const before = serverCloses.length;
    client.close(4001, 'client says bye');
    assert.deepEqual(await clientClosed(client), { code: 4001, reason: '' });
    await waitUntil(() => serverCloses.length > before);
    assert.deepEqual(serverCloses.at(-1), [4001, 'client says bye']);

    const second = await openClient(url);
    second.send('close-me');
    assert.deepEqual(await clientClosed(second), { code: 4002, reason: 'server says bye' });
  });
});

async function waitUntil(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
