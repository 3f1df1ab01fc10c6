import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { afterEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidUtf8, setUtf8Accelerator, Utf8Validator } from '../../src/protocol/utf8.js';

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values);
const encode = (text: string): Uint8Array => new TextEncoder().encode(text);

/** Valid encodings, including every boundary of RFC 3629 §4 / Unicode Table 3-7. */
const VALID: [string, Uint8Array][] = [
  ['empty', bytes()],
  ['ASCII', encode('Hello, world')],
  ['U+0000', bytes(0x00)],
  ['U+007F', bytes(0x7f)],
  ['U+0080', bytes(0xc2, 0x80)],
  ['U+07FF', bytes(0xdf, 0xbf)],
  ['U+0800', bytes(0xe0, 0xa0, 0x80)],
  ['U+D7FF (last before the surrogates)', bytes(0xed, 0x9f, 0xbf)],
  ['U+E000 (first after the surrogates)', bytes(0xee, 0x80, 0x80)],
  ['U+FFFD', bytes(0xef, 0xbf, 0xbd)],
  ['U+FFFF', bytes(0xef, 0xbf, 0xbf)],
  ['U+10000', bytes(0xf0, 0x90, 0x80, 0x80)],
  ['U+10FFFF', bytes(0xf4, 0x8f, 0xbf, 0xbf)],
  ['kosme', bytes(0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5)],
  ['mixed scripts', encode('Grüße, мир, 你好, 🌍!')],
];

/** Invalid input and the index of the byte at which it stops being a prefix of valid UTF-8. */
const INVALID: [string, Uint8Array, number][] = [
  ['lone continuation 80', bytes(0x80), 0],
  ['lone continuation BF after ASCII', bytes(0x61, 0xbf, 0x62), 1],
  ['C0 80 (overlong NUL)', bytes(0xc0, 0x80), 0],
  ['C1 BF (overlong U+007F)', bytes(0xc1, 0xbf), 0],
  ['E0 80 80 (overlong)', bytes(0xe0, 0x80, 0x80), 1],
  ['E0 9F BF (overlong U+07FF)', bytes(0xe0, 0x9f, 0xbf), 1],
  ['F0 80 80 80 (overlong)', bytes(0xf0, 0x80, 0x80, 0x80), 1],
  ['F0 8F BF BF (overlong U+FFFF)', bytes(0xf0, 0x8f, 0xbf, 0xbf), 1],
  ['ED A0 80 (U+D800)', bytes(0xed, 0xa0, 0x80), 1],
  ['ED BF BF (U+DFFF)', bytes(0xed, 0xbf, 0xbf), 1],
  ['surrogate pair encoded as two sequences', bytes(0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80), 1],
  ['F4 90 80 80 (U+110000)', bytes(0xf4, 0x90, 0x80, 0x80), 1],
  ['F5 80 80 80', bytes(0xf5, 0x80, 0x80, 0x80), 0],
  ['F8 88 80 80 80 (5-byte form)', bytes(0xf8, 0x88, 0x80, 0x80, 0x80), 0],
  ['FC (6-byte form)', bytes(0xfc, 0x84, 0x80, 0x80, 0x80, 0x80), 0],
  ['FE', bytes(0xfe), 0],
  ['FF', bytes(0x41, 0xff), 1],
  ['C2 41 (ASCII instead of continuation)', bytes(0xc2, 0x41), 1],
  ['C2 C2 80 (lead instead of continuation)', bytes(0xc2, 0xc2, 0x80), 1],
  ['E1 80 41', bytes(0xe1, 0x80, 0x41), 2],
  ['F1 80 80 41', bytes(0xf1, 0x80, 0x80, 0x41), 3],
  ['extra continuation after a complete sequence', bytes(0xc3, 0xa9, 0x80), 2],
  ['valid text then E0 A0 C0', bytes(0x61, 0x62, 0xe0, 0xa0, 0xc0), 4],
];

/** Valid prefixes that end mid-sequence: every feed succeeds, `end()` does not. */
const TRUNCATED: [string, Uint8Array][] = [
  ['C2', bytes(0xc2)],
  ['E0 A0', bytes(0xe0, 0xa0)],
  ['E1 80', bytes(0xe1, 0x80)],
  ['ED 9F', bytes(0xed, 0x9f)],
  ['F0 90 80', bytes(0xf0, 0x90, 0x80)],
  ['F4 8F BF', bytes(0xf4, 0x8f, 0xbf)],
  ['text then F1', bytes(0x61, 0x62, 0x63, 0xf1)],
];

/** Index of the byte at which WHATWG's streaming fatal decoder throws, or -1 if it never does. */
function decoderFailIndex(data: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < data.length; i++) {
    try {
      decoder.decode(data.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  return -1;
}

function decoderAccepts(data: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(data);
    return true;
  } catch {
    return false;
  }
}

/** Splits `data` at the given cut points (taken modulo its length + 1). */
function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const to of [...points, data.length]) {
    pieces.push(data.subarray(from, to));
    from = to;
  }
  return pieces;
}

/** Feeds the pieces; returns the index of the first piece that failed (-1 if none) and `end()`. */
function feedAll(validator: Utf8Validator, pieces: Uint8Array[]): { failedPiece: number; ended: boolean } {
  let failedPiece = -1;
  pieces.forEach((piece, index) => {
    const ok = validator.feed(piece);
    if (failedPiece >= 0) assert.equal(ok, false, 'a failed validator stays failed');
    else if (!ok) failedPiece = index;
  });
  return { failedPiece, ended: validator.end() };
}

/** The index of the piece holding byte `at`. */
function pieceOf(pieces: Uint8Array[], at: number): number {
  let start = 0;
  for (let i = 0; i < pieces.length; i++) {
    start += pieces[i]!.length;
    if (at < start) return i;
  }
  return -1;
}

const INTERESTING = [
  0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee,
  0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
];

/** Mostly-valid text: long ASCII runs (word path, accelerator) and every kind of code point. */
const textArb = fc
  .array(
    fc.oneof(
      fc.string({ unit: 'grapheme-ascii', maxLength: 400 }),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.string({ unit: 'binary-ascii', maxLength: 60 }),
    ),
    { maxLength: 6 },
  )
  .map((parts) => encode(parts.join('')));

/** Text with a few bytes replaced or inserted, so that it breaks in every possible way. */
const damagedArb = fc
  .tuple(
    textArb,
    fc.array(fc.tuple(fc.nat(), fc.constantFrom(...INTERESTING), fc.boolean()), {
      minLength: 1,
      maxLength: 3,
    }),
  )
  .map(([text, edits]) => {
    const out = [...text];
    for (const [position, byte, insert] of edits)
      out.splice(position % (out.length + 1), insert ? 0 : 1, byte);
    return new Uint8Array(out);
  });

const ACCELERATORS = [
  ['without accelerator', null],
  ['with buffer.isUtf8 installed', (data: Uint8Array) => isUtf8(data)],
] as const;

for (const [name, accelerator] of ACCELERATORS) {
  describe(`UTF-8 validation ${name}`, () => {
    const install = () => setUtf8Accelerator(accelerator);
    afterEach(() => setUtf8Accelerator(null));

    it('accepts the valid vectors, whole and byte by byte', () => {
      install();
      for (const [label, data] of VALID) {
        assert.equal(isValidUtf8(data), true, label);
        const validator = new Utf8Validator();
        for (const byte of data) assert.equal(validator.feed(bytes(byte)), true, label);
        assert.equal(validator.end(), true, label);
      }
    });

    it('rejects the invalid vectors at the exact byte when fed byte by byte', () => {
      install();
      for (const [label, data, failAt] of INVALID) {
        assert.equal(isValidUtf8(data), false, label);
        assert.equal(decoderFailIndex(data), failAt, `${label}: vector agrees with TextDecoder`);
        const validator = new Utf8Validator();
        for (let i = 0; i < data.length; i++) {
          assert.equal(validator.feed(data.subarray(i, i + 1)), i < failAt, `${label}, byte ${i}`);
        }
        assert.equal(validator.end(), false, label);
      }
    });

    it('treats truncated sequences as valid prefixes that do not end a message', () => {
      install();
      for (const [label, data] of TRUNCATED) {
        assert.equal(isValidUtf8(data), false, label);
        const validator = new Utf8Validator();
        for (const byte of data) assert.equal(validator.feed(bytes(byte)), true, label);
        assert.equal(validator.end(), false, label);
      }
    });

    it('fails inside long pieces at any alignment, around ASCII words and multibyte characters', () => {
      install();
      const backing = new Uint8Array(1100);
      for (let byteOffset = 0; byteOffset < 8; byteOffset++) {
        for (const length of [255, 256, 257, 300, 1024]) {
          const view = backing.subarray(byteOffset, byteOffset + length);
          for (const position of [
            0,
            1,
            2,
            3,
            4,
            5,
            63,
            64,
            65,
            length - 5,
            length - 4,
            length - 3,
            length - 1,
          ]) {
            view.fill(0x61);
            assert.equal(isValidUtf8(view), true);
            view[position] = 0x80;
            assert.equal(isValidUtf8(view), false, `0x80 at ${position} of ${length} at +${byteOffset}`);
            assert.equal(new Utf8Validator().feed(view), false);
            view[position] = 0xc2; // cut off at the end only when it is the last byte
            const validator = new Utf8Validator();
            assert.equal(validator.feed(view), position === length - 1, `C2 at ${position} of ${length}`);
            if (position < length - 4) {
              view.set([0xf0, 0x9f, 0x8c, 0x8d], position); // U+1F30D inside the ASCII
              assert.equal(isValidUtf8(view), true, `U+1F30D at ${position}`);
            }
          }
        }
      }
    });

    it('is reusable after end() and after a failure', () => {
      install();
      const validator = new Utf8Validator();
      assert.equal(validator.feed(bytes(0xe2, 0x82)), true);
      assert.equal(validator.end(), false);
      assert.equal(validator.feed(bytes(0xff)), false);
      assert.equal(validator.feed(encode('fine')), false);
      validator.reset();
      assert.equal(validator.feed(encode('fine €')), true);
      assert.equal(validator.end(), true);
      assert.equal(validator.feed(bytes(0x82)), false, 'end() dropped the pending sequence');
      assert.equal(validator.end(), false);
      assert.equal(validator.end(), true, 'end() also clears a failure');
    });

    it('accepts TextEncoder output under every chunking (property)', () => {
      install();
      fc.assert(
        fc.property(textArb, fc.array(fc.nat(), { maxLength: 10 }), (data, cuts) => {
          assert.equal(isValidUtf8(data), true);
          assert.deepEqual(feedAll(new Utf8Validator(), split(data, cuts)), { failedPiece: -1, ended: true });
        }),
        { numRuns: 400 },
      );
    });

    it('accepts every 1-byte and 2-piece chunking of a multilingual text', () => {
      install();
      const data = encode(`${'a'.repeat(70)}é€😀ß中\u{10FFFF}${'z'.repeat(70)}\u{80}\u{800}\u{10000}`);
      assert.deepEqual(feedAll(new Utf8Validator(), split(data, [...data.keys()])), {
        failedPiece: -1,
        ended: true,
      });
      for (let cut = 0; cut <= data.length; cut++) {
        assert.deepEqual(feedAll(new Utf8Validator(), split(data, [cut])), { failedPiece: -1, ended: true });
      }
    });

    it('agrees with a fatal TextDecoder on damaged text, failing in the same piece (property)', () => {
      install();
      fc.assert(
        fc.property(fc.oneof(damagedArb, textArb), fc.array(fc.nat(), { maxLength: 10 }), (data, cuts) => {
          const accepted = decoderAccepts(data);
          assert.equal(isValidUtf8(data), accepted);
          const failAt = decoderFailIndex(data);
          const pieces = split(data, cuts);
          const { failedPiece, ended } = feedAll(new Utf8Validator(), pieces);
          assert.equal(failedPiece, failAt < 0 ? -1 : pieceOf(pieces, failAt));
          assert.equal(ended, accepted);
        }),
        { numRuns: 1500 },
      );
    });

    it('agrees with a fatal TextDecoder on random bytes from the interesting set (property)', () => {
      install();
      const arb = fc.array(fc.constantFrom(...INTERESTING), { maxLength: 12 }).map((a) => new Uint8Array(a));
      fc.assert(
        fc.property(arb, (data) => {
          assert.equal(isValidUtf8(data), decoderAccepts(data));
          const validator = new Utf8Validator();
          const failAt = decoderFailIndex(data);
          for (let i = 0; i < data.length; i++) {
            assert.equal(validator.feed(data.subarray(i, i + 1)), failAt < 0 || i < failAt);
          }
        }),
        { numRuns: 3000 },
      );
    });
  });
}

describe('UTF-8 accelerator hook', () => {
  afterEach(() => setUtf8Accelerator(null));

  it('hands the bulk of long pieces to the accelerator, only ever on character boundaries', () => {
    const seen: Uint8Array[] = [];
    setUtf8Accelerator((data) => {
      seen.push(data.slice());
      return isUtf8(data);
    });
    const data = encode('€'.repeat(100));
    assert.equal(isValidUtf8(data), true);
    const validator = new Utf8Validator();
    for (const piece of split(data, [1, 101, 200])) assert.equal(validator.feed(piece), true);
    assert.equal(validator.end(), true);
    assert.ok(seen.length >= 3, 'accelerator used for the whole buffer and the long pieces');
    for (const chunk of seen) assert.equal(decoderAccepts(chunk), true, 'every chunk is whole characters');
  });

  it('is not consulted for short pieces, and removing it restores the built-in validator', () => {
    let calls = 0;
    setUtf8Accelerator(() => {
      calls++;
      return false;
    });
    assert.equal(new Utf8Validator().feed(encode('short')), true);
    assert.equal(calls, 0);
    assert.equal(isValidUtf8(encode('x'.repeat(1000))), false, 'long input delegated to the accelerator');
    setUtf8Accelerator(null);
    assert.equal(isValidUtf8(encode('x'.repeat(1000))), true);
  });
});
