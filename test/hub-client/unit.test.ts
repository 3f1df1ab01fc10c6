/**
 * The hub client's pure parts: backoff delays, topic syntax, message validation, frames, ids, the
 * event emitter.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff, resolveReconnect } from '../../src/hub-client/backoff.js';
import { Emitter } from '../../src/hub-client/emitter.js';
import { IdSource, randomKey } from '../../src/hub-client/ids.js';
import { isPattern, topicProblem } from '../../src/hub-client/topics.js';
import { parseServerMessage, publishFrame, subscribeFrame } from '../../src/hub-client/wire.js';

describe('Backoff', () => {
  it('grows by factor up to the cap, with jitter taking up to that fraction off', () => {
    const randoms = [0, 0.999, 0.5, 0, 0.25, 0];
    const backoff = new Backoff(
      resolveReconnect({ initialDelayMs: 100, factor: 3, maxDelayMs: 1000, jitter: 0.4 }),
      () => randoms.shift()!,
    );
    const delays = Array.from({ length: 6 }, () => backoff.next());
    // Bases 100, 300, 900, 1000, 1000, 1000; minus 40 % × random.
    assert.deepEqual(delays, [100, 180, 720, 1000, 900, 1000]);
    assert.equal(backoff.failures, 6);
    backoff.reset();
    assert.equal(backoff.failures, 0);
  });

  it('gives null once maxRetries failures happened, and never overflows', () => {
    const backoff = new Backoff(resolveReconnect({ maxRetries: 2, jitter: 0 }));
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [250, 500, null]);
    const long = new Backoff(resolveReconnect({ jitter: 0 }));
    for (let i = 0; i < 5000; i++) long.next();
    assert.equal(long.next(), 10_000);
  });

  it('rejects invalid policies', () => {
    assert.throws(() => resolveReconnect({ jitter: 1.5 }), RangeError);
    assert.throws(() => resolveReconnect({ initialDelayMs: 500, maxDelayMs: 100 }), RangeError);
    assert.throws(() => resolveReconnect({ factor: Number.NaN }), RangeError);
    assert.deepEqual(resolveReconnect(), {
      initialDelayMs: 250,
      maxDelayMs: 10_000,
      factor: 2,
      jitter: 0.5,
      maxRetries: Infinity,
    });
  });
});

describe('topic syntax', () => {
  it('accepts topics and patterns of the protocol', () => {
    for (const topic of ['chat', 'chat.lobby', 'a-b_c:d/e@f=g.h', 'x'.repeat(256)]) {
      assert.equal(topicProblem(topic, false), null, topic);
    }
    for (const pattern of ['chat.*', '*', 'sensors.>', '*.a.>', '>']) {
      assert.equal(isPattern(pattern), true);
      assert.equal(topicProblem(pattern, true), null, pattern);
      assert.notEqual(topicProblem(pattern, false), null, pattern);
    }
  });

  it('refuses the rest', () => {
    for (const topic of ['', 'a b', 'é', 'x'.repeat(257), 'a*', 'a.>.b', 'a.b>', 42]) {
      assert.notEqual(topicProblem(topic, true), null, String(topic));
    }
  });
});

describe('hub messages', () => {
  it('validates each type and its fields', () => {
    const ok = [
      '{"type":"connected","client":"c1","user":""}',
      '{"type":"subscribed","topic":"t","offset":0,"epoch":"e","recovered":false}',
      '{"type":"message","topic":"t","data":null,"offset":3,"epoch":"e","pattern":"t.*"}',
      '{"type":"message","topic":"t","offset":3,"epoch":"e"}',
      '{"type":"ack","id":7,"offset":1,"epoch":"e"}',
      '{"type":"presence","topic":"t","clients":[{"client":"c","user":"u","info":null}]}',
      '{"type":"error","code":"forbidden","message":"no","topic":"t"}',
    ];
    for (const text of ok) assert.equal(parseServerMessage(text).kind, 'message', text);
    const bad = [
      'nope',
      '[1]',
      'null',
      '{"type":1}',
      '{"type":"subscribed","topic":"t","offset":-1,"epoch":"e","recovered":false}',
      '{"type":"subscribed","topic":"t","offset":1.5,"epoch":"e","recovered":false}',
      '{"type":"ack","id":{},"offset":1,"epoch":"e"}',
      '{"type":"message","topic":"t","offset":3,"epoch":"e","pattern":5}',
      '{"type":"presence","topic":"t","clients":[{}]}',
      '{"type":"error","code":"x"}',
    ];
    for (const text of bad) assert.equal(parseServerMessage(text).kind, 'invalid', text);
    assert.deepEqual(parseServerMessage('{"type":"later","x":1}'), { kind: 'unknown', type: 'later' });
  });

  it('builds frames that are the JSON the protocol describes', () => {
    assert.deepEqual(JSON.parse(publishFrame('a.b', '{"x":[1,"\\""]}', 'id-1')), {
      type: 'publish',
      topic: 'a.b',
      id: 'id-1',
      data: { x: [1, '"'] },
    });
    assert.deepEqual(JSON.parse(publishFrame('t', 'null', undefined, false)), {
      type: 'publish',
      topic: 't',
      echo: false,
      data: null,
    });
    assert.deepEqual(JSON.parse(subscribeFrame('t', { offset: 4, epoch: 'e' }, 0)), {
      type: 'subscribe',
      topic: 't',
      since: { offset: 4, epoch: 'e' },
      credit: 0,
    });
  });
});

describe('ids', () => {
  it('makes distinct ids within and across sources, within the protocol limit', () => {
    const seen = new Set<string>();
    for (let s = 0; s < 50; s++) {
      const source = new IdSource();
      for (let i = 0; i < 100; i++) seen.add(source.next());
    }
    assert.equal(seen.size, 5000);
    assert.ok([...seen].every((id) => id.length <= 128));
    assert.match(randomKey(22), /^[\w-]{22}$/);
  });
});

describe('Emitter', () => {
  class Probe extends Emitter<{ ping: number }> {
    fire(n: number): void {
      this.emit('ping', n);
    }
  }

  it('calls listeners in order, once-listeners once, and removed ones never', () => {
    const probe = new Probe();
    const calls: string[] = [];
    const second = (n: number): void => {
      calls.push(`second ${n}`);
    };
    probe.on('ping', (n) => calls.push(`first ${n}`));
    probe.on('ping', second);
    probe.once('ping', (n) => calls.push(`once ${n}`));
    probe.fire(1);
    probe.off('ping', second);
    probe.fire(2);
    assert.deepEqual(calls, ['first 1', 'second 1', 'once 1', 'first 2']);
    assert.equal(probe.listenerCount('ping'), 1);
  });
});
