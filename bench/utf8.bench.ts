/**
 * UTF-8 validation throughput (RFC 3629; RFC 6455 §8.1) on 1 MB of ASCII and 1 MB of mixed text, with
 * and without Node's `buffer.isUtf8` installed as the accelerator, against `buffer.isUtf8` itself and a
 * fatal `TextDecoder` (what a browser build could fall back on).
 *
 * Run: `npx tsc -p tsconfig.json && node dist/bench/utf8.bench.js`.
 */
import { isUtf8 } from 'node:buffer';
import { isValidUtf8, setUtf8Accelerator, Utf8Validator } from '../src/protocol/utf8.js';

const SIZE = 1024 * 1024;
const PIECE = 64 * 1024;
const ROUNDS = 15;
const ROUND_NS = 20e6;

/** Repeats `sample` to SIZE bytes, cut back to the last whole character. */
function corpus(sample: string): Buffer {
  const unit = Buffer.from(sample);
  const out = Buffer.alloc(SIZE);
  for (let at = 0; at < SIZE; at += unit.length) unit.copy(out, at);
  let end = SIZE;
  while (!isUtf8(out.subarray(0, end))) end--;
  return out.subarray(0, end);
}

const ASCII = corpus('The quick brown fox jumps over the lazy dog; {"id":42,"ok":true}\n');
// Latin with accents, Cyrillic, Greek, CJK and emoji: 1-, 2-, 3- and 4-byte sequences, short ASCII runs.
const MIXED = corpus('Grüße aus Köln! Привет, мир. Γειά σου κόσμε. 你好，世界。こんにちは 🌍🚀 ok ');

function share(data: Buffer, width: number): string {
  let count = 0;
  for (const byte of data) if (byte >= 0x80 && byte < 0xc0) count++;
  return `${((count / data.length) * 100).toFixed(width)}%`;
}

function timeCalls(run: () => void, calls: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) run();
  return Number(process.hrtime.bigint() - start);
}

/** Best GB/s over ROUNDS rounds (the VM's neighbours make the median wander). */
function gbPerSecond(data: Buffer, check: (data: Buffer) => boolean): number {
  if (!check(data)) throw new Error('benchmark input rejected');
  const run = () => {
    check(data);
  };
  let calls = 1;
  for (let t = 0; t < ROUND_NS / 4; calls *= 2) t = timeCalls(run, calls);
  let best = 0;
  for (let r = 0; r < ROUNDS; r++) best = Math.max(best, (data.length * calls) / timeCalls(run, calls));
  return best;
}

const validator = new Utf8Validator();
const feedWhole = (data: Buffer) => validator.feed(data) && validator.end();
const feedPieces = (data: Buffer) => {
  for (let at = 0; at < data.length; at += PIECE) {
    if (!validator.feed(data.subarray(at, at + PIECE))) return false;
  }
  return validator.end();
};
const decoder = new TextDecoder('utf-8', { fatal: true });

const rows: [string, (data: Buffer) => boolean, boolean][] = [
  ['isValidUtf8', isValidUtf8, false],
  ['Utf8Validator.feed, 1 piece', feedWhole, false],
  [`Utf8Validator.feed, ${PIECE / 1024} KB pieces`, feedPieces, false],
  ['isValidUtf8 + accelerator', isValidUtf8, true],
  ['Utf8Validator.feed + accelerator, 1 piece', feedWhole, true],
  [`Utf8Validator.feed + accelerator, ${PIECE / 1024} KB pieces`, feedPieces, true],
  ['buffer.isUtf8 (reference)', (data) => isUtf8(data), false],
  ['TextDecoder fatal (reference)', (data) => decoder.decode(data).length >= 0, false],
];

// A first untimed pass lets V8 settle its tiers for every row, so the row order does not matter.
for (const [, check, accelerated] of rows) {
  setUtf8Accelerator(accelerated ? isUtf8 : null);
  for (let i = 0; i < 20; i++) check(ASCII) && check(MIXED);
}

console.log(`UTF-8 validation throughput in GB/s, best of ${ROUNDS} rounds (Node ${process.version})`);
console.log(
  `ASCII: ${ASCII.length} bytes; mixed: ${MIXED.length} bytes, ${share(MIXED, 0)} continuation bytes\n`,
);
console.log('| validator | 1 MB ASCII | 1 MB mixed |');
console.log('| --- | --- | --- |');
for (const [name, check, accelerated] of rows) {
  setUtf8Accelerator(accelerated ? isUtf8 : null);
  const ascii = gbPerSecond(ASCII, check);
  const mixed = gbPerSecond(MIXED, check);
  console.log(`| ${name} | ${ascii.toFixed(2)} | ${mixed.toFixed(2)} |`);
}
setUtf8Accelerator(null);
