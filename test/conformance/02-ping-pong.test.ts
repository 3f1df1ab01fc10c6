/**
 * Autobahn category 2: pings and pongs (RFC 6455 §5.5.2, §5.5.3).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFailed, fromClient, fromServer, OP, Peer, randomBytes, utf8 } from './harness.js';

function pongsWritten(peer: Peer): Uint8Array[] {
  return peer.writtenOf(OP.PONG).map((f) => f.payload);
}

function pingThenPong(payload: Uint8Array, chunking: 'whole' | 1 = 'whole'): Peer {
  const peer = new Peer('server').feed(fromClient.ping(payload), chunking);
  assert.deepEqual(peer.kinds, ['ping']);
  assert.deepEqual(peer.events[0], { kind: 'ping', payload });
  // RFC 6455 §5.5.3: the pong carries the "Application data" of the ping it answers.
  assert.deepEqual(pongsWritten(peer), [payload]);
  assert.equal(peer.written().length, 1);
  return peer;
}

describe('2 pings and pongs', () => {
  it('2.1 a ping without payload is answered by a pong without payload (RFC 6455 §5.5.2)', () => {
    pingThenPong(new Uint8Array(0));
  });

  it('2.2 a ping with a small text payload is answered with the same payload (RFC 6455 §5.5.3)', () => {
    pingThenPong(utf8('Hello, world!'));
  });

  it('2.3 a ping with a binary payload is answered with the same bytes (RFC 6455 §5.5.3)', () => {
    pingThenPong(new Uint8Array([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]));
  });

  it('2.4 a ping with a 125-byte payload is answered (RFC 6455 §5.5: control payload <= 125)', () => {
    pingThenPong(randomBytes(125));
  });

  it('2.5 a ping with a 126-byte payload fails the connection with 1002 (RFC 6455 §5.5)', () => {
    const peer = new Peer('server').feed(fromClient.ping(randomBytes(126)));
    assertFailed(peer, 1002, 'ERR_CONTROL_TOO_LONG');
    assert.deepEqual(pongsWritten(peer), []);
  });

  it('2.5.1 a ping announcing 126 bytes fails at its header, before the payload (RFC 6455 §5.5)', () => {
    const frame = fromClient.ping(randomBytes(126));
    const peer = new Peer('server').feed(frame.subarray(0, 8));
    assertFailed(peer, 1002);
  });

  it('2.6 a 125-byte ping delivered one byte at a time is answered (RFC 6455 §5.5.2)', () => {
    pingThenPong(randomBytes(125, 3), 1);
  });

  it('2.7 an unsolicited pong without payload is accepted and not answered (RFC 6455 §5.5.3)', () => {
    const peer = new Peer('server').feed(fromClient.pong());
    assert.deepEqual(peer.kinds, ['pong']);
    assert.equal(peer.writes.length, 0);
  });

  it('2.8 an unsolicited pong with payload is accepted and not answered (RFC 6455 §5.5.3)', () => {
    const peer = new Peer('server').feed(fromClient.pong('unsolicited pong payload'));
    assert.deepEqual(peer.events, [{ kind: 'pong', payload: utf8('unsolicited pong payload') }]);
    assert.equal(peer.writes.length, 0);
  });

  it('2.9 an unsolicited pong followed by a ping: only the ping is answered (RFC 6455 §5.5.3)', () => {
    const peer = new Peer('server').feed([fromClient.pong('unsolicited'), fromClient.ping('ping payload')]);
    assert.deepEqual(peer.kinds, ['pong', 'ping']);
    assert.deepEqual(pongsWritten(peer), [utf8('ping payload')]);
  });

  it('2.10 ten pings in a row are each answered, in order (RFC 6455 §5.5.2)', () => {
    const pings = Array.from({ length: 10 }, (_, i) => fromClient.ping(`payload-${i}`));
    const peer = new Peer('server').feed(pings);
    assert.deepEqual(
      pongsWritten(peer),
      pings.map((_, i) => utf8(`payload-${i}`)),
    );
  });

  it('2.11 ten pings in a row, chopped into 1-byte chunks, are each answered (RFC 6455 §5.5.2)', () => {
    const pings = Array.from({ length: 10 }, (_, i) => fromClient.ping(`payload-${i}`));
    const peer = new Peer('server').feed(pings, 1);
    assert.equal(pongsWritten(peer).length, 10);
    assert.deepEqual(pongsWritten(peer)[9], utf8('payload-9'));
  });

  it('2.12 a ping after a close frame is ignored: no pong (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed([fromClient.close(1000), fromClient.ping('late')]);
    assert.deepEqual(peer.kinds, ['close']);
    assert.deepEqual(pongsWritten(peer), []);
    assert.equal(peer.written().length, 1);
  });

  it("2.13 a ping arriving after our close, before the peer's close, is still answered (RFC 6455 §5.5.2)", () => {
    // §5.5.2: a pong is owed "unless it already received a Close frame"; §5.5.1 only forbids *data*
    // frames after sending a close.
    const peer = new Peer('server');
    peer.protocol.close(1000);
    peer.feed(fromClient.ping('after our close'));
    assert.deepEqual(pongsWritten(peer), [utf8('after our close')]);
    peer.feed([fromClient.close(1000), fromClient.ping('after both closes')]);
    assert.deepEqual(pongsWritten(peer), [utf8('after our close')]);
    assert.equal(peer.writtenOf(OP.CLOSE).length, 1);
  });

  it('2.14 the client role answers a server ping with a masked pong (RFC 6455 §5.3, §5.5.2)', () => {
    const peer = new Peer('client').feed(fromServer.ping('from server'));
    const [pong] = peer.written();
    assert.equal(pong!.opcode, OP.PONG);
    assert.equal(pong!.masked, true);
    assert.deepEqual(pong!.payload, utf8('from server'));
  });

  it('2.15 ping() and pong() refuse payloads over 125 bytes and write nothing (RFC 6455 §5.5)', () => {
    const peer = new Peer('server');
    assert.throws(() => peer.protocol.ping(new Uint8Array(126)), RangeError);
    assert.throws(() => peer.protocol.pong(new Uint8Array(126)), RangeError);
    assert.equal(peer.protocol.ping(new Uint8Array(125)), true);
    assert.equal(peer.written().length, 1);
  });
});
