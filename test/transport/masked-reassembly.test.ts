import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WebSocketProtocol } from '../../src/protocol/connection.js';

/** One masked client frame (RFC 6455 §5.2, §5.3). */
function maskedFrame(opcode: number, fin: boolean, payload: Uint8Array, key: Uint8Array): Buffer {
  const length = payload.length;
  let header: Buffer;
  if (length < 126) header = Buffer.from([0, 0x80 | length]);
  else if (length < 0x10000) header = Buffer.from([0, 0x80 | 126, length >> 8, length & 0xff]);
  else {
    header = Buffer.alloc(10);
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(length), 2);
  }
  header[0] = (fin ? 0x80 : 0) | opcode;
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i]! ^= key[i & 3]!;
  return Buffer.concat([header, key, masked]);
}

/** Feeds `wire` to a server-role protocol in pieces of the given sizes; returns the messages. */
function receiveInPieces(wire: Buffer, sizes: number[]): Buffer[] {
  const messages: Buffer[] = [];
  const protocol = new WebSocketProtocol(
    {
      write: () => {},
      onMessage: (data) => messages.push(Buffer.from(data)),
      onError: (error) => assert.fail(error),
    },
    { role: 'server', allocate: Buffer.allocUnsafe },
  );
  let pos = 0;
  for (let i = 0; pos < wire.length; i++) {
    const size = sizes[i % sizes.length]!;
    protocol.receive(Buffer.from(wire.subarray(pos, pos + size)));
    pos += size;
  }
  return messages;
}

describe('masked messages spanning received chunks', () => {
  it('are unmasked into the message buffer with the key rotated to each piece offset', () => {
    const frame = fc.record({
      payload: fc.uint8Array({ minLength: 0, maxLength: 3000 }),
      key: fc.uint8Array({ minLength: 4, maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }),
        (frames, sizes) => {
          const parts = frames.map(({ payload, key }, i) =>
            maskedFrame(i === 0 ? 0x2 : 0x0, i === frames.length - 1, payload, key),
          );
          const expected = Buffer.concat(frames.map(({ payload }) => payload));
          assert.deepEqual(receiveInPieces(Buffer.concat(parts), sizes), [expected]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('validates text unmasked this way, including a 64-bit length frame split anywhere', () => {
    const text = Buffer.from(`${'é🙂a'.repeat(12_000)}`);
    const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    const wire = maskedFrame(0x1, true, text, key);
    for (const sizes of [[65_536], [1, 2, 3], [4093], [70_000, 5]]) {
      assert.deepEqual(receiveInPieces(wire, sizes), [text]);
    }
    const invalid = Buffer.concat([text.subarray(0, 5000), Buffer.from([0xff]), text.subarray(5000)]);
    const errors: string[] = [];
    const protocol = new WebSocketProtocol(
      { write: () => {}, onMessage: () => assert.fail('no message'), onError: (e) => errors.push(e.code) },
      { role: 'server', allocate: Buffer.allocUnsafe },
    );
    protocol.receive(maskedFrame(0x1, true, invalid, key).subarray(0, 6000));
    assert.deepEqual(errors, ['ERR_INVALID_UTF8'], 'fails in the chunk that holds the invalid byte');
  });
});
