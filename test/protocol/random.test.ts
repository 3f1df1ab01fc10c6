import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MaskKeySource } from '../../src/protocol/random.js';

/** A fill that writes a counting pattern and records how often it ran. */
function countingFill(): { fill: (target: Uint8Array<ArrayBuffer>) => void; calls: () => number } {
  let calls = 0;
  return {
    fill: (target) => {
      calls++;
      for (let i = 0; i < target.length; i++) target[i] = (i + calls * 7) & 0xff;
    },
    calls: () => calls,
  };
}

describe('MaskKeySource', () => {
  it('nextWord hands out the batch 4 bytes at a time, first byte in the high bits', () => {
    const source = countingFill();
    const keys = new MaskKeySource(source.fill);
    assert.equal(keys.nextWord(), 0x0708090a);
    assert.equal(keys.nextWord(), 0x0b0c0d0e);
    assert.deepEqual([...keys.next()], [0x0f, 0x10, 0x11, 0x12], 'next() continues the same stream');
    assert.equal(source.calls(), 1);
  });

  it('refills the batch once it is used up (every 1024 keys)', () => {
    const source = countingFill();
    const keys = new MaskKeySource(source.fill);
    const seen = new Set<number>();
    for (let i = 0; i < 1024; i++) seen.add(keys.nextWord());
    assert.equal(source.calls(), 1);
    keys.nextWord();
    assert.equal(source.calls(), 2, 'the 1025th key comes from a new batch');
  });
});
