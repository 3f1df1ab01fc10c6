/**
 * Autobahn category 6, differential: random mixes of ASCII runs, valid characters of every length and
 * broken sequences, at every alignment and under random framing and chunking, are accepted exactly
 * when they are well-formed UTF-8 (RFC 3629 §3), and rejected with 1007 in the very chunk that holds
 * the first byte that cannot continue a valid sequence (RFC 6455 §8.1). The reference is the WHATWG
 * decoder of the runtime, fed one byte at a time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { Role } from '../../src/protocol/types.js';
import { fromClient, fromServer, joinBytes, OP, Peer } from './harness.js';

/** Index of the first byte the reference decoder rejects, `length` if only the end is missing, or -1. */
function referenceVerdict(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      decoder.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return i;
    }
  }
  try {
    decoder.decode();
    return -1;
  } catch {
    return bytes.length;
  }
}

const encoder = new TextEncoder();
const codePoint = (min: number, max: number) =>
  fc.integer({ min, max }).map((cp) => encoder.encode(String.fromCodePoint(cp)));

/** Pieces of text: mostly valid, some broken, with ASCII runs long enough for word-at-a-time paths. */
const segment = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }).map((n) => new Uint8Array(n).fill(0x41)) },
  { weight: 2, arbitrary: codePoint(0x80, 0x7ff) },
  { weight: 2, arbitrary: fc.oneof(codePoint(0x800, 0xd7ff), codePoint(0xe000, 0xffff)) },
  { weight: 2, arbitrary: codePoint(0x10000, 0x10ffff) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Uint8Array.of(0xed, 0xa0, 0x80),
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80),
      Uint8Array.of(0xc0, 0xaf),
      Uint8Array.of(0xe0, 0x80, 0xaf),
      Uint8Array.of(0xf0, 0x8f, 0xbf, 0xbf),
      Uint8Array.of(0xf8, 0x88, 0x80, 0x80, 0x80),
      Uint8Array.of(0xe2, 0x82),
      Uint8Array.of(0xff),
    ),
  },
);

const text = fc.array(segment, { maxLength: 40 }).map((parts) => joinBytes(parts));
// Valid pieces only: a concatenation of well-formed pieces is well-formed.
const validText = fc
  .array(segment, { maxLength: 40 })
  .map((parts) => joinBytes(parts.filter((p) => referenceVerdict(p) === -1)));

/** Feeds each piece as a view at `offset` into a larger buffer, so every alignment is exercised. */
function feedAligned(peer: Peer, pieces: Uint8Array[], offset: number): number {
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const host = new Uint8Array(piece.length + 8);
    const at = (offset + i) % 8;
    host.set(piece, at);
    peer.protocol.receive(host.subarray(at, at + piece.length));
    if (peer.errors.length > 0) return i;
  }
  return -1;
}

/** Cuts a stream at the given offsets (sorted, deduplicated, inside the stream). */
function cutAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, stream.length]) {
    if (point > start) pieces.push(stream.subarray(start, point));
    start = Math.max(start, point);
  }
  return pieces;
}

describe('6.25 UTF-8 differential properties', () => {
  for (const role of ['server', 'client'] as const satisfies Role[]) {
    const builder = role === 'server' ? fromClient : fromServer;

    it(`6.25.${role === 'server' ? 1 : 2} a ${role}: one text frame, random cuts and alignment, accepted iff well-formed, failing in the right chunk (RFC 6455 §8.1)`, () => {
      fc.assert(
        fc.property(text, fc.array(fc.nat(), { maxLength: 6 }), fc.nat(7), (bytes, cuts, offset) => {
          const frame = builder.text(bytes);
          const header = frame.length - bytes.length;
          const pieces = cutAt(frame, cuts);
          const peer = new Peer(role);
          const failedPiece = feedAligned(peer, pieces, offset);
          const bad = referenceVerdict(bytes);
          if (bad < 0) {
            assert.deepEqual(peer.messages, [{ data: bytes, isBinary: false }]);
            return;
          }
          assert.equal(peer.errors[0]?.closeCode, 1007);
          // The piece holding stream offset header + bad (or the last piece, for a truncated text).
          let end = 0;
          const expected = pieces.findIndex((p) => {
            end += p.length;
            return end > Math.min(header + bad, frame.length - 1);
          });
          assert.equal(failedPiece, expected, `invalid at payload byte ${bad}`);
        }),
        { numRuns: 800 },
      );
    });
  }

  it('6.25.3 valid text in random fragments with random chunking is delivered unchanged (RFC 6455 §5.4, §8.1)', () => {
    fc.assert(
      fc.property(
        validText,
        fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1 }),
        fc.nat(),
        (bytes, sizes, seed) => {
          const peer = new Peer('server').feed(fromClient.fragmented(OP.TEXT, bytes, sizes), 'random', seed);
          assert.deepEqual(peer.messages, [{ data: bytes, isBinary: false }]);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('6.25.4 invalid text in random fragments always fails with 1007 and delivers nothing (RFC 6455 §8.1)', () => {
    fc.assert(
      fc.property(text, fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1 }), (bytes, sizes) => {
        fc.pre(referenceVerdict(bytes) >= 0);
        const peer = new Peer('client').feed(fromServer.fragmented(OP.TEXT, bytes, sizes), 1);
        assert.deepEqual(peer.messages, []);
        assert.equal(peer.errors[0]?.closeCode, 1007);
      }),
      { numRuns: 400 },
    );
  });
});
