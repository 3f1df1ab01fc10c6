/**
 * Autobahn category 3: reserved bits. Without a negotiated extension, any RSV bit fails the connection
 * with 1002 (RFC 6455 §5.2); what arrived before the bad frame is delivered, nothing after it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertFailed,
  type Chunking,
  fromClient,
  fromServer,
  OP,
  Peer,
  RSV1,
  RSV2,
  RSV3,
} from './harness.js';

/** The 3-bit RSV field of Autobahn's case descriptions (4 = RSV1, 2 = RSV2, 1 = RSV3) as header bits. */
function rsvField(value: number): number {
  return value << 4;
}

function textBadTextPing(rsv: number, chunking: Chunking): Peer {
  const frames = [
    fromClient.text('Hello, world!'),
    fromClient.text('Hello, world!', { rsv }),
    fromClient.ping('Hello, world!'),
  ];
  const peer = new Peer('server').feed(frames, chunking);
  // The first message is delivered; the ping after the bad frame is neither reported nor answered.
  assert.deepEqual(peer.texts, ['Hello, world!']);
  assert.deepEqual(peer.kinds, ['message', 'error']);
  assert.equal(peer.writtenOf(OP.PONG).length, 0);
  assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
  return peer;
}

describe('3 reserved bits', () => {
  it('3.1 a text frame with RSV = 1 fails the connection with 1002 (RFC 6455 §5.2)', () => {
    const peer = new Peer('server').feed(fromClient.text('Hello, world!', { rsv: rsvField(1) }));
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
    assert.deepEqual(peer.messages, []);
  });

  it('3.2 text, text with RSV = 2, ping (frame by frame): first text only, then 1002 (RFC 6455 §5.2)', () => {
    const frames = [
      fromClient.text('Hello, world!'),
      fromClient.text('Hello, world!', { rsv: rsvField(2) }),
      fromClient.ping('Hello, world!'),
    ];
    const peer = new Peer('server');
    for (const frame of frames) peer.feed(frame);
    assert.deepEqual(peer.texts, ['Hello, world!']);
    assert.equal(peer.writtenOf(OP.PONG).length, 0);
    assertFailed(peer, 1002);
  });

  it('3.3 text, text with RSV = 3, ping in one chunk: first text only, then 1002 (RFC 6455 §5.2)', () => {
    textBadTextPing(rsvField(3), 'whole');
  });

  it('3.4 text, text with RSV = 4, ping in 1-byte chunks: first text only, then 1002 (RFC 6455 §5.2)', () => {
    textBadTextPing(rsvField(4), 1);
  });

  it('3.5 a binary frame with RSV = 5 fails the connection with 1002 (RFC 6455 §5.2)', () => {
    const peer = new Peer('server').feed(
      fromClient.binary(new Uint8Array([0, 1, 2, 0xff]), { rsv: rsvField(5) }),
    );
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
  });

  it('3.6 a ping with RSV = 6 fails the connection with 1002 and is not answered (RFC 6455 §5.2)', () => {
    const peer = new Peer('server').feed(fromClient.ping('Hello, world!', { rsv: rsvField(6) }));
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
    assert.equal(peer.writtenOf(OP.PONG).length, 0);
  });

  it('3.7 a close frame with RSV = 7 fails the connection with 1002, not a normal echo (RFC 6455 §5.2)', () => {
    const peer = new Peer('server').feed(fromClient.close(1000, '', { rsv: rsvField(7) }));
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
  });

  describe('3.8 each reserved bit on each frame type, for both roles', () => {
    const bits = { RSV1, RSV2, RSV3 };
    const frameTypes = {
      text: OP.TEXT,
      binary: OP.BINARY,
      ping: OP.PING,
      pong: OP.PONG,
      close: OP.CLOSE,
    };
    let n = 0;
    for (const [bitName, bit] of Object.entries(bits)) {
      for (const [typeName, opcode] of Object.entries(frameTypes)) {
        for (const role of ['server', 'client'] as const) {
          n++;
          it(`3.8.${n} ${bitName} on a ${typeName} frame to a ${role} → 1002 (RFC 6455 §5.2)`, () => {
            const payload = opcode === OP.CLOSE ? new Uint8Array([0x03, 0xe8]) : 'payload';
            const peer = new Peer(role);
            const builder = role === 'server' ? fromClient : fromServer;
            peer.feed([
              builder.text('before'),
              builder.raw({ opcode, payload, rsv: bit }),
              builder.text('after'),
            ]);
            assert.deepEqual(peer.texts, ['before']);
            assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
          });
        }
      }
    }
  });

  it('3.9 RSV1 on a continuation frame fails with 1002 and the message is not delivered (RFC 6455 §5.2)', () => {
    const frames = [fromClient.text('frag', { fin: false }), fromClient.cont('ment', { rsv: RSV1 })];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.messages, []);
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
  });
});
