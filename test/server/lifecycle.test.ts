import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloseCode } from '../../src/protocol/constants.js';
import type { ProtocolError } from '../../src/protocol/errors.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { TransportError } from '../../src/transport/errors.js';
import {
  clientClosed,
  clientFrame,
  closeServer,
  fastWheel,
  openClient,
  rawConnect,
  rawUpgrade,
  startServer,
  waitFor,
} from './helpers.js';

describe('timeouts', () => {
  it('cuts a slowloris handshake at handshakeTimeout', async () => {
    const { server, port } = await startServer({ handshakeTimeout: 200, timerWheel: fastWheel() });
    try {
      const socket = await rawConnect(port);
      socket.on('error', () => {});
      const started = Date.now();
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
      const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 30);
      await waitFor(socket, 'close', 3000);
      clearInterval(drip);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 190 && elapsed < 1500, `closed after ${elapsed} ms`);
    } finally {
      await closeServer(server);
    }
  });

  it('terminates a peer that stops answering heartbeat pings, and measures rtt of one that answers', async () => {
    const { server, port, url } = await startServer({ heartbeatInterval: 100, timerWheel: fastWheel() });
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const { socket } = await rawUpgrade(port);
      socket.on('error', () => {});
      socket.pause(); // never reads, never answers a ping
      const [connection] = await connected;
      const errors: TransportError[] = [];
      connection.on('error', (error: TransportError) => errors.push(error));
      const started = Date.now();
      const [code] = await waitFor<[number, string]>(connection, 'close', 3000);
      const elapsed = Date.now() - started;
      assert.equal(code, CloseCode.ABNORMAL);
      assert.equal(errors[0]?.code, 'ERR_HEARTBEAT_TIMEOUT');
      assert.ok(elapsed >= 150 && elapsed < 1500, `terminated after ${elapsed} ms`);
      socket.destroy();

      const alive = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [healthy] = await alive;
      await waitFor(healthy, 'pong', 2000);
      await new Promise((resolve) => setTimeout(resolve, 350));
      assert.equal(healthy.readyState, 1, 'an answering peer stays connected');
      assert.ok(healthy.rtt >= 0 && healthy.rtt < 1000, `rtt ${healthy.rtt}`);
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });

  it('destroys the socket when the peer ignores our close frame for closeTimeout', async () => {
    const { server, port } = await startServer({
      closeTimeout: 150,
      heartbeatInterval: 0,
      timerWheel: fastWheel(),
    });
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const { socket } = await rawUpgrade(port);
      socket.on('error', () => {});
      const [connection] = await connected;
      const started = Date.now();
      connection.close(1000, 'bye');
      const [code] = await waitFor<[number]>(connection, 'close', 3000);
      assert.equal(code, CloseCode.ABNORMAL);
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 140 && elapsed < 1500, `destroyed after ${elapsed} ms`);
      socket.destroy();
    } finally {
      await closeServer(server);
    }
  });

  it('closes an idle connection with 1001 after idleTimeout', async () => {
    const { server, url } = await startServer({
      idleTimeout: 150,
      heartbeatInterval: 0,
      timerWheel: fastWheel(),
    });
    try {
      const client = await openClient(url);
      const started = Date.now();
      const { code, reason } = await clientClosed(client, 3000);
      assert.equal(code, 1001);
      assert.equal(reason, 'idle timeout');
      assert.ok(Date.now() - started >= 140);
    } finally {
      await closeServer(server);
    }
  });
});

describe('closing', () => {
  it('graceful close sends 1001 to every client, then calls back', async () => {
    const { server, url } = await startServer();
    const first = await openClient(url);
    const second = await openClient(url);
    assert.equal(server.clients.size, 2);
    const closing = closeServer(server);
    const [a, b] = await Promise.all([clientClosed(first), clientClosed(second)]);
    assert.equal(a.code, 1001);
    assert.equal(b.code, 1001);
    await closing;
    assert.equal(server.clients.size, 0);
  });

  it('reports close 1006 when the TCP connection is reset in the middle of a frame', async () => {
    const { server, port } = await startServer();
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const { socket } = await rawUpgrade(port);
      const [connection] = await connected;
      const messages: Buffer[] = [];
      connection.on('message', (data: Buffer) => messages.push(data));
      const frame = clientFrame(0x2, Buffer.alloc(1000, 1));
      socket.write(frame.subarray(0, 300));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.resetAndDestroy();
      const [code, reason] = await waitFor<[number, string]>(connection, 'close', 3000);
      assert.equal(code, CloseCode.ABNORMAL);
      assert.equal(reason, '');
      assert.equal(messages.length, 0);
      assert.equal(connection.readyState, 3);
    } finally {
      await closeServer(server);
    }
  });

  it('fails the connection with 1009 past maxPayload and reports that code', async () => {
    const { server, url } = await startServer({ maxPayload: 1024 });
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [connection] = await connected;
      const errors: ProtocolError[] = [];
      connection.on('error', (error: ProtocolError) => errors.push(error));
      const serverClosed = waitFor<[number]>(connection, 'close');
      client.send(Buffer.alloc(2048));
      const { code } = await clientClosed(client);
      assert.equal(code, 1009);
      const [serverCode] = await serverClosed;
      assert.equal(serverCode, 1009);
      assert.equal(errors[0]?.closeCode, 1009);
    } finally {
      await closeServer(server);
    }
  });

  it('does not crash on a protocol error when nobody listens for errors', async () => {
    const { server, port } = await startServer();
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const { socket } = await rawUpgrade(port);
      const [connection] = await connected;
      // An unmasked client frame is a protocol error (RFC 6455 §5.1).
      socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
      const [code] = await waitFor<[number]>(connection, 'close');
      assert.equal(code, 1002);
      socket.destroy();
    } finally {
      await closeServer(server);
    }
  });
});

describe('messages API', () => {
  it('iterates messages with for await until the connection closes', async () => {
    const { server, url } = await startServer();
    try {
      const received = new Promise<string[]>((resolve) => {
        server.on('connection', async (connection: WebSocketConnection) => {
          const texts: string[] = [];
          for await (const { data, isBinary } of connection)
            texts.push(`${isBinary ? 'b' : 't'}:${data.toString()}`);
          resolve(texts);
        });
      });
      const client = await openClient(url);
      client.send('one');
      client.send(Buffer.from('two'));
      client.send('three');
      client.close();
      assert.deepEqual(await received, ['t:one', 'b:two', 't:three']);
    } finally {
      await closeServer(server);
    }
  });

  it('broadcasts one prepared message to every client but the excepted one', async () => {
    const { server, url } = await startServer({ perMessageDeflate: { threshold: 0 } });
    try {
      const clients = await Promise.all([
        openClient(url, { perMessageDeflate: true }),
        openClient(url),
        openClient(url),
      ]);
      const except = [...server.clients][2]!;
      const inbox = clients.map((client) => {
        const got: string[] = [];
        client.on('message', (data: Buffer) => got.push(data.toString()));
        return got;
      });
      const sent = server.broadcast('news '.repeat(100), { except });
      assert.equal(sent, 2);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const counts = inbox.map((got) => got.length).sort();
      assert.deepEqual(counts, [0, 1, 1]);
      for (const got of inbox) if (got.length > 0) assert.equal(got[0], 'news '.repeat(100));
      for (const client of clients) client.close();
      await Promise.all(clients.map((client) => clientClosed(client)));
    } finally {
      await closeServer(server);
    }
  });

  it('runs send callbacks once the data is written, and with an error after close', async () => {
    const { server, url } = await startServer();
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [connection] = await connected;
      const written = await new Promise<Error | undefined>((resolve) => connection.send('x', {}, resolve));
      assert.equal(written, undefined);
      connection.close();
      const refused = await new Promise<Error | undefined>((resolve) => connection.send('y', resolve));
      assert.equal((refused as TransportError).code, 'ERR_NOT_OPEN');
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });
});

describe('resources', () => {
  it('releases idle permessage-deflate contexts on the timer wheel', async () => {
    const { PerMessageDeflate } = await import('../../src/protocol/permessage-deflate.js');
    const original = PerMessageDeflate.prototype.releaseIdle;
    let releases = 0;
    PerMessageDeflate.prototype.releaseIdle = function (this: InstanceType<typeof PerMessageDeflate>) {
      releases++;
      return original.call(this);
    };
    const { server, url } = await startServer({
      perMessageDeflate: { idleTimeoutMs: 50, serverNoContextTakeover: false, threshold: 0 },
      heartbeatInterval: 0,
      timerWheel: fastWheel(),
    });
    try {
      server.on('connection', (connection: WebSocketConnection) => {
        connection.on('message', (data: Buffer, isBinary: boolean) =>
          connection.send(data, { binary: isBinary }),
        );
      });
      const client = await openClient(url, { perMessageDeflate: true });
      client.send('compress me '.repeat(50));
      await waitFor(client, 'message');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(releases, 1, 'released once per quiet period');
      client.send('again '.repeat(50));
      await waitFor(client, 'message');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(releases, 2);
      client.close();
      await clientClosed(client);
    } finally {
      PerMessageDeflate.prototype.releaseIdle = original;
      await closeServer(server);
    }
  });

  it("re-emits listener errors such as EADDRINUSE on 'error'", async () => {
    const { server, port } = await startServer();
    const { WebSocketServer } = await import('../../src/server/server.js');
    const clash = new WebSocketServer({ port, host: '127.0.0.1' });
    try {
      const [error] = await waitFor<[NodeJS.ErrnoException]>(clash, 'error');
      assert.equal(error.code, 'EADDRINUSE');
    } finally {
      await closeServer(server);
    }
  });
});
