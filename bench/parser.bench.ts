/**
 * Frame parsing speed of the protocol core: header parse cost per frame and the small-message parse rate,
 * beside `ws`'s Receiver (with bufferutil) fed the same bytes in the same process.
 * Run: node dist/bench/parser.bench.js
 */

import { isUtf8 } from 'node:buffer';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WebSocketProtocol } from '../src/protocol/connection.js';
import { setUtf8Accelerator } from '../src/protocol/utf8.js';

const require = createRequire(import.meta.url);

interface Case {
  name: string;
  frames: number;
  /** Bytes of `frames` frames back to back. */
  build(): Buffer;
  /** Role of the parser: a server reads masked frames, a client unmasked ones. */
  server: boolean;
}

function frames(count: number, payload: number, opcode: number, masked: boolean): Buffer {
  const header = 2 + (payload >= 126 ? 2 : 0) + (masked ? 4 : 0);
  const out = Buffer.alloc(count * (header + payload));
  for (let i = 0, p = 0; i < count; i++) {
    out[p++] = 0x80 | opcode;
    if (payload >= 126) {
      out[p++] = (masked ? 0x80 : 0) | 126;
      out.writeUInt16BE(payload, p);
      p += 2;
    } else out[p++] = (masked ? 0x80 : 0) | payload;
    if (masked) {
      out.writeUInt32BE(0x37fa213d, p);
      p += 4;
    }
    // ASCII text stays valid UTF-8 whether or not the parser unmasked it (the key keeps bytes < 0x80).
    out.fill(0x41 & 0x3f, p, p + payload);
    p += payload;
  }
  return out;
}

const CASES: Case[] = [
  {
    name: 'empty pong frames (header parse only), client role',
    frames: 200_000,
    server: false,
    build: () => frames(200_000, 0, 0xa, false),
  },
  {
    name: 'empty pong frames (header + mask key parse only), server role',
    frames: 200_000,
    server: true,
    build: () => frames(200_000, 0, 0xa, true),
  },
  {
    name: 'empty binary frames (header only), client role',
    frames: 200_000,
    server: false,
    build: () => frames(200_000, 0, 2, false),
  },
  {
    name: 'empty binary frames (header + mask key), server role',
    frames: 200_000,
    server: true,
    build: () => frames(200_000, 0, 2, true),
  },
  {
    name: '16 B binary messages, server role',
    frames: 200_000,
    server: true,
    build: () => frames(200_000, 16, 2, true),
  },
  {
    name: '64 B text messages, client role',
    frames: 200_000,
    server: false,
    build: () => frames(200_000, 64, 1, false),
  },
  {
    name: '64 B binary messages, server role',
    frames: 200_000,
    server: true,
    build: () => frames(200_000, 64, 2, true),
  },
  {
    name: '1 KB binary messages, server role',
    frames: 50_000,
    server: true,
    build: () => frames(50_000, 1024, 2, true),
  },
];

const CHUNK = 64 * 1024;

function feedChunks(input: Buffer, feed: (chunk: Buffer) => void): void {
  for (let off = 0; off < input.length; off += CHUNK) feed(input.subarray(off, off + CHUNK));
}

function timeConduit(c: Case, input: Buffer): number {
  let seen = 0;
  const protocol = new WebSocketProtocol(
    {
      write() {},
      onMessage() {
        seen++;
      },
      onPong() {
        seen++;
      },
    },
    { role: c.server ? 'server' : 'client', allocate: (n) => Buffer.allocUnsafe(n) },
  );
  const start = process.hrtime.bigint();
  feedChunks(input, (chunk) => protocol.receive(chunk));
  const ns = Number(process.hrtime.bigint() - start);
  if (seen !== c.frames) throw new Error(`conduit parsed ${seen} of ${c.frames}`);
  return ns / c.frames;
}

function timeWs(c: Case, input: Buffer): number {
  // ws does not export its Receiver; load the file next to its entry point.
  const Receiver = require(join(dirname(require.resolve('ws')), 'lib', 'receiver.js'));
  let seen = 0;
  const receiver = new Receiver({ isServer: c.server, maxPayload: 0 });
  receiver.on('message', () => seen++);
  receiver.on('pong', () => seen++);
  receiver.on('error', (e: Error) => {
    throw e;
  });
  const start = process.hrtime.bigint();
  feedChunks(input, (chunk) => receiver.write(chunk));
  const ns = Number(process.hrtime.bigint() - start);
  if (seen !== c.frames) throw new Error(`ws parsed ${seen} of ${c.frames}`);
  return ns / c.frames;
}

function best(run: () => number, rounds = 7): number {
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < rounds; i++) min = Math.min(min, run());
  return min;
}

setUtf8Accelerator(isUtf8);
console.log('| case | Conduit ns/frame | ws ns/frame | Conduit M frames/s | ratio (ws/Conduit) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const c of CASES) {
  // Fresh copies per round: parsing unmasks in place.
  const pristine = c.build();
  const conduit = best(() => timeConduit(c, Buffer.from(pristine)));
  const ws = best(() => timeWs(c, Buffer.from(pristine)));
  console.log(
    `| ${c.name} | ${conduit.toFixed(1)} | ${ws.toFixed(1)} | ${(1000 / conduit).toFixed(2)} | ${(ws / conduit).toFixed(2)}× |`,
  );
}
