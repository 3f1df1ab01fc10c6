/**
 * Rate limits: the upgrade limiter against a real server (429 + Retry-After, then recovery as the test
 * clock moves), and the per-connection message limiter's ok → limited → exceeded states.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMessageRateLimiter, upgradeRateLimit } from '../../../src/server/middleware/rate-limit.js';
import type { WebSocketServer } from '../../../src/server/server.js';
import { closeServer } from '../helpers.js';
import { handshake, serverWith } from './handshake.js';

function manualClock(): { now(): number; advance(ms: number): void } {
  let time = 5000;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

describe('upgradeRateLimit on a real server', () => {
  const clock = manualClock();
  let server: WebSocketServer;
  let port: number;

  before(async () => {
    ({ server, port } = await serverWith(upgradeRateLimit({ perSecond: 0.5, burst: 2, clock })));
  });
  after(() => closeServer(server));

  test('a burst passes, the next handshake gets 429 with Retry-After, and the client recovers', async () => {
    assert.equal((await handshake(port)).status, 101);
    assert.equal((await handshake(port)).status, 101);
    const limited = await handshake(port);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers['retry-after'], '2', 'one token every 2 s');
    clock.advance(1000);
    const stillLimited = await handshake(port);
    assert.equal(stillLimited.status, 429);
    assert.equal(stillLimited.headers['retry-after'], '1');
    clock.advance(999);
    const almost = await handshake(port);
    assert.equal(almost.status, 429);
    assert.equal(almost.headers['retry-after'], '1', 'never 0: at least one second');
    clock.advance(1);
    assert.equal((await handshake(port)).status, 101);
    assert.equal((await handshake(port)).status, 429);
  });
});

describe('upgradeRateLimit keys', () => {
  test('a custom key separates clients behind one address', async () => {
    const clock = manualClock();
    const hook = upgradeRateLimit({
      perSecond: 1,
      burst: 1,
      clock,
      key: (request) => request.headers['x-client'] ?? 'anonymous',
    });
    const { server, port } = await serverWith(hook);
    try {
      const as = (client: string) => handshake(port, { headers: { 'X-Client': client } });
      assert.equal((await as('alice')).status, 101);
      assert.equal((await as('alice')).status, 429);
      assert.equal((await as('bob')).status, 101);
      assert.equal((await as('bob')).status, 429);
    } finally {
      await closeServer(server);
    }
  });

  test('IPv4 peers of a dual-stack listener share one bucket with their plain IPv4 form', async () => {
    const clock = manualClock();
    const seen: string[] = [];
    const limit = upgradeRateLimit({ perSecond: 1, burst: 1, clock });
    const { server, port } = await serverWith((request) => {
      seen.push(request.remoteAddress);
      return limit(request);
    }, '::ffff:127.0.0.1');
    try {
      assert.equal((await handshake(port)).status, 101);
      assert.equal((await handshake(port)).status, 429);
      assert.deepEqual(seen, ['::ffff:127.0.0.1', '::ffff:127.0.0.1']);
    } finally {
      await closeServer(server);
    }
  });
});

describe('createMessageRateLimiter', () => {
  test('ok within the rate, limited beyond it, exceeded after the grace, for good', () => {
    const clock = manualClock();
    const limiter = createMessageRateLimiter({
      messagesPerSecond: 10,
      burst: 3,
      maxViolations: 2,
      violationWindowMs: 1000,
      clock,
    });
    assert.deepEqual([limiter.allow(1), limiter.allow(1), limiter.allow(1)], ['ok', 'ok', 'ok']);
    assert.equal(limiter.allow(1), 'limited');
    assert.equal(limiter.allow(1), 'limited');
    assert.equal(limiter.allow(1), 'exceeded', 'a third refusal in the window');
    clock.advance(60_000);
    assert.equal(limiter.allow(1), 'exceeded', 'exceeded is final');
  });

  test('violations spread over several windows never reach exceeded', () => {
    const clock = manualClock();
    const limiter = createMessageRateLimiter({
      messagesPerSecond: 1,
      burst: 1,
      maxViolations: 1,
      violationWindowMs: 1000,
      clock,
    });
    for (let round = 0; round < 5; round++) {
      assert.equal(limiter.allow(10), 'ok');
      assert.equal(limiter.allow(10), 'limited');
      clock.advance(1000);
    }
  });

  test('refused messages cost nothing, so a client that slows down recovers', () => {
    const clock = manualClock();
    const limiter = createMessageRateLimiter({ messagesPerSecond: 2, burst: 1, maxViolations: 100, clock });
    assert.equal(limiter.allow(0), 'ok');
    for (let i = 0; i < 50; i++) assert.equal(limiter.allow(0), 'limited');
    clock.advance(500);
    assert.equal(limiter.allow(0), 'ok');
  });

  test('bytes per second limit large messages; one bigger than the burst passes once, then pays back', () => {
    const clock = manualClock();
    const limiter = createMessageRateLimiter({
      messagesPerSecond: 1000,
      bytesPerSecond: 1000,
      burstBytes: 1000,
      maxViolations: 100,
      clock,
    });
    assert.equal(limiter.allow(600), 'ok');
    assert.equal(limiter.allow(600), 'limited', 'only 400 bytes left');
    assert.equal(limiter.allow(400), 'ok');
    clock.advance(1000);
    assert.equal(limiter.allow(5000), 'ok', 'a full bucket admits an oversized message');
    clock.advance(4000);
    assert.equal(limiter.allow(1), 'limited', 'still 1000 bytes in debt');
    clock.advance(1001);
    assert.equal(limiter.allow(1), 'ok');
  });

  test('invalid grace options throw', () => {
    assert.throws(() => createMessageRateLimiter({ messagesPerSecond: 1, maxViolations: -1 }), RangeError);
    assert.throws(() => createMessageRateLimiter({ messagesPerSecond: 1, violationWindowMs: 0 }), RangeError);
    assert.throws(() => createMessageRateLimiter({ messagesPerSecond: 0 }), RangeError);
  });
});
