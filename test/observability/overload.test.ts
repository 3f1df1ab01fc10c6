import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import {
  heapLimitBytes,
  isOverloaded,
  LoadMonitor,
  type LoadSample,
} from '../../src/observability/overload.js';
import type { WebSocketConnection } from '../../src/server/connection.js';
import { idlest, resolveOverloadOptions } from '../../src/server/overload-guard.js';
import {
  clientClosed,
  closeServer,
  fastWheel,
  openClient,
  rawExchange,
  startServer,
  upgradeRequest,
  waitFor,
} from '../server/helpers.js';
import { metricValue } from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // Busy: the event loop cannot run.
  }
}

const calm: LoadSample = { eventLoopDelayMs: 1, heapUsedBytes: 1000, heapLimitBytes: 1e9 };

describe('overload measurement', () => {
  it('compares samples with the thresholds, with a recovery margin', () => {
    const thresholds = { maxEventLoopDelayMs: 100, maxHeapBytes: 1e6 };
    assert.equal(isOverloaded(calm, thresholds, false), false);
    assert.equal(isOverloaded({ ...calm, eventLoopDelayMs: 101 }, thresholds, false), true);
    assert.equal(isOverloaded({ ...calm, heapUsedBytes: 2e6 }, thresholds, false), true);
    // Just under the threshold: not overloaded, but not recovered either.
    assert.equal(isOverloaded({ ...calm, eventLoopDelayMs: 95 }, thresholds, false), false);
    assert.equal(isOverloaded({ ...calm, eventLoopDelayMs: 95 }, thresholds, true), true);
    assert.equal(isOverloaded({ ...calm, eventLoopDelayMs: 85 }, thresholds, true), false);
  });

  it('measures a blocked event loop and the heap, at most once per interval', async () => {
    const monitor = new LoadMonitor(10);
    monitor.acquire();
    try {
      await sleep(50);
      monitor.sample(performance.now(), 0); // start a fresh window
      await sleep(30);
      setTimeout(() => block(120), 0);
      await sleep(60);
      const sample = monitor.sample(performance.now(), 0);
      assert.ok(sample.eventLoopDelayMs >= 100, `delay ${sample.eventLoopDelayMs}`);
      assert.ok(sample.eventLoopDelayMs < 1000, `delay ${sample.eventLoopDelayMs}`);
      assert.ok(sample.heapUsedBytes > 1e6);
      assert.equal(sample.heapLimitBytes, heapLimitBytes());
      // Younger than maxAge: the same sample again.
      assert.equal(monitor.sample(performance.now(), 10_000), sample);
      await sleep(40);
      assert.ok(monitor.sample(performance.now(), 0).eventLoopDelayMs < 100);
    } finally {
      monitor.release();
    }
  });

  it('validates the overload option', () => {
    assert.equal(resolveOverloadOptions(undefined), null);
    const config = resolveOverloadOptions({});
    assert.equal(config?.thresholds.maxEventLoopDelayMs, 200);
    assert.equal(config?.thresholds.maxHeapBytes, Number.POSITIVE_INFINITY);
    assert.equal(config?.retryAfter, '5');
    assert.equal(config?.shedIdle, false);
    const ratio = resolveOverloadOptions({ maxHeapUsedRatio: 0.5, retryAfterSeconds: 2.5 });
    assert.equal(ratio?.thresholds.maxHeapBytes, heapLimitBytes() / 2);
    assert.equal(ratio?.retryAfter, '3');
    assert.throws(() => resolveOverloadOptions({ maxEventLoopDelayMs: 0 }), RangeError);
    assert.throws(() => resolveOverloadOptions({ maxHeapUsedRatio: 1.5 }), RangeError);
    assert.throws(() => resolveOverloadOptions({ shedBatch: 1.5 }), RangeError);
  });

  it('picks the least recently active open connections', () => {
    const fake = (lastActivity: number, readyState = 1) =>
      ({ lastActivity, readyState }) as WebSocketConnection;
    const clients = [fake(50), fake(10), fake(40), fake(5, 2), fake(30), fake(20)];
    assert.deepEqual(
      idlest(clients, 3).map((c) => c.lastActivity),
      [10, 20, 30],
    );
    assert.deepEqual(
      idlest(clients, 10).map((c) => c.lastActivity),
      [10, 20, 30, 40, 50],
    );
    assert.deepEqual(idlest([], 3), []);
  });
});

describe('overload protection', () => {
  it('answers upgrades with 503 and Retry-After while the event loop lags, then accepts again', async () => {
    const registry = new Registry();
    const { server, port, url } = await startServer({
      heartbeatInterval: 0,
      metrics: { registry },
      overload: { maxEventLoopDelayMs: 40, sampleIntervalMs: 50, retryAfterSeconds: 7 },
      timerWheel: fastWheel(),
    });
    const states: boolean[] = [];
    server.on('overload', (overloaded: boolean) => states.push(overloaded));
    // Keep the loop lagging (100 ms blocks) until the check is done.
    const lag = setInterval(() => block(100), 20);
    try {
      const deadline = Date.now() + 5000;
      while (!server.overloaded && Date.now() < deadline) await sleep(10);
      assert.equal(server.overloaded, true);
      const response = await rawExchange(port, upgradeRequest());
      assert.match(response, /^HTTP\/1.1 503 /);
      assert.match(response, /\r\nRetry-After: 7\r\n/i);
      assert.equal(
        await metricValue(registry, 'conduit_handshake_failures_total', {
          reason: 'overload',
          status: '503',
        }),
        1,
      );
      assert.equal(await metricValue(registry, 'conduit_overloaded'), 1);
      assert.ok((await metricValue(registry, 'conduit_event_loop_lag_seconds'))! >= 0.04);
    } finally {
      clearInterval(lag);
    }
    try {
      const deadline = Date.now() + 5000;
      while (server.overloaded && Date.now() < deadline) await sleep(10);
      assert.equal(server.overloaded, false);
      assert.deepEqual(states, [true, false]);
      assert.equal(await metricValue(registry, 'conduit_overloaded'), 0);
      const client = await openClient(url);
      client.close();
      await clientClosed(client);
    } finally {
      await closeServer(server);
    }
  });

  it('sheds the idlest connections with 1013, one batch per sample', async () => {
    const registry = new Registry();
    let load: LoadSample = calm;
    const { server, url } = await startServer({
      heartbeatInterval: 0,
      metrics: { registry },
      overload: { probe: () => load, shedIdle: true, shedBatch: 2, sampleIntervalMs: 20 },
      timerWheel: fastWheel(),
    });
    try {
      server.on('connection', (connection: WebSocketConnection) => {
        connection.on('message', (data: Buffer) => connection.send(data));
      });
      const clients = [];
      for (let i = 0; i < 5; i++) {
        clients.push(await openClient(url));
        await sleep(25);
      }
      // The last three are active now; the first two stay idle (the first the longest).
      await sleep(30);
      for (const client of clients.slice(2)) {
        client.send('tick');
        await waitFor(client, 'message');
      }
      const closes = clients.map((client) => clientClosed(client, 3000).catch(() => null));
      // One overloaded sample: the guard sheds one batch, then the load is back to normal.
      server.once('overload', () => {
        load = calm;
      });
      load = { ...calm, eventLoopDelayMs: 10_000 };
      const [first, second] = await Promise.all(closes.slice(0, 2));
      assert.equal(first?.code, 1013);
      assert.equal(second?.code, 1013);
      await sleep(100);
      assert.deepEqual(
        clients.map((client) => client.readyState),
        [3, 3, 1, 1, 1],
      );
      assert.equal(server.overloaded, false);
      assert.equal(await metricValue(registry, 'conduit_connections_shed_total'), 2);
      for (const client of clients.slice(2)) client.close();
      await Promise.all(closes.slice(2));
    } finally {
      await closeServer(server);
    }
  });
});
