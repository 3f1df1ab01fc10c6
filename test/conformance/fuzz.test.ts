/**
 * Fuzzing: random byte streams and mutations of valid streams (bit flips, truncations, insertions,
 * deletions, duplications) fed to both roles, with and without permessage-deflate, in random chunks.
 * Every run must end normally or in one ProtocolError reported through onError with close code 1002,
 * 1007 or 1009 (RFC 6455 §7.1.7) — never in another exception — and memory must stay bounded
 * (RFC 6455 §10.4).
 */
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { ProtocolError } from '../../src/protocol/errors.js';
import type { Extension } from '../../src/protocol/extension.js';
import {
  assertNothingAfterClose,
  decodeText,
  deflateMessage,
  type FrameBuilder,
  fromClient,
  fromServer,
  joinBytes,
  negotiateDeflate,
  OP,
  Peer,
  prng,
  RSV1,
  randomBytes,
  utf8,
} from './harness.js';

const FAILURE_CODES = new Set([1002, 1007, 1009]);
type Role = 'client' | 'server';

function extensionsFor(role: Role, deflate: boolean, takeover: boolean): Extension[] {
  if (!deflate) return [];
  const options = takeover ? { serverNoContextTakeover: false, clientNoContextTakeover: false } : {};
  const pair = negotiateDeflate(options, options);
  return [role === 'client' ? pair.client : pair.server];
}

/** Feeds `stream` and checks the run ended normally or failed cleanly. */
function feedAndCheck(peer: Peer, stream: Uint8Array, seed: number): void {
  try {
    peer.feed(stream, 'random', seed);
  } catch (error) {
    assert.fail(`receive() threw ${error instanceof Error ? error.stack : String(error)}`);
  }
  assertSaneOutcome(peer);
}

/** The invariants of any run, valid or not. */
function assertSaneOutcome(peer: Peer): void {
  const errors = peer.errors;
  assert.ok(errors.length <= 1, 'more than one error');
  const closeEvents = peer.events.filter((e) => e.kind === 'close').length;
  assert.ok(closeEvents + errors.length <= 1, 'both a close and an error, or several closes');
  if (errors.length === 1) {
    const error = errors[0]!;
    assert.ok(error instanceof ProtocolError, 'the error is a ProtocolError');
    assert.ok(
      FAILURE_CODES.has(error.closeCode),
      `close code ${error.closeCode} (${error.code}: ${error.message})`,
    );
    assert.equal(peer.kinds.at(-1), 'error');
    assert.deepEqual(
      peer.closesWritten().map((c) => c.code),
      [error.closeCode],
    );
  }
  if (closeEvents === 1) assert.equal(peer.kinds.at(-1), 'close');
  assertNothingAfterClose(peer);
  peer.assertMessagesIntact();
  const frames = peer.written();
  assert.ok(
    frames.every((f) => f.masked === (peer.role === 'client')),
    'masking of written frames',
  );
  for (const message of peer.messages) if (!message.isBinary) decodeText(message.data);
}

/** A valid stream of messages, pings and maybe a close, as the other role would send it. */
function validStream(builder: FrameBuilder, seed: number, deflate: boolean): Uint8Array {
  const next = prng(seed);
  const frames: Uint8Array[] = [];
  const count = 1 + Math.floor(next() * 8);
  for (let i = 0; i < count; i++) {
    const kind = Math.floor(next() * 5);
    const size = [0, 5, 125, 126, 300, 70_000][Math.floor(next() * 6)]!;
    const text = utf8('κόσμε-汉字-😀-'.repeat(Math.ceil(size / 20)).slice(0, size));
    if (kind === 0) frames.push(builder.ping(randomBytes(Math.min(size, 125), seed + i)));
    else if (kind === 1) frames.push(...builder.fragmented(OP.TEXT, text, [1 + Math.floor(next() * 200)]));
    else if (kind === 2 && deflate)
      frames.push(builder.binary(deflateMessage(randomBytes(size, i)), { rsv: RSV1 }));
    else if (kind === 3 && deflate)
      frames.push(...builder.fragmented(OP.TEXT, deflateMessage(text), [1 + size / 4], { rsv: RSV1 }));
    else frames.push(builder.binary(randomBytes(size, seed + i)));
  }
  if (next() < 0.3) frames.push(builder.close(1000, 'bye'));
  return joinBytes(frames);
}

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(stream: Uint8Array, m: Mutation): Uint8Array {
  const at = stream.length === 0 ? 0 : m.at % stream.length;
  switch (m.kind) {
    case 'flip': {
      const out = stream.slice();
      if (out.length > 0) out[at]! ^= 1 << m.bit;
      return out;
    }
    case 'truncate':
      return stream.slice(0, at);
    case 'insert':
      return joinBytes([stream.subarray(0, at), m.bytes, stream.subarray(at)]);
    case 'delete':
      return joinBytes([stream.subarray(0, at), stream.subarray(at + m.length)]);
    case 'duplicate':
      return joinBytes([stream.subarray(0, at + m.length), stream.subarray(at)]);
  }
}

/** A garbage collector for memory measurements (the test runner does not expose one). */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function memoryInUse(): number {
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
}

describe('fuzz: no crash, clean failures only', () => {
  it('mutated valid streams end normally or with 1002/1007/1009 (RFC 6455 §7.1.7)', () => {
    const setup = fc.record({
      role: fc.constantFrom<Role>('server', 'client'),
      deflate: fc.boolean(),
      takeover: fc.boolean(),
      seed: fc.nat(),
      mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
    });
    fc.assert(
      fc.property(setup, ({ role, deflate, takeover, seed, mutations }) => {
        const builder = role === 'server' ? fromClient : fromServer;
        let stream = validStream(builder, seed, deflate);
        for (const m of mutations) stream = mutate(stream, m);
        const peer = new Peer(role, {
          extensions: extensionsFor(role, deflate, takeover),
          maxMessageSize: 200_000,
        });
        feedAndCheck(peer, stream, seed);
      }),
      { numRuns: 1000 },
    );
  });

  it('streams of frames with arbitrary header fields end normally or with 1002/1007/1009 (RFC 6455 §5.2)', () => {
    const frame = fc.record({
      opcode: fc.integer({ min: 0, max: 15 }),
      fin: fc.boolean(),
      rsv: fc.constantFrom(0, 0, 0, RSV1, 0x20, 0x10, 0x70),
      size: fc.oneof(fc.integer({ min: 0, max: 130 }), fc.integer({ min: 0, max: 70_000 })),
      lengthForm: fc.constantFrom(undefined, undefined, undefined, 16 as const, 64 as const),
      mask: fc.constantFrom(undefined, undefined, undefined, true, false),
      seed: fc.nat(),
    });
    const setup = fc.record({
      role: fc.constantFrom<Role>('server', 'client'),
      deflate: fc.boolean(),
      frames: fc.array(frame, { minLength: 1, maxLength: 12 }),
      seed: fc.nat(),
    });
    fc.assert(
      fc.property(setup, ({ role, deflate, frames, seed }) => {
        const builder = role === 'server' ? fromClient : fromServer;
        const bytes = frames.map((f) => {
          const payload = f.opcode === OP.TEXT ? utf8('é'.repeat(f.size >> 1)) : randomBytes(f.size, f.seed);
          // A forced length form is often non-minimal, or too short for the size: both are fair input.
          const { opcode, fin, rsv, lengthForm, mask } = f;
          return builder.raw({ opcode, fin, rsv, payload, lengthForm, mask });
        });
        const peer = new Peer(role, { extensions: extensionsFor(role, deflate, seed % 2 === 0) });
        feedAndCheck(peer, joinBytes(bytes), seed);
      }),
      { numRuns: 600 },
    );
  });

  it('unmutated valid streams are delivered without any error (RFC 6455 §5)', () => {
    for (let seed = 0; seed < 50; seed++) {
      for (const role of ['server', 'client'] as const) {
        const builder = role === 'server' ? fromClient : fromServer;
        const peer = new Peer(role, { extensions: extensionsFor(role, seed % 2 === 0, seed % 4 === 0) });
        feedAndCheck(peer, validStream(builder, seed, seed % 2 === 0), seed);
        assert.deepEqual(peer.errors, [], `seed ${seed}, ${role}`);
      }
    }
  });

  it('50 MB of random bytes to both roles: clean failures, bounded memory (RFC 6455 §10.4)', () => {
    const gc = collector();
    gc();
    const baseline = memoryInUse();
    let peak = 0;
    const chunk = new Uint8Array(256 * 1024);
    const next = prng(99);
    for (let fed = 0, round = 0; fed < 50 * 1024 * 1024; round++) {
      randomFillSync(chunk);
      const length = 1 + Math.floor(next() * chunk.length);
      const role: Role = round % 2 === 0 ? 'server' : 'client';
      // Half of the streams start with a plausible header, so that parsing gets past the first byte.
      if (round % 4 < 2) {
        chunk[0] = 0x80 | [OP.TEXT, OP.BINARY, OP.PING][round % 3]!;
        chunk[1] = (chunk[1]! & 0x7f) | (role === 'server' ? 0x80 : 0);
      }
      const peer = new Peer(role, { extensions: extensionsFor(role, round % 3 === 0, round % 6 === 0) });
      feedAndCheck(peer, chunk.subarray(0, length), round);
      fed += length;
      if (round % 64 === 0) {
        gc();
        peak = Math.max(peak, memoryInUse() - baseline);
      }
    }
    gc();
    peak = Math.max(peak, memoryInUse() - baseline);
    assert.ok(peak < 64 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MB`);
  });

  it('a long-lived connection receiving 48 MB of valid traffic keeps memory bounded (RFC 6455 §10.4)', () => {
    const gc = collector();
    const peer = new Peer('server');
    const payload = randomBytes(1024 * 1024, 5);
    const message = joinBytes([
      ...fromClient.fragmented(OP.BINARY, payload, [100_000]),
      fromClient.ping('p'),
    ]);
    gc();
    const baseline = memoryInUse();
    let peak = 0;
    for (let i = 0; i < 48; i++) {
      peer.feed(message, 65536, i);
      // The recorder keeps what it receives; drop it so only the protocol's own memory counts.
      peer.reset();
      if (i % 8 === 7) {
        gc();
        peak = Math.max(peak, memoryInUse() - baseline);
      }
    }
    assert.equal(peer.protocol.readyState, 1);
    assert.ok(peak < 64 * 1024 * 1024, `memory grew by ${(peak / 1048576).toFixed(1)} MB`);
  });
});
