/**
 * Autobahn category 9 (large messages) and the limits around them: the default limits accept 16 MiB
 * messages, configured limits close with 1009 (RFC 6455 §7.4.1, §10.4), and malformed lengths and
 * masking are protocol errors (RFC 6455 §5.1, §5.2).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFailed, concat, fromClient, fromServer, OP, Peer, randomBytes } from './harness.js';

const MiB = 1024 * 1024;

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return (
    a !== undefined &&
    Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length))
  );
}

describe('9.1 large messages within the default limits (16 MiB)', () => {
  it('9.1.1 a 16 MiB text message in one frame, 64 KiB chunks, is accepted by default (RFC 6455 §5.2)', () => {
    const payload = new Uint8Array(16 * MiB).fill(0x2a);
    const peer = new Peer('server').feed(fromClient.text(payload), 65536);
    assert.deepEqual(peer.kinds, ['message']);
    assert.equal(peer.messages[0]!.data.length, 16 * MiB);
    assert.equal(peer.messages[0]!.data[16 * MiB - 1], 0x2a);
  });

  it('9.1.2 a 16 MiB binary message in 1 MiB fragments is accepted by default (RFC 6455 §5.4)', () => {
    const payload = randomBytes(16 * MiB, 92);
    const peer = new Peer('client').feed(fromServer.fragmented(OP.BINARY, payload, [MiB]), 'random');
    assert.deepEqual(peer.kinds, ['message']);
    assert.ok(sameBytes(peer.messages[0]!.data, payload));
  });

  it('9.1.3 a 4 MiB message in 64-byte fragments (65536 frames) is accepted by default (RFC 6455 §5.4)', () => {
    const payload = randomBytes(4 * MiB, 93);
    const peer = new Peer('server').feed(fromClient.fragmented(OP.BINARY, payload, [64]), 65536);
    assert.deepEqual(peer.kinds, ['message']);
    assert.ok(sameBytes(peer.messages[0]!.data, payload));
  });

  for (const [i, size] of [64 * 1024, 256 * 1024, MiB, 4 * MiB].entries()) {
    it(`9.1.${4 + i} a ${size / 1024} KiB text message in 1 frame and in 4 KiB fragments (RFC 6455 §5.4)`, () => {
      const payload = new Uint8Array(size).fill(0x61);
      const peer = new Peer('server').feed(
        [fromClient.text(payload), ...fromClient.fragmented(OP.TEXT, payload, [4096])],
        'random',
      );
      assert.deepEqual(
        peer.messages.map((m) => m.data.length),
        [size, size],
      );
    });
  }
});

describe('9.2 size limits close with 1009', () => {
  it('9.2.1 one frame of maxMessageSize + 1 bytes → 1009 (RFC 6455 §7.4.1: message too big)', () => {
    const peer = new Peer('server', { maxMessageSize: 1000 }).feed(fromClient.binary(randomBytes(1001)));
    assertFailed(peer, 1009, 'ERR_MESSAGE_TOO_BIG');
    assert.deepEqual(peer.messages, []);
  });

  it('9.2.2 a message of exactly maxMessageSize bytes is accepted (RFC 6455 §10.4)', () => {
    const peer = new Peer('server', { maxMessageSize: 1000 }).feed(
      fromClient.fragmented(OP.TEXT, new Uint8Array(1000).fill(0x61), [100]),
    );
    assert.equal(peer.messages[0]?.data.length, 1000);
    assert.deepEqual(peer.errors, []);
  });

  it('9.2.3 fragments adding up to maxMessageSize + 1 → 1009, no message (RFC 6455 §7.4.1)', () => {
    const frames = fromClient.fragmented(OP.TEXT, new Uint8Array(1001).fill(0x61), [100]);
    const peer = new Peer('server', { maxMessageSize: 1000 });
    frames.forEach((frame, i) => {
      peer.feed(frame);
      // The 11th fragment is the one that goes over the limit.
      assert.equal(peer.errors.length, i >= 10 ? 1 : 0, `after fragment ${i + 1}`);
    });
    assertFailed(peer, 1009, 'ERR_MESSAGE_TOO_BIG');
  });

  it('9.2.4 the default limit: a 16 MiB + 1 frame fails at its header, before any payload (RFC 6455 §10.4)', () => {
    const header = fromClient.raw({ opcode: OP.BINARY, length: 16 * MiB + 1 });
    const peer = new Peer('server').feed(header);
    assertFailed(peer, 1009);
  });

  it('9.2.5 a frame of maxFrameSize + 1 bytes → 1009 even if the message limit is higher (RFC 6455 §10.4)', () => {
    const peer = new Peer('server', { maxFrameSize: 500, maxMessageSize: 10_000 });
    peer.feed(fromClient.binary(randomBytes(501)).subarray(0, 8));
    assertFailed(peer, 1009, 'ERR_FRAME_TOO_BIG');
  });

  it('9.2.6 frames of maxFrameSize bytes make a larger message within maxMessageSize (RFC 6455 §5.4)', () => {
    const payload = randomBytes(2000);
    const peer = new Peer('server', { maxFrameSize: 500, maxMessageSize: 2000 });
    peer.feed(fromClient.fragmented(OP.BINARY, payload, [500]));
    assert.ok(sameBytes(peer.messages[0]?.data, payload));
  });

  it('9.2.7 a 64-bit length of 2^53 fails with 1009 at the header, without allocating (RFC 6455 §10.4)', () => {
    const header = fromClient.raw({ opcode: OP.BINARY, lengthForm: 64, length: 0, lengthHigh: 0x200000 });
    const peer = new Peer('server').feed(header);
    assertFailed(peer, 1009);
  });

  it('9.2.8 a limit on one message does not carry over to the next (RFC 6455 §5.4)', () => {
    const peer = new Peer('server', { maxMessageSize: 100 });
    peer.feed([
      fromClient.binary(randomBytes(100)),
      fromClient.binary(randomBytes(100)),
      fromClient.text('x'),
    ]);
    assert.deepEqual(
      peer.messages.map((m) => m.data.length),
      [100, 100, 1],
    );
  });
});

describe('9.3 malformed payload lengths', () => {
  // RFC 6455 §5.2: "the minimal number of bytes MUST be used to encode the length".
  const cases: [string, number, 16 | 64][] = [
    ['0 in the 16-bit form', 0, 16],
    ['125 in the 16-bit form', 125, 16],
    ['125 in the 64-bit form', 125, 64],
    ['126 in the 64-bit form', 126, 64],
    ['65535 in the 64-bit form', 65535, 64],
  ];
  cases.forEach(([name, length, lengthForm], i) => {
    it(`9.3.${i + 1} length ${name} → 1002 (RFC 6455 §5.2: minimal length encoding)`, () => {
      const frame = fromClient.raw({ opcode: OP.BINARY, payload: randomBytes(length), lengthForm });
      const peer = new Peer('server').feed(frame);
      assertFailed(peer, 1002, 'ERR_NON_MINIMAL_LENGTH');
      assert.deepEqual(peer.messages, []);
    });
  });

  it('9.3.6 a ping with a non-minimal 16-bit length → 1002, no pong (RFC 6455 §5.2)', () => {
    const peer = new Peer('client').feed(fromServer.raw({ opcode: OP.PING, payload: 'x', lengthForm: 16 }));
    assertFailed(peer, 1002, 'ERR_NON_MINIMAL_LENGTH');
  });

  it('9.3.7 a 64-bit length with its most significant bit set → 1002 (RFC 6455 §5.2)', () => {
    const frame = fromClient.raw({
      opcode: OP.BINARY,
      lengthForm: 64,
      length: 0x10000,
      lengthHigh: 0x80000000,
    });
    const peer = new Peer('server').feed(frame);
    assertFailed(peer, 1002, 'ERR_LENGTH_64BIT');
  });

  it('9.3.8 the same with every other bit set too (0xffff_ffff_ffff_ffff) → 1002 (RFC 6455 §5.2)', () => {
    const frame = fromServer.raw({
      opcode: OP.TEXT,
      lengthForm: 64,
      length: 0xffffffff,
      lengthHigh: 0xffffffff,
    });
    assertFailed(new Peer('client').feed(frame, 1), 1002, 'ERR_LENGTH_64BIT');
  });

  it('9.3.9 the minimal 64-bit form (65536) is accepted (RFC 6455 §5.2)', () => {
    const frame = fromClient.raw({ opcode: OP.BINARY, payload: randomBytes(65536), lengthForm: 64 });
    assert.equal(new Peer('server').feed(frame).messages[0]?.data.length, 65536);
  });
});

/**
 * `role` is fed a valid text, then a frame masked the wrong way for it (RFC 6455 §5.1): the text is
 * delivered, then the connection fails with 1002 and `errorCode`.
 */
function assertDeliveredThenFailed(
  role: 'server' | 'client',
  frames: Uint8Array[],
  delivered: string,
  errorCode: string,
): void {
  const peer = new Peer(role).feed(frames);
  assert.deepEqual(peer.texts, [delivered]);
  assertFailed(peer, 1002, errorCode);
}

describe('9.4 masking direction', () => {
  it('9.4.1 an unmasked data frame from a client → 1002 (RFC 6455 §5.1: a server MUST close)', () => {
    const frames = [fromClient.text('masked ok'), fromClient.text('unmasked', { mask: false })];
    assertDeliveredThenFailed('server', frames, 'masked ok', 'ERR_MASK_REQUIRED');
  });

  it('9.4.2 an unmasked ping from a client → 1002, no pong (RFC 6455 §5.1)', () => {
    const peer = new Peer('server').feed(fromClient.ping('x', { mask: false }));
    assert.equal(peer.writtenOf(OP.PONG).length, 0);
    assertFailed(peer, 1002, 'ERR_MASK_REQUIRED');
  });

  it('9.4.3 an unmasked close from a client → 1002, not an echo (RFC 6455 §5.1)', () => {
    assertFailed(
      new Peer('server').feed(fromClient.close(1000, '', { mask: false })),
      1002,
      'ERR_MASK_REQUIRED',
    );
  });

  it('9.4.4 a masked data frame from a server → 1002 (RFC 6455 §5.1: a client MUST close)', () => {
    const frames = [fromServer.text('plain ok'), fromServer.text('masked', { mask: true })];
    assertDeliveredThenFailed('client', frames, 'plain ok', 'ERR_MASK_FORBIDDEN');
  });

  it('9.4.5 a masked pong from a server → 1002 (RFC 6455 §5.1)', () => {
    assertFailed(new Peer('client').feed(fromServer.pong('x', { mask: true })), 1002, 'ERR_MASK_FORBIDDEN');
  });

  it('9.4.6 a masked frame with an all-zero key is still masked → 1002 to a client (RFC 6455 §5.1)', () => {
    const frame = fromServer.text('zero key', { mask: new Uint8Array(4) });
    assertFailed(new Peer('client').feed(concat(frame)), 1002, 'ERR_MASK_FORBIDDEN');
  });
});
