import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import wabtInit from 'wabt';
import { mask, maskWithWord, setMaskAccelerator, unmask, useSimdMasking } from '../../src/protocol/mask.js';
import { XOR_KERNEL_BYTES } from '../../src/protocol/mask-wasm.js';
import { loadNativeMask } from '../../src/transport/native-mask.js';

/** RFC 6455 §5.3 written the obvious way: the reference every fast path is compared with. */
function naiveMask(data: Uint8Array, key: Uint8Array, keyOffset: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ key[(keyOffset + i) % 4]!;
  return out;
}

function randomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A view of `length` random bytes at `byteOffset` inside a larger buffer, with guard bytes around it. */
function placed(length: number, byteOffset: number, seed: number): { view: Uint8Array; backing: Uint8Array } {
  const backing = new Uint8Array(byteOffset + length + 8).fill(0xa5);
  const view = backing.subarray(byteOffset, byteOffset + length);
  view.set(randomBytes(length, seed));
  return { view, backing };
}

function assertGuardsIntact(backing: Uint8Array, byteOffset: number, length: number): void {
  for (let i = 0; i < byteOffset; i++) assert.equal(backing[i], 0xa5, `guard before byte ${i}`);
  for (let i = byteOffset + length; i < backing.length; i++)
    assert.equal(backing[i], 0xa5, `guard after ${i}`);
}

// A key that is itself a subarray at an odd offset, as the frame parser hands it over.
const KEY = new Uint8Array([0, 0x37, 0xfa, 0x21, 0x3d, 0]).subarray(1, 5);
const LARGE_SIZES = [1000, 4095, 32767, 32768, 32769, 65539, 100_003, (1 << 20) + 5];
const nativeMask = loadNativeMask();
const PATHS = [
  { name: 'the native accelerator', simd: true, native: true },
  { name: 'WebAssembly SIMD', simd: true, native: false },
  { name: 'JavaScript words', simd: false, native: false },
] as const;

// The addon is optional for users, but CI builds it (`build-native.mjs --required`) and must test it.
const nativeSkip =
  nativeMask === null && process.env.CI !== 'true'
    ? 'build/mask.node is not built (needs a C compiler and Node headers: run `npm run build`)'
    : false;

for (const path of PATHS) {
  const { simd, native } = path;
  /** Selects this path's strategy for the calls that follow. */
  const use = (): void => {
    useSimdMasking(simd);
    setMaskAccelerator(native ? nativeMask : null);
  };
  describe(`mask/unmask via ${path.name}`, { skip: native ? nativeSkip : false }, () => {
    it(`${simd ? 'has' : 'can turn off'} the ${native ? 'native' : 'SIMD'} path on this Node`, () => {
      assert.equal(useSimdMasking(simd), simd);
      if (native) assert.ok(nativeMask !== null, 'build/mask.node loads');
    });

    it('maskWithWord (the key as a number, byte 0 high) matches the byte loop for lengths 0..300', () => {
      use();
      const word = ((KEY[0]! << 24) | (KEY[1]! << 16) | (KEY[2]! << 8) | KEY[3]!) >>> 0;
      for (let length = 0; length <= 300; length++) {
        const source = randomBytes(length, length + 7);
        const target = new Uint8Array(length + 9).fill(0xa5);
        maskWithWord(source, word, target, 5);
        assert.deepEqual(target.subarray(5, 5 + length), naiveMask(source, KEY, 0), `length ${length}`);
        assertGuardsIntact(target, 5, length);
      }
      assert.throws(() => maskWithWord(new Uint8Array(10), word, new Uint8Array(12), 3), RangeError);
    });

    it('unmask matches the byte loop for every length 0..300, byteOffset 0..7, keyOffset 0..3', () => {
      use();
      for (let length = 0; length <= 300; length++) {
        for (let byteOffset = 0; byteOffset < 8; byteOffset++) {
          for (let keyOffset = 0; keyOffset < 4; keyOffset++) {
            const { view, backing } = placed(length, byteOffset, length * 31 + byteOffset);
            const expected = naiveMask(view, KEY, keyOffset);
            unmask(view, KEY, keyOffset);
            assert.deepEqual(
              view,
              expected,
              `length ${length} byteOffset ${byteOffset} keyOffset ${keyOffset}`,
            );
            assertGuardsIntact(backing, byteOffset, length);
          }
        }
      }
    });

    it('unmask matches the byte loop for large sizes', () => {
      use();
      for (const length of LARGE_SIZES) {
        for (const [byteOffset, keyOffset] of [
          [0, 0],
          [1, 3],
          [3, 6],
        ] as const) {
          const { view, backing } = placed(length, byteOffset, length);
          const expected = naiveMask(view, KEY, keyOffset);
          unmask(view, KEY, keyOffset);
          assert.deepEqual(view, expected, `length ${length} byteOffset ${byteOffset}`);
          assertGuardsIntact(backing, byteOffset, length);
        }
      }
    });

    it('unmask twice restores the payload and works on Buffers from the pool', () => {
      use();
      const original = Buffer.from(randomBytes(5000, 7));
      const copy = Buffer.allocUnsafe(5000); // pooled, usually not 4-byte aligned after other allocations
      original.copy(copy);
      unmask(copy, KEY, 2);
      assert.notDeepEqual(copy, original);
      unmask(copy, KEY, 2);
      assert.deepEqual(copy, original);
    });

    it('mask writes source ^ key at targetOffset and leaves source and the rest of target alone', () => {
      use();
      const lengths = [...Array.from({ length: 301 }, (_, i) => i), ...LARGE_SIZES];
      for (const length of lengths) {
        for (const targetOffset of [0, 1, 2, 3, 6, 10, 14]) {
          const source = placed(length, length % 5, length).view;
          const before = source.slice();
          const target = new Uint8Array(targetOffset + length + 4).fill(0x5a);
          mask(source, KEY, target, targetOffset);
          assert.deepEqual(source, before, 'source untouched');
          assert.deepEqual(target.subarray(targetOffset, targetOffset + length), naiveMask(before, KEY, 0));
          assert.ok(
            target.subarray(0, targetOffset).every((b) => b === 0x5a),
            'bytes before targetOffset',
          );
          assert.ok(
            target.subarray(targetOffset + length).every((b) => b === 0x5a),
            'bytes after the payload',
          );
        }
      }
    });

    it('piecewise unmask with running keyOffset equals the whole unmask', () => {
      use();
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 0, maxLength: 3000 }),
          fc.array(fc.nat(3000), { maxLength: 12 }),
          fc.uint8Array({ minLength: 4, maxLength: 4 }),
          fc.nat(7),
          (payload, cuts, key, start) => {
            const whole = payload.slice();
            unmask(whole, key, start);
            const pieces = payload.slice();
            const points = [...new Set(cuts.map((c) => c % (payload.length + 1)))].sort((a, b) => a - b);
            let from = 0;
            for (const to of [...points, payload.length]) {
              unmask(pieces.subarray(from, to), key, start + from);
              from = to;
            }
            assert.deepEqual(pieces, whole);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
}

describe('mask argument checks', () => {
  it('rejects a target too small for the payload', () => {
    assert.throws(() => mask(new Uint8Array(10), KEY, new Uint8Array(12), 3), RangeError);
    assert.throws(() => mask(new Uint8Array(1000), KEY, new Uint8Array(1000), 1), RangeError);
    assert.throws(() => mask(new Uint8Array(1), KEY, new Uint8Array(4), -1), RangeError);
  });

  it('rejects a masking key that is not 4 bytes', () => {
    assert.throws(() => unmask(new Uint8Array(8), new Uint8Array(3)), RangeError);
    assert.throws(() => mask(new Uint8Array(8), new Uint8Array(5), new Uint8Array(8), 0), RangeError);
  });

  it('RFC 6455 §5.7 example: masked "Hello"', () => {
    const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
    const masked = new Uint8Array([0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    unmask(masked, key);
    assert.equal(new TextDecoder().decode(masked), 'Hello');
  });
});

describe('native accelerator argument checks', { skip: nativeSkip }, () => {
  it('refuses a write past the target and arguments that are not Uint8Arrays', () => {
    assert.ok(nativeMask !== null);
    assert.throws(() => nativeMask.xorInto(new Uint8Array(10), 1, new Uint8Array(12), 3), RangeError);
    assert.throws(() => nativeMask.xorInto(new Uint8Array(10), 1, new Uint8Array(12), 2 ** 31), RangeError);
    const wrong = [new Uint16Array(4), 'text', null] as unknown as Uint8Array[];
    for (const value of wrong) assert.throws(() => nativeMask.xor(value, 1), TypeError);
    assert.throws(() => nativeMask.xor(new Uint8Array(4), 'key' as unknown as number), TypeError);
  });

  it('XORs a Buffer slice in place, key byte 0 taken from the low 8 bits', () => {
    assert.ok(nativeMask !== null);
    const data = Buffer.from('00112233445566778899', 'hex').subarray(1);
    nativeMask.xor(data, 0x04030201);
    assert.equal(data.toString('hex'), '102030405464748c98');
  });
});

describe('mask-wasm kernel bytes', () => {
  it('match src/protocol/wasm/mask.wat compiled with wabt', async () => {
    const watUrl = new URL('../../../src/protocol/wasm/mask.wat', import.meta.url);
    const wabt = await wabtInit();
    const module = wabt.parseWat('mask.wat', readFileSync(watUrl, 'utf8'), { simd: true });
    module.validate();
    const compiled = module.toBinary({}).buffer;
    module.destroy();
    assert.deepEqual(
      Buffer.from(XOR_KERNEL_BYTES),
      Buffer.from(compiled),
      'regenerate the bytes in mask-wasm.ts',
    );
  });
});
