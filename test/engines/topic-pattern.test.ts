import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  compilePattern,
  isPattern,
  isValidTopic,
  MAX_TOPIC_LENGTH,
} from '../../src/engines/topic-pattern.js';

const SEGMENT_CHARS = 'abcXYZ019_-:/@='.split('');
const segment = fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 1, maxLength: 6 });
const topic = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join('.'));

describe('topic syntax', () => {
  it('accepts topics of the documented alphabet and length', () => {
    for (const valid of ['a', 'chat.lobby', 'user:42/inbox@eu=1', 'A-Z_0.9', 'x'.repeat(MAX_TOPIC_LENGTH)]) {
      assert.equal(isValidTopic(valid), true, valid);
      assert.equal(isValidTopic(valid, true), true, valid);
    }
  });

  it('refuses empty segments, other characters, wildcards in topics and overlong names', () => {
    const invalid = ['', '.', 'a.', '.a', 'a..b', 'a b', 'ü', 'a#b', 'a,b', 'x'.repeat(MAX_TOPIC_LENGTH + 1)];
    for (const name of [...invalid, 'a.*', 'a.>']) assert.equal(isValidTopic(name), false, name);
    for (const name of invalid) assert.equal(isValidTopic(name, true), false, name);
  });

  it('accepts wildcards in patterns only as whole segments, and > only last', () => {
    for (const valid of ['*', '>', 'a.*', '*.b', 'a.*.c', 'a.>', '*.>']) {
      assert.equal(isValidTopic(valid, true), true, valid);
      assert.equal(isPattern(valid), true, valid);
    }
    for (const invalid of ['a*', 'a.b*', '>.a', 'a.>.b', 'a.>>', 'a.**', 'a..*']) {
      assert.equal(isValidTopic(invalid, true), false, invalid);
    }
    assert.equal(isPattern('a.b'), false);
    assert.equal(isPattern('a*b'), false, 'a star inside a segment is not a wildcard');
  });
});

describe('compilePattern', () => {
  const cases: Array<[string, string, boolean]> = [
    ['chat.*', 'chat.lobby', true],
    ['chat.*', 'chat', false],
    ['chat.*', 'chat.lobby.x', false],
    ['chat.*', 'chatx.lobby', false],
    ['*.temp', 'room1.temp', true],
    ['*.temp', 'a.room1.temp', false],
    ['a.*.c', 'a.b.c', true],
    ['a.*.c', 'a.b.d', false],
    ['sensors.>', 'sensors.a', true],
    ['sensors.>', 'sensors.a.temp', true],
    ['sensors.>', 'sensors', false],
    ['sensors.>', 'sensorsX.a', false],
    ['>', 'anything.at.all', true],
    ['a.b', 'a.b', true],
    ['a.b', 'aXb', false],
    ['a-b.*', 'a-b.c', true],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(compilePattern(pattern)(name), expected);
    });
  }

  it('throws TypeError on an invalid pattern', () => {
    assert.throws(() => compilePattern('a.>.b'), TypeError);
    assert.throws(() => compilePattern(''), TypeError);
  });

  it('agrees with a segment-by-segment reading (property)', () => {
    fc.assert(
      fc.property(topic, topic, fc.nat(4), (prefix, name, cut) => {
        const segments = name.split('.');
        // Replace one segment by `*`, and everything after `cut` by `>`.
        const star = segments.map((s, i) => (i === cut % segments.length ? '*' : s)).join('.');
        assert.equal(compilePattern(star)(name), true);
        assert.equal(compilePattern(name)(name), true);
        assert.equal(compilePattern(`${prefix}.>`)(`${prefix}.${name}`), true);
        assert.equal(compilePattern(`${prefix}.>`)(prefix), false);
        assert.equal(compilePattern(`${prefix}.*`)(`${prefix}.${name}`), !name.includes('.'));
      }),
    );
  });
});
