/**
 * Autobahn category 1: framing. Text (1.1) and binary (1.2) messages of every length form, in one chunk
 * and in chunks of 1 byte, 997 bytes and random sizes, in both roles; several frames per chunk (1.3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Chunking, concat, fromClient, fromServer, Peer, randomBytes } from './harness.js';

// RFC 6455 §5.2: 0–125 use the 7-bit length, 126–65535 the 16-bit form, larger payloads the 64-bit form.
const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536, 1 << 20];
const CHUNKINGS: { name: string; chunking: Chunking }[] = [
  { name: 'one chunk', chunking: 'whole' },
  { name: 'chunks of 1 byte', chunking: 1 },
  { name: 'chunks of 997 bytes', chunking: 997 },
  { name: 'random chunks', chunking: 'random' },
];

function payloadOf(length: number, binary: boolean): Uint8Array {
  return binary ? randomBytes(length) : new Uint8Array(length).fill(0x2a);
}

function caseMatrix(group: string, binary: boolean): void {
  for (const role of ['server', 'client'] as const) {
    describe(`${group} ${binary ? 'binary' : 'text'} messages received by a ${role}`, () => {
      let n = 0;
      for (const length of LENGTHS) {
        for (const { name, chunking } of CHUNKINGS) {
          // One byte per receive() over a megabyte adds nothing the 64 KiB cases do not cover.
          if (chunking === 1 && length > 65536) continue;
          n++;
          // RFC 6455 §5.2 (payload length forms), §5.6 (data frames).
          it(`${group}.${n} ${length} bytes in ${name} arrive intact (RFC 6455 §5.2)`, () => {
            const payload = payloadOf(length, binary);
            const builder = role === 'server' ? fromClient : fromServer;
            const frame = binary ? builder.binary(payload) : builder.text(payload);
            const peer = new Peer(role).feed(frame, chunking, length + n);
            assert.deepEqual(peer.kinds, ['message']);
            const [message] = peer.messages;
            assert.equal(message!.isBinary, binary);
            assert.equal(message!.data.length, length);
            assert.ok(Buffer.from(message!.data).equals(Buffer.from(payload)), 'payload differs');
            assert.equal(peer.writes.length, 0, 'nothing should be written in reply to a data message');
            assert.equal(peer.protocol.readyState, 1);
          });
        }
      }
    });
  }
}

caseMatrix('1.1', false);
caseMatrix('1.2', true);

describe('1.3 several frames per chunk and frame boundaries anywhere', () => {
  // RFC 6455 §5.2: frames follow each other directly; a chunk may hold many frames or part of one.
  it('1.3.1 100 messages of increasing size in one chunk are all delivered in order (RFC 6455 §5.2)', () => {
    const payloads = Array.from({ length: 100 }, (_, i) => randomBytes(i * 7, i));
    const frames = payloads.map((p, i) =>
      i % 2 ? fromClient.binary(p) : fromClient.text(p.map(() => 0x61)),
    );
    const peer = new Peer('server').feed(frames);
    assert.equal(peer.messages.length, 100);
    // RFC 6455 §5.3: unmasking the later frames in place must not touch the earlier messages.
    peer.assertMessagesIntact();
    peer.messages.forEach((m, i) => {
      assert.equal(m.isBinary, i % 2 === 1);
      assert.equal(m.data.length, i * 7);
    });
  });

  it('1.3.2 a two-frame stream split at every byte position yields both messages (RFC 6455 §5.2)', () => {
    const stream = concat(fromClient.text('first message'), fromClient.binary(randomBytes(300)));
    for (let cut = 0; cut <= stream.length; cut++) {
      const peer = new Peer('server').feed(stream, [cut === 0 ? stream.length : cut, stream.length]);
      assert.deepEqual(peer.kinds, ['message', 'message'], `cut at ${cut}`);
      assert.equal(peer.texts[0], 'first message');
      assert.equal(peer.messages[1]!.data.length, 300);
    }
  });

  it('1.3.3 a 64-bit-length header split over ten chunks of one byte is reassembled (RFC 6455 §5.2)', () => {
    const frame = fromClient.binary(randomBytes(70000));
    const peer = new Peer('server').feed(frame, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 70000]);
    assert.equal(peer.messages[0]!.data.length, 70000);
  });

  it('1.3.4 the client role reads unmasked server frames of all length forms back to back (RFC 6455 §5.1)', () => {
    const frames = LENGTHS.slice(0, 7).map((length) => fromServer.binary(randomBytes(length)));
    const peer = new Peer('client').feed(frames, 'random');
    assert.deepEqual(
      peer.messages.map((m) => m.data.length),
      LENGTHS.slice(0, 7),
    );
  });

  it('1.3.5 empty chunks anywhere in the stream change nothing (RFC 6455 §5.2)', () => {
    const stream = concat(fromClient.text('abc'), fromClient.ping('p'), fromClient.binary(randomBytes(200)));
    const peer = new Peer('server');
    peer.protocol.receive(new Uint8Array(0));
    for (const piece of [
      stream.subarray(0, 3),
      stream.subarray(3, 3),
      stream.subarray(3, 20),
      stream.subarray(20),
    ]) {
      peer.protocol.receive(piece.slice());
      peer.protocol.receive(new Uint8Array(0));
    }
    assert.deepEqual(peer.kinds, ['message', 'ping', 'message']);
  });
});
