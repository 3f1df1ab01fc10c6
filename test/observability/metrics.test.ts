import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import WebSocket from 'ws';
import { NOOP_SERVER_METRICS, Tally } from '../../src/observability/metric-types.js';
import { createServerMetrics } from '../../src/observability/server-metrics.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import type { WebSocketServerOptions } from '../../src/server/options.js';
import { WebSocketServer } from '../../src/server/server.js';
import {
  clientClosed,
  closeServer,
  fastWheel,
  openClient,
  rawConnect,
  rawExchange,
  rawUpgrade,
  startServer,
  upgradeRequest,
  waitFor,
} from '../server/helpers.js';
import { eventually, metricValue } from './helpers.js';

/** Starts an echo server with metrics on a fresh registry. */
async function echoServer(options: Omit<WebSocketServerOptions, 'port'> = {}) {
  const registry = new Registry();
  const started = await startServer({ heartbeatInterval: 0, metrics: { registry }, ...options });
  started.server.on('connection', (connection: WebSocketConnection) => {
    connection.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary && data.toString() === 'close-me') connection.close(4001, 'bye');
      else connection.send(data, { binary: isBinary });
    });
  });
  return { ...started, registry };
}

describe('createServerMetrics', () => {
  it('is a no-op without a registry, and shares one set per registry and prefix', () => {
    assert.equal(createServerMetrics(), NOOP_SERVER_METRICS);
    assert.equal(NOOP_SERVER_METRICS.enabled, false);
    NOOP_SERVER_METRICS.bytesSent.inc(5); // must not throw
    const registry = new Registry();
    const a = createServerMetrics(registry);
    assert.equal(a.enabled, true);
    assert.equal(createServerMetrics(registry), a);
    assert.notEqual(createServerMetrics(registry, 'other_'), a);
    assert.ok(registry.getSingleMetric('conduit_connections_open'));
    assert.ok(registry.getSingleMetric('other_connections_open'));
  });

  it('refuses a metrics option without a registry', () => {
    assert.throws(
      () => new WebSocketServer({ noServer: true, metrics: {} as never }),
      /metrics.registry must be a prom-client Registry/,
    );
  });

  it('reports tallies at scrape time, incrementally', async () => {
    const registry = new Registry();
    const metrics = createServerMetrics(registry, 't_');
    assert.ok(metrics.bytesSent instanceof Tally);
    metrics.bytesSent.inc(10);
    assert.equal(await metricValue(registry, 't_bytes_sent_total'), 10);
    metrics.bytesSent.inc(5);
    assert.equal(await metricValue(registry, 't_bytes_sent_total'), 15);
    assert.equal(await metricValue(registry, 't_bytes_sent_total'), 15, 'a second scrape adds nothing');
    metrics.connectionsOpen.inc();
    metrics.connectionsOpen.inc();
    metrics.connectionsOpen.dec();
    assert.equal(await metricValue(registry, 't_connections_open'), 1);
    // Labelled series exist at 0 from the first scrape.
    assert.equal(await metricValue(registry, 't_messages_received_total', { type: 'binary' }), 0);
    const text = await registry.metrics();
    assert.match(text, /# TYPE t_bytes_sent_total counter/);
    assert.match(text, /t_messages_received_total\{type="text"\} 0/);
  });
});

describe('server metrics on a real connection', () => {
  it('counts an echo exchange exactly', async () => {
    const { server, url, registry } = await echoServer();
    try {
      const closed = waitFor<[WebSocketConnection]>(server, 'connection').then(([c]) =>
        waitFor<[number]>(c, 'close'),
      );
      const client = await openClient(url);
      assert.equal(await metricValue(registry, 'conduit_connections_open'), 1);
      client.send('hello'); // masked frame: 2 + 4 + 5 = 11 bytes
      await waitFor(client, 'message');
      client.send(Buffer.from([1, 2, 3])); // 2 + 4 + 3 = 9 bytes
      await waitFor(client, 'message');
      client.close(1000); // 2 + 4 + 2 = 8 bytes
      await clientClosed(client);
      await closed;
      const value = (name: string, labels?: Record<string, string>) => metricValue(registry, name, labels);
      assert.equal(await value('conduit_connections_total'), 1);
      assert.equal(await value('conduit_connections_open'), 0);
      assert.equal(await value('conduit_messages_received_total', { type: 'text' }), 1);
      assert.equal(await value('conduit_messages_received_total', { type: 'binary' }), 1);
      assert.equal(await value('conduit_messages_sent_total', { type: 'text' }), 1);
      assert.equal(await value('conduit_messages_sent_total', { type: 'binary' }), 1);
      assert.equal(await value('conduit_bytes_received_total'), 11 + 9 + 8);
      // Unmasked server frames: 2 + 5, 2 + 3, and the close echo 2 + 2.
      assert.equal(await value('conduit_bytes_sent_total'), 7 + 5 + 4);
      assert.equal(await value('conduit_closes_total', { code: '1000', side: 'remote' }), 1);
      assert.equal(await value('conduit_closes_total', { code: '1000', side: 'local' }), undefined);
      assert.equal(await value('conduit_pings_sent_total'), 0);
      assert.equal(await value('conduit_handshake_failures_total'), undefined);
    } finally {
      await closeServer(server);
    }
  });

  it('counts a close started by the server as local, with its code', async () => {
    const { server, url, registry } = await echoServer();
    try {
      const client = await openClient(url);
      client.send('close-me');
      const { code } = await clientClosed(client);
      assert.equal(code, 4001);
      const local = () => metricValue(registry, 'conduit_closes_total', { code: '4001', side: 'local' });
      // The server may see the TCP close after the client does.
      assert.equal(await eventually(local, 1), 1);
    } finally {
      await closeServer(server);
    }
  });

  it('counts pings, pongs and feeds heartbeat round trips into the histogram', async () => {
    const { server, url, registry } = await echoServer({ heartbeatInterval: 30, timerWheel: fastWheel() });
    try {
      const connected = waitFor<[WebSocketConnection]>(server, 'connection');
      const client = await openClient(url);
      const [connection] = await connected;
      for (let i = 0; i < 3; i++) await waitFor(client, 'ping', 2000);
      await new Promise((resolve) => setTimeout(resolve, 20)); // the last pong's arrival
      assert.ok(connection.rtt >= 0, `rtt ${connection.rtt}`);
      const pings = (await metricValue(registry, 'conduit_pings_sent_total'))!;
      const pongs = (await metricValue(registry, 'conduit_pongs_received_total'))!;
      assert.ok(pings >= 3, `pings ${pings}`);
      assert.ok(pongs >= 2 && pongs <= pings, `pongs ${pongs}`);
      const count = await metricValue(
        registry,
        'conduit_heartbeat_rtt_seconds',
        {},
        'conduit_heartbeat_rtt_seconds_count',
      );
      assert.equal(count, pongs);
      const sum = await metricValue(
        registry,
        'conduit_heartbeat_rtt_seconds',
        {},
        'conduit_heartbeat_rtt_seconds_sum',
      );
      assert.ok(sum! > 0 && sum! < pongs * 1, `sum ${sum}`);
      client.ping('x');
      await waitFor(client, 'pong');
      assert.equal(await metricValue(registry, 'conduit_pings_received_total'), 1);
      assert.equal(await metricValue(registry, 'conduit_pongs_sent_total'), 1);
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });

  it('counts backpressure events and dropped messages', async () => {
    const { server, port, registry } = await echoServer({
      backpressurePolicy: 'drop',
      maxBackpressure: 128 * 1024,
    });
    const connected = waitFor<[WebSocketConnection]>(server, 'connection');
    const { socket } = await rawUpgrade(port);
    socket.on('error', () => {});
    socket.pause(); // never read: the server's send buffer fills
    try {
      const [connection] = await connected;
      let drains = 0;
      connection.on('drain', () => drains++);
      let dropped = 0;
      const payload = Buffer.alloc(64 * 1024);
      for (let i = 0; i < 5000 && dropped < 3; i++) {
        if (connection.bufferedAmount > 128 * 1024) dropped++;
        connection.send(payload);
        await new Promise((resolve) => setImmediate(resolve));
      }
      assert.equal(dropped, 3);
      assert.equal(await metricValue(registry, 'conduit_messages_dropped_total'), 3);
      // Each event (buffer past the high water mark) ends with a 'drain', but the last: the buffer is
      // still over maxBackpressure.
      assert.ok(connection.bufferedAmount > 128 * 1024);
      assert.equal(await metricValue(registry, 'conduit_backpressure_events_total'), drains + 1);
    } finally {
      socket.destroy();
      await closeServer(server);
    }
  });
});

describe('handshake failure counter', () => {
  const failures = (registry: Registry, reason: string, status: string) =>
    metricValue(registry, 'conduit_handshake_failures_total', { reason, status });

  it('counts bad requests, version, non-WebSocket, oversized heads, path and hook refusals', async () => {
    const { server, port, registry } = await echoServer({
      path: '/ws',
      maxHeaderSize: 1024,
      upgrade: (request) => {
        if (request.url === '/ws?deny') return false;
        if (request.url === '/ws?throw') throw new Error('boom');
        return undefined;
      },
    });
    try {
      const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
      assert.match(await rawExchange(port, 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n'), /^HTTP\/1.1 426/);
      assert.match(await rawExchange(port, upgradeRequest('/ws').replace(key, '')), /^HTTP\/1.1 400/);
      assert.match(
        await rawExchange(port, upgradeRequest('/ws').replace('Version: 13', 'Version: 12')),
        /^HTTP\/1.1 426/,
      );
      assert.match(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1.1 400/);
      assert.match(
        await rawExchange(port, upgradeRequest('/ws', `X: ${'a'.repeat(2000)}\r\n`)),
        /^HTTP\/1.1 431/,
      );
      assert.match(await rawExchange(port, upgradeRequest('/elsewhere')), /^HTTP\/1.1 404/);
      assert.match(await rawExchange(port, upgradeRequest('/ws?deny')), /^HTTP\/1.1 403/);
      assert.match(await rawExchange(port, upgradeRequest('/ws?throw')), /^HTTP\/1.1 500/);
      assert.equal(await failures(registry, 'not_websocket', '426'), 1);
      assert.equal(await failures(registry, 'bad_request', '400'), 2);
      assert.equal(await failures(registry, 'version', '426'), 1);
      assert.equal(await failures(registry, 'header_too_large', '431'), 1);
      assert.equal(await failures(registry, 'not_found', '404'), 1);
      assert.equal(await failures(registry, 'rejected_by_hook', '403'), 1);
      assert.equal(await failures(registry, 'hook_error', '500'), 1);
      assert.equal(await metricValue(registry, 'conduit_connections_total'), 0);
    } finally {
      await closeServer(server);
    }
  });

  it('counts connection limits, timeouts and aborted handshakes', async () => {
    const { server, port, url, registry } = await echoServer({
      maxConnections: 1,
      handshakeTimeout: 50,
      timerWheel: fastWheel(),
    });
    try {
      const client = await openClient(url);
      assert.match(await rawExchange(port, upgradeRequest()), /^HTTP\/1.1 503/);
      assert.equal(await failures(registry, 'max_connections', '503'), 1);
      client.close();
      await clientClosed(client);
      const slow = await rawConnect(port);
      slow.write('GET / HTTP/1.1\r\n');
      await waitFor(slow, 'close', 2000);
      assert.equal(await eventually(() => failures(registry, 'timeout', '0'), 1), 1);
      const quitter = await rawConnect(port);
      quitter.end('GET / HTTP/1.1\r\n');
      await waitFor(quitter, 'close', 2000);
      assert.equal(await eventually(() => failures(registry, 'aborted', '0'), 1), 1);
    } finally {
      await closeServer(server);
    }
  });

  it('counts max_per_ip refusals', async () => {
    const { server, url, registry } = await echoServer({ maxConnectionsPerIp: 1 });
    try {
      const first = await openClient(url);
      const second = new WebSocket(url);
      second.on('error', () => {});
      const [, response] = await waitFor<[unknown, { statusCode: number }]>(second, 'unexpected-response');
      assert.equal(response.statusCode, 429);
      assert.equal(await failures(registry, 'max_per_ip', '429'), 1);
      second.terminate();
      first.close();
      await clientClosed(first);
    } finally {
      await closeServer(server);
    }
  });
});
