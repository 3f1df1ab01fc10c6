import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { formatConnectionId, nextConnectionSeq } from '../../src/observability/ids.js';
import { activeLogger, type Logger, logsAt, silentLogger } from '../../src/observability/logger.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { WebSocketServerOptions } from '../../src/server/options.js';
import {
  clientClosed,
  clientFrame,
  closeServer,
  fastWheel,
  openClient,
  rawExchange,
  rawUpgrade,
  startServer,
  upgradeRequest,
  waitFor,
} from '../server/helpers.js';
import { eventually, memoryLogger } from './helpers.js';

async function echoServer(logger: Logger, options: Omit<WebSocketServerOptions, 'port'> = {}) {
  const started = await startServer({ heartbeatInterval: 0, logger, ...options });
  started.server.on('connection', (connection: WebSocketConnection) => {
    connection.on('message', (data: Buffer, isBinary: boolean) =>
      connection.send(data, { binary: isBinary }),
    );
  });
  return started;
}

describe('connection ids', () => {
  it('are short, unique and stable for one connection', () => {
    const a = nextConnectionSeq();
    const b = nextConnectionSeq();
    assert.notEqual(formatConnectionId(a), formatConnectionId(b));
    assert.equal(formatConnectionId(a), formatConnectionId(a));
    assert.match(formatConnectionId(b), /^[0-9a-z]{4}-[0-9a-z]+$/);
    assert.ok(formatConnectionId(b).length <= 10);
  });
});

describe('logger interface', () => {
  it('treats absent and silent loggers as none, and honours isLevelEnabled', () => {
    assert.equal(activeLogger(undefined), null);
    assert.equal(activeLogger(silentLogger), null);
    assert.equal(logsAt(null, 'error'), false);
    const { logger } = memoryLogger('warn');
    assert.equal(logsAt(logger, 'debug'), false);
    assert.equal(logsAt(logger, 'warn'), true);
    const { isLevelEnabled: _, ...withoutCheck } = logger;
    assert.equal(logsAt(withoutCheck as Logger, 'debug'), true);
  });
});

describe('server logging', () => {
  it('binds connId in a child logger and logs open and close at debug', async () => {
    const { logger, lines, children } = memoryLogger('debug');
    const { server, url } = await echoServer(logger);
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [connection] = await connected;
      const closed = waitFor(connection, 'close');
      client.close(1000, 'done');
      await clientClosed(client);
      await closed;
      const id = connection.connectionId;
      assert.deepEqual(children, [{ connId: id }], 'one child per connection');
      const open = lines.find((line) => line.msg === 'connection open');
      assert.equal(open?.level, 'debug');
      assert.equal(open?.bindings.connId, id);
      assert.equal(open?.fields.remoteAddress, '127.0.0.1');
      const close = lines.find((line) => line.msg === 'connection closed');
      assert.equal(close?.level, 'debug');
      assert.deepEqual(close?.bindings, { connId: id });
      assert.deepEqual(close?.fields, { code: 1000, reason: 'done', side: 'remote' });
    } finally {
      await closeServer(server);
    }
  });

  it('creates no child logger for connections that log nothing at the enabled levels', async () => {
    const { logger, lines, children } = memoryLogger('warn');
    const { server, url } = await echoServer(logger);
    try {
      const client = await openClient(url);
      client.send('x');
      await waitFor(client, 'message');
      client.close();
      await clientClosed(client);
      assert.equal(children.length, 0);
      assert.equal(lines.length, 0);
    } finally {
      await closeServer(server);
    }
  });

  it('logs handshake rejections at warn with their reason', async () => {
    const { logger, lines } = memoryLogger('info');
    const { server, port } = await echoServer(logger, { upgrade: () => ({ status: 401 }) });
    try {
      assert.match(await rawExchange(port, upgradeRequest()), /^HTTP\/1.1 401/);
      assert.match(await rawExchange(port, 'GET / HTTP/1.1\r\n\r\n'), /^HTTP\/1.1 426/);
      const rejected = lines.filter((line) => line.msg === 'handshake rejected');
      assert.deepEqual(
        rejected.map((line) => [line.level, line.fields.reason, line.fields.status]),
        [
          ['warn', 'rejected_by_hook', 401],
          ['warn', 'not_websocket', 426],
        ],
      );
      assert.equal(rejected[0]?.fields.remoteAddress, '127.0.0.1');
    } finally {
      await closeServer(server);
    }
  });

  it('logs protocol errors at info with the error code and close code', async () => {
    const { logger, lines } = memoryLogger('info');
    const { server, port } = await echoServer(logger);
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const { socket } = await rawUpgrade(port);
      socket.on('error', () => {});
      const [connection] = await connected;
      const closed = waitFor<[number]>(connection, 'close');
      // An unmasked client frame: RFC 6455 §5.1 requires the server to fail the connection (1002).
      const frame = clientFrame(0x1, Buffer.from('hi'));
      frame[1] = frame[1]! & 0x7f;
      socket.write(Buffer.concat([frame.subarray(0, 2), frame.subarray(6)]));
      const [code] = await closed;
      assert.equal(code, 1002);
      const line = lines.find((l) => l.msg === 'protocol error: connection failed');
      assert.equal(line?.level, 'info');
      assert.equal(line?.bindings.connId, connection.connectionId);
      assert.equal(line?.fields.code, 'ERR_MASK_REQUIRED');
      assert.equal(line?.fields.closeCode, 1002);
      socket.destroy();
    } finally {
      await closeServer(server);
    }
  });

  it('logs backpressure closes at warn', async () => {
    const { logger, lines, children } = memoryLogger('warn');
    const { server, port } = await echoServer(logger, {
      maxBackpressure: 128 * 1024,
      closeTimeout: 50,
      timerWheel: fastWheel(),
    });
    const connected = waitFor<[WebSocketConnection]>(server, 'connection');
    const { socket } = await rawUpgrade(port);
    socket.on('error', () => {});
    socket.pause();
    try {
      const [connection] = await connected;
      const closed = waitFor(connection, 'close', 10_000);
      const payload = Buffer.alloc(64 * 1024);
      for (let i = 0; i < 10_000 && connection.readyState === 1; i++) {
        connection.send(payload);
        await new Promise((resolve) => setImmediate(resolve));
      }
      await closed;
      const line = lines.find((l) => l.msg === 'backpressure limit: connection closed');
      assert.equal(line?.level, 'warn');
      assert.equal(line?.fields.code, 'ERR_BACKPRESSURE_LIMIT');
      assert.deepEqual(children, [{ connId: connection.connectionId }]);
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });

  it('writes JSON lines through a real pino logger', async () => {
    const output: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        output.push(chunk.toString());
        done();
      },
    });
    const logger = pino({ level: 'debug', base: null }, stream);
    const { server, url, port } = await echoServer(logger);
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [connection] = await connected;
      const closed = waitFor(connection, 'close');
      client.close(4000, 'pino');
      await clientClosed(client);
      await closed;
      await rawExchange(port, upgradeRequest().replace('Version: 13', 'Version: 8'));
      const entries = () =>
        output
          .join('')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line));
      await eventually(() => entries().some((e) => e.msg === 'handshake rejected'), true);
      const close = entries().find((e) => e.msg === 'connection closed');
      assert.equal(close.level, 20);
      assert.equal(close.connId, connection.connectionId);
      assert.equal(close.code, 4000);
      assert.equal(close.reason, 'pino');
      const rejected = entries().find((e) => e.msg === 'handshake rejected');
      assert.equal(rejected.level, 40);
      assert.equal(rejected.reason, 'version');
      assert.equal(rejected.connId, undefined, 'server lines carry no connId');
    } finally {
      await closeServer(server);
    }
  });
});
