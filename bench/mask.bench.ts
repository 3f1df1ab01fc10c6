/**
 * Masking throughput (RFC 6455 §5.3): `unmask` in place against `Buffer.copy` of the same size (the
 * memory-speed yardstick), with each strategy measured on its own (native accelerator, WebAssembly SIMD,
 * JavaScript words) and bufferutil's native `unmask` as a reference.
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/mask.bench.js`. Payloads start at byteOffset 1,
 * like most Buffers sliced from Node's pool, so the word loop pays for its unaligned head.
 */
import { createRequire } from 'node:module';
import { mask, setMaskAccelerator, unmask, useSimdMasking } from '../src/protocol/mask.js';
import { loadNativeMask } from '../src/transport/native-mask.js';

const bufferutil = createRequire(import.meta.url)('bufferutil') as {
  unmask(buffer: Buffer, key: Buffer): void;
};

const SIZES = [64, 1024, 16 * 1024, 64 * 1024, 1024 * 1024];
const ROUNDS = 15;
const ROUND_NS = 8e6;

interface Case {
  readonly name: string;
  readonly setup?: () => void;
  readonly run: () => void;
  calls: number;
  best: number;
}

/**
 * Best GB/s of each case over ROUNDS rounds, the cases taking turns within each round: this VM's memory
 * bandwidth comes and goes with its neighbours, so interleaving keeps the columns comparable and the
 * best round is the least disturbed one.
 */
function measure(bytes: number, cases: Case[]): void {
  for (const c of cases) {
    c.setup?.();
    for (let t = 0; t < ROUND_NS / 4; c.calls *= 2) t = timeCalls(c.run, c.calls); // warm up, size a round
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      c.setup?.();
      c.best = Math.max(c.best, (bytes * c.calls) / timeCalls(c.run, c.calls));
    }
  }
}

function timeCalls(run: () => void, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) run();
  return Number(process.hrtime.bigint() - start);
}

/**
 * The payload at byteOffset 1 of a larger buffer (as Buffers sliced from Node's pool usually are), and a
 * copy target with the same alignment 2 KiB further mod 4 KiB, so that `Buffer.copy` runs at full memcpy
 * speed (a destination 1..15 bytes past the source mod 4 KiB can make `rep movsb` 10x slower).
 */
function buffers(size: number): { data: Buffer; other: Buffer; target: Buffer } {
  const span = Math.ceil((size + 16) / 4096) * 4096;
  const backing = Buffer.from(new ArrayBuffer(span * 3 + 4096));
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 131) & 0xff;
  const data = backing.subarray(1, 1 + size);
  const other = backing.subarray(span + 2048 + 1, span + 2048 + 1 + size);
  const target = backing.subarray(2 * span + 2048, 2 * span + 2048 + size + 14);
  return { data, other, target };
}

const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const simd = useSimdMasking(true);
const nativeMask = loadNativeMask();
if (nativeMask === null)
  console.log('(build/mask.node is not built: the native columns repeat the SIMD path)');

type Strategy = 'native' | 'simd' | 'words';

/** Selects the masking strategy `unmask`/`mask` use for the calls that follow. */
function use(strategy: Strategy): void {
  useSimdMasking(strategy !== 'words');
  setMaskAccelerator(strategy === 'native' ? nativeMask : null);
}

const rows: string[] = [];
for (const size of SIZES) {
  const { data, other, target } = buffers(size);
  const make = (name: string, run: () => void, strategy: Strategy = 'native'): Case => ({
    name,
    setup: () => use(strategy),
    run,
    calls: 1,
    best: 0,
  });
  const cases = [
    make('copy', () => data.copy(other)),
    make('unmask', () => unmask(data, key)),
    make('mask', () => mask(data, key, target, 14)),
    make('simd', () => unmask(data, key), 'simd'),
    make('words', () => unmask(data, key), 'words'),
    make('bufferutil', () => bufferutil.unmask(data, key)),
  ];
  measure(size, cases);
  use('native');
  const [copy, fast, toTarget, wasm, words, reference] = cases.map((c) => c.best) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const label =
    size >= 1024 * 1024 ? `${size / 1024 / 1024} MB` : size >= 1024 ? `${size / 1024} KB` : `${size} B`;
  const cells = [copy, fast, fast / copy, toTarget, wasm, wasm / copy, words, reference, reference / copy];
  rows.push(
    `| ${label} | ${cells.map((v, i) => (i % 3 === 2 ? `${v.toFixed(2)}x` : v.toFixed(2))).join(' | ')} |`,
  );
}

console.log(`Masking throughput in GB/s, best of ${ROUNDS} interleaved rounds`);
console.log(
  `(Node ${process.version}; native accelerator ${nativeMask ? 'on' : 'not built'}; WebAssembly SIMD ${simd ? 'on' : 'unavailable'})\n`,
);
console.log(
  '| size | Buffer.copy | unmask | unmask / copy | mask → target | unmask, WASM SIMD only | WASM / copy | unmask, JS words only | bufferutil.unmask | bufferutil / copy |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const row of rows) console.log(row);
