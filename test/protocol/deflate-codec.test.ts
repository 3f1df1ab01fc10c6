/**
 * The zlib plumbing of permessage-deflate: synchronous contexts, the RFC 7692 §7.2 payload format,
 * output limits, corrupt input and the shared pool.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import {
  acquireCompressor,
  acquireDecompressor,
  Compressor,
  DEFLATE_TAIL,
  Decompressor,
  deflatePoolSize,
  releaseCompressor,
  releaseDecompressor,
  trimDeflatePool,
} from '../../src/protocol/deflate-codec.js';
import { ProtocolError } from '../../src/protocol/errors.js';

const enc = new TextEncoder();
const MB = 1024 * 1024;

const { Z_SYNC_FLUSH } = zlib.constants;

/** zlib's one-shot helpers, ending the stream with a sync flush as RFC 7692 senders do. */
function syncDeflate(data: Uint8Array, options: zlib.ZlibOptions = {}): Uint8Array {
  return new Uint8Array(zlib.deflateRawSync(data, { ...options, finishFlush: Z_SYNC_FLUSH }));
}
function syncInflate(data: Uint8Array, options: zlib.ZlibOptions = {}): Uint8Array {
  return new Uint8Array(zlib.inflateRawSync(data, { ...options, finishFlush: Z_SYNC_FLUSH }));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function jsonLike(bytes: number, seed = 1): Uint8Array {
  const items: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const item = JSON.stringify({
      id: i * seed,
      user: `user-${(i * 7919) % 1000}`,
      score: (i * 31) % 97,
      ok: i % 3 === 0,
    });
    items.push(item);
    size += item.length + 1;
  }
  return enc.encode(`[${items.join(',')}]`).subarray(0, bytes);
}

/** Inflates `data` split into pieces of `size` bytes. */
function inflateInPieces(d: Decompressor, data: Uint8Array, size: number, limit = 64 * MB): Uint8Array {
  const out: Uint8Array[] = [];
  if (data.length === 0) return d.inflate(data, true, limit);
  for (let i = 0; i < data.length; i += size) {
    const end = Math.min(i + size, data.length);
    out.push(d.inflate(data.subarray(i, end), end === data.length, limit));
  }
  return concat(...out);
}

function expectProtocolError(fn: () => unknown, code: string, closeCode: number): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.closeCode, closeCode);
    return true;
  });
}

describe('Compressor', () => {
  test('output is a sync-flushed raw DEFLATE stream without its 00 00 ff ff tail (§7.2.1)', () => {
    const c = new Compressor(15, 6, 8);
    const payload = jsonLike(5000);
    const out = c.compress(payload);
    assert.ok(out.length < payload.length / 2);
    assert.notDeepEqual([...out.subarray(-4)], [0, 0, 0xff, 0xff]);
    assert.deepEqual(syncInflate(concat(out, DEFLATE_TAIL)), payload);
    c.close();
  });

  test('an empty message becomes the single byte 00 (§7.2.3.6)', () => {
    const c = new Compressor(15, 1, 8);
    assert.deepEqual([...c.compress(new Uint8Array(0))], [0x00]);
    c.compress(enc.encode('some text'));
    // Also after a message, when zlib itself would emit nothing for an empty sync flush.
    assert.deepEqual([...c.compress(new Uint8Array(0))], [0x00]);
    c.close();
  });

  test('keeps its window between messages until reset', () => {
    const c = new Compressor(15, 6, 8);
    const payload = jsonLike(2000);
    const first = c.compress(payload);
    const second = c.compress(payload);
    assert.ok(second.length < first.length / 4, `${second.length} vs ${first.length}`);
    c.reset();
    assert.deepEqual(c.compress(payload), first);
    c.close();
  });

  test('level 0 (stored blocks) and large outputs keep the format', () => {
    const c = new Compressor(15, 0, 8);
    const payload = new Uint8Array(300 * 1024).map((_, i) => (i * 2654435761) >>> 24);
    const out = c.compress(payload);
    assert.ok(out.length > payload.length);
    assert.deepEqual(syncInflate(concat(out, DEFLATE_TAIL)), payload);
    c.close();
  });

  test('refuses window bits 8, which raw DEFLATE cannot honour', () => {
    assert.throws(() => new Compressor(8, 1, 8), RangeError);
  });

  test('every window 9..15 inflates with an inflater of that same window', () => {
    const payload = jsonLike(200 * 1024, 3);
    for (let bits = 9; bits <= 15; bits++) {
      const out = new Compressor(bits, 9, 9).compress(payload);
      assert.deepEqual(
        syncInflate(concat(out, DEFLATE_TAIL), { windowBits: bits }),
        payload,
        `window ${bits}`,
      );
    }
  });

  test('property: round trip through zlib.inflateRawSync for any payload and level', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 0, max: 9 }), (payload, level) => {
        const c = new Compressor(15, level, 8);
        const out = c.compress(payload);
        c.close();
        assert.deepEqual(syncInflate(concat(out, DEFLATE_TAIL)), payload);
      }),
      { numRuns: 150 },
    );
  });
});

describe('Decompressor', () => {
  const hello = 'Hello';
  // The examples of RFC 7692 §7.2.3.
  const examples: [string, number[]][] = [
    ['§7.2.3.1 one compressed block', [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]],
    ['§7.2.3.3 a stored block', [0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00]],
    ['§7.2.3.4 a BFINAL block', [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00]],
    [
      '§7.2.3.5 two blocks in one message',
      [0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00],
    ],
  ];
  for (const [name, bytes] of examples) {
    test(`decodes the RFC example: ${name}`, () => {
      const d = new Decompressor(15);
      assert.equal(Buffer.from(d.inflate(Uint8Array.from(bytes), true, 100)).toString(), hello);
      // The context stays usable for the next message.
      assert.equal(Buffer.from(d.inflate(Uint8Array.from(examples[0]![1]), true, 100)).toString(), hello);
      d.close();
    });
  }

  test('§7.2.3.2: a second message refers to the first through the shared window', () => {
    const d = new Decompressor(15);
    d.inflate(Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), true, 100);
    const second = d.inflate(Uint8Array.of(0xf2, 0x00, 0x11, 0x00, 0x00), true, 100);
    assert.equal(Buffer.from(second).toString(), hello);
    d.reset();
    expectProtocolError(
      () => d.inflate(Uint8Array.of(0xf2, 0x00, 0x11, 0x00, 0x00), true, 100),
      'ERR_EXTENSION',
      1007,
    );
  });

  test('decodes the empty message 00, and a message with no payload at all', () => {
    const d = new Decompressor(15);
    assert.equal(d.inflate(Uint8Array.of(0x00), true, 10).length, 0);
    assert.equal(d.inflate(new Uint8Array(0), true, 10).length, 0);
    // Neither left the context inside a block: a normal message still decodes.
    assert.equal(Buffer.from(d.inflate(Uint8Array.from(examples[0]![1]), true, 100)).toString(), hello);
    d.close();
  });

  test('accepts a payload that kept its 00 00 ff ff tail', () => {
    const d = new Decompressor(15);
    const withTail = syncDeflate(enc.encode('tail kept'));
    assert.deepEqual([...withTail.subarray(-4)], [...DEFLATE_TAIL]);
    assert.equal(Buffer.from(d.inflate(withTail, true, 100)).toString(), 'tail kept');
    d.close();
  });

  test('decodes output of zlib.deflateRawSync, whole and in pieces of every size', () => {
    const payload = jsonLike(3000);
    const wire = syncDeflate(payload).subarray(0, -4);
    const d = new Decompressor(15);
    for (let size = 1; size <= 64; size++)
      assert.deepEqual(inflateInPieces(d, wire, size), payload, `pieces of ${size}`);
    assert.deepEqual(inflateInPieces(d, wire, wire.length), payload);
    d.close();
  });

  test('property: any split of a context-takeover stream decodes to the messages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 5 }),
        fc.integer({ min: 1, max: 50 }),
        (messages, pieceSize) => {
          const c = new Compressor(15, 6, 8);
          const d = new Decompressor(15);
          for (const message of messages) {
            assert.deepEqual(inflateInPieces(d, c.compress(message), pieceSize), message);
          }
          c.close();
          d.close();
        },
      ),
      { numRuns: 100 },
    );
  });

  test('ignores what follows a BFINAL block, then starts a new stream', () => {
    const d = new Decompressor(15);
    const finished = zlib.deflateRawSync(Buffer.from('first'));
    const out = d.inflate(concat(finished, Uint8Array.of(0x01, 0x02, 0x03)), true, 100);
    assert.equal(Buffer.from(out).toString(), 'first');
    assert.equal(Buffer.from(d.inflate(Uint8Array.from(examples[0]![1]), true, 100)).toString(), hello);
    d.close();
  });

  test('inflates with window 8 what a zlib-based peer sends for window 8', () => {
    // Such peers (Node's DeflateRaw among them) compress with 9 bits, whose matches zlib keeps within
    // 512 - 262 bytes, so an 8-bit inflater (the negotiated window) reads them.
    let x = 7;
    const text = Array.from({ length: 20_000 }, () => {
      x = (x * 1103515245 + 12345) & 0x7fffffff;
      return 'abcdefghij'[x % 10] + (x % 7 === 0 ? ' the quick brown fox ' : '');
    }).join('');
    const payload = enc.encode(text);
    const d = new Decompressor(8);
    for (const level of [1, 9]) {
      const wire = syncDeflate(payload, { windowBits: 9, level }).subarray(0, -4);
      assert.deepEqual(d.inflate(wire, true, 1 << 20), payload);
    }
    d.close();
  });

  test('the output limit is exact', () => {
    const payload = jsonLike(10_000);
    const wire = new Compressor(15, 6, 8).compress(payload);
    assert.deepEqual(new Decompressor(15).inflate(wire, true, payload.length), payload);
    const d = new Decompressor(15);
    expectProtocolError(() => d.inflate(wire, true, payload.length - 1), 'ERR_MESSAGE_TOO_BIG', 1009);
    assert.equal(d.closed, false, 'a limit breach leaves zlib itself healthy (the caller drops it)');
    d.close();
  });

  test('corrupt data ends in 1007 and closes the context', () => {
    const d = new Decompressor(15);
    expectProtocolError(
      () => d.inflate(Uint8Array.of(0xff, 0xff, 0xff, 0x01), true, 100),
      'ERR_EXTENSION',
      1007,
    );
    assert.equal(d.closed, true);
  });

  test('a zip bomb (100 MB of zeros) ends in 1009 with bounded memory', () => {
    const bomb = syncDeflate(new Uint8Array(100 * MB), { level: 9 }).subarray(0, -4);
    const limit = 4 * MB;
    for (const pieceSize of [bomb.length, 16 * 1024]) {
      globalThis.gc?.();
      const before = process.memoryUsage();
      const d = new Decompressor(15);
      let produced = 0;
      let peak = 0;
      expectProtocolError(
        () => {
          for (let i = 0; i < bomb.length; i += pieceSize) {
            const end = Math.min(i + pieceSize, bomb.length);
            produced += d.inflate(bomb.subarray(i, end), end === bomb.length, limit - produced).length;
            const now = process.memoryUsage();
            peak = Math.max(peak, now.heapUsed + now.arrayBuffers - before.heapUsed - before.arrayBuffers);
          }
        },
        'ERR_MESSAGE_TOO_BIG',
        1009,
      );
      const after = process.memoryUsage();
      peak = Math.max(peak, after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers);
      assert.ok(produced <= limit);
      assert.ok(peak < 2 * limit + 4 * MB, `memory grew by ${(peak / MB).toFixed(1)} MB`);
      assert.ok(
        after.rss - before.rss < 2 * limit + 16 * MB,
        `rss grew by ${((after.rss - before.rss) / MB).toFixed(1)} MB`,
      );
      d.close();
    }
  });
});

describe('pool', () => {
  test('hands back the same reset compressor', () => {
    trimDeflatePool();
    const payload = jsonLike(3000);
    const a = acquireCompressor(15, 6, 8);
    const first = a.compress(payload);
    releaseCompressor(a);
    assert.deepEqual(deflatePoolSize(), { compressors: 1, decompressors: 0 });
    const b = acquireCompressor(15, 6, 8);
    assert.equal(b, a);
    assert.deepEqual(b.compress(payload), first, 'reset between users: no context leaks across');
    releaseCompressor(b);
    const other = acquireCompressor(14, 6, 8);
    assert.notEqual(other, a, 'different window bits use a different context');
    releaseCompressor(other);
    assert.equal(deflatePoolSize().compressors, 2);
    assert.equal(trimDeflatePool(), 2);
    assert.equal(a.closed, true);
    assert.deepEqual(deflatePoolSize(), { compressors: 0, decompressors: 0 });
  });

  test('keeps at most 8 idle decompressors, resets them, and never takes closed ones', () => {
    trimDeflatePool();
    const taken = Array.from({ length: 10 }, () => acquireDecompressor());
    taken[7]!.inflate(Uint8Array.of(0xf2, 0x48), false, 100); // half a message, released last: popped first
    for (const d of taken) releaseDecompressor(d);
    assert.equal(deflatePoolSize().decompressors, 8);
    assert.equal(taken.filter((d) => d.closed).length, 2);
    const again = acquireDecompressor();
    assert.equal(again, taken[7]);
    assert.equal(
      Buffer.from(
        again.inflate(Uint8Array.of(0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00), true, 10),
      ).toString(),
      'Hello',
    );
    const broken = new Decompressor(15);
    assert.throws(() => broken.inflate(Uint8Array.of(0xff, 0xff, 0xff), true, 10));
    releaseDecompressor(broken);
    assert.equal(deflatePoolSize().decompressors, 7);
    releaseDecompressor(again);
    trimDeflatePool();
  });
});
