/**
 * Autobahn category 10 and what the other categories do not reach: automatic pongs, masking of what
 * each role sends (RFC 6455 §5.1, §5.3), the shape of sent fragments, and failure reporting.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocketProtocol } from '../../src/protocol/connection.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import { PreparedMessage } from '../../src/protocol/prepared-message.js';
import {
  assertFailed,
  decodeFrames,
  fromClient,
  fromServer,
  OP,
  Peer,
  randomBytes,
  utf8,
} from './harness.js';

describe('10.1 automatic pong', () => {
  it('10.1.1 with autoPong false a ping is reported but not answered (RFC 6455 §5.5.2)', () => {
    const peer = new Peer('server', { autoPong: false }).feed(fromClient.ping('manual'));
    assert.deepEqual(peer.events, [{ kind: 'ping', payload: utf8('manual') }]);
    assert.equal(peer.writes.length, 0);
    peer.protocol.pong('manual');
    assert.deepEqual(
      peer.writtenOf(OP.PONG).map((f) => f.payload),
      [utf8('manual')],
    );
  });

  it('10.1.2 autoPong is on by default, for the client role too (RFC 6455 §5.5.2)', () => {
    const peer = new Peer('client').feed(fromServer.ping('auto'));
    assert.deepEqual(
      peer.writtenOf(OP.PONG).map((f) => f.payload),
      [utf8('auto')],
    );
  });
});

describe('10.2 masking of sent frames', () => {
  it('10.2.1 the client role masks every frame, with a different key each time (RFC 6455 §5.3)', () => {
    const peer = new Peer('client');
    for (let i = 0; i < 50; i++) peer.protocol.send(`message ${i}`);
    peer.protocol.ping('p');
    peer.protocol.close(1000);
    const frames = peer.written();
    assert.ok(frames.every((f) => f.masked));
    const keys = new Set(frames.map((f) => Buffer.from(f.maskKey!).toString('hex')));
    // RFC 6455 §5.3: keys must be unpredictable; 52 random 32-bit keys practically never collide.
    assert.ok(keys.size >= 50, `only ${keys.size} distinct keys in ${frames.length} frames`);
    assert.equal(new TextDecoder().decode(frames[7]!.payload), 'message 7');
  });

  it('10.2.2 two client connections do not reuse the same keys (RFC 6455 §5.3)', () => {
    const a = new Peer('client');
    const b = new Peer('client');
    a.protocol.send('same');
    b.protocol.send('same');
    assert.notDeepEqual(a.written()[0]!.maskKey, b.written()[0]!.maskKey);
  });

  it('10.2.3 the randomFill option is the source of masking keys (RFC 6455 §5.3, §10.3)', () => {
    let calls = 0;
    const fill = (target: Uint8Array): void => {
      calls++;
      for (let i = 0; i < target.length; i++) target[i] = (i * 7 + 3) & 0xff;
    };
    const peer = new Peer('client', { randomFill: fill });
    peer.protocol.send(randomBytes(10_000));
    peer.protocol.send('x');
    assert.ok(calls >= 1);
    const [first, second] = peer.written();
    assert.deepEqual(first!.maskKey, Uint8Array.of(3, 10, 17, 24));
    assert.deepEqual(second!.maskKey, Uint8Array.of(31, 38, 45, 52));
    assert.deepEqual(first!.payload, randomBytes(10_000));
  });

  it('10.2.4 the server role never masks: data, fragments, ping, pong, close (RFC 6455 §5.1)', () => {
    const peer = new Peer('server');
    peer.protocol.send('text');
    peer.protocol.send(randomBytes(70_000));
    peer.protocol.send(randomBytes(300), { fragmentSize: 100 });
    peer.protocol.ping('a');
    peer.protocol.pong('b');
    peer.protocol.close(1000);
    const frames = peer.written();
    assert.equal(frames.length, 8);
    assert.ok(frames.every((f) => !f.masked && f.rsv === 0));
  });

  it('10.2.5 large client payloads are masked correctly across every length form (RFC 6455 §5.3)', () => {
    const peer = new Peer('client');
    const sizes = [0, 1, 3, 4, 5, 125, 126, 65535, 65536, 100_003];
    for (const size of sizes) peer.protocol.send(randomBytes(size, size + 1));
    const frames = peer.written();
    sizes.forEach((size, i) => {
      assert.deepEqual(frames[i]!.payload, randomBytes(size, size + 1), `size ${size}`);
    });
    // The caller's payload must not be masked in place.
    const payload = randomBytes(1000, 5);
    peer.protocol.send(payload);
    assert.deepEqual(payload, randomBytes(1000, 5));
  });
});

describe('10.3 shape of sent messages', () => {
  it('10.3.1 strings are text, bytes are binary, and `binary` overrides it (RFC 6455 §5.6)', () => {
    const peer = new Peer('server');
    peer.protocol.send('s');
    peer.protocol.send(Uint8Array.of(1));
    peer.protocol.send('as binary', { binary: true });
    peer.protocol.send(utf8('as text'), { binary: false });
    assert.deepEqual(
      peer.written().map((f) => f.opcode),
      [OP.TEXT, OP.BINARY, OP.BINARY, OP.TEXT],
    );
  });

  it('10.3.2 fragmentSize splits a message into opcode + continuations, FIN on the last only (RFC 6455 §5.4)', () => {
    const peer = new Peer('client');
    const text = 'κόσμε, fragmented mid-character';
    peer.protocol.send(text, { fragmentSize: 3 });
    const frames = peer.written();
    assert.equal(frames[0]!.opcode, OP.TEXT);
    assert.ok(frames.slice(1).every((f) => f.opcode === OP.CONT));
    assert.deepEqual(
      frames.map((f) => f.fin),
      frames.map((_, i) => i === frames.length - 1),
    );
    assert.ok(frames.every((f) => f.payload.length <= 3));
    // A server reading these frames gets the text back.
    const server = new Peer('server').feed(peer.writes);
    assert.deepEqual(server.texts, [text]);
  });

  it('10.3.3 sendPrepared writes the same frame bytes to every server connection (RFC 6455 §5.2)', () => {
    const message = new PreparedMessage('broadcast');
    const a = new Peer('server');
    const b = new Peer('server');
    a.protocol.sendPrepared(message);
    b.protocol.sendPrepared(message);
    assert.deepEqual(a.writes, b.writes);
    assert.deepEqual(decodeFrames(a.writes[0]!)[0]!.payload, utf8('broadcast'));
    const client = new Peer('client');
    client.protocol.sendPrepared(new PreparedMessage(Uint8Array.of(1, 2, 3)));
    const [frame] = client.written();
    assert.equal(frame!.masked, true);
    assert.equal(frame!.opcode, OP.BINARY);
  });
});

describe('10.3 (continued) the text we send is UTF-8', () => {
  it('10.3.4 a string with a lone surrogate goes out as valid UTF-8 (U+FFFD) (RFC 6455 §5.6)', () => {
    const peer = new Peer('server');
    peer.protocol.send('a\ud800b');
    assert.deepEqual(peer.written()[0]!.payload, Uint8Array.of(0x61, 0xef, 0xbf, 0xbd, 0x62));
  });

  it('10.3.5 bytes that are not UTF-8 are refused as a text message, nothing is written (RFC 6455 §5.6)', () => {
    // §5.6: "the whole message MUST contain valid UTF-8"; sending it anyway makes the peer fail the
    // connection with 1007 (§8.1), so the API must refuse it like it refuses close code 1005.
    for (const role of ['server', 'client'] as const) {
      const peer = new Peer(role);
      const bad = Uint8Array.of(0x61, 0xed, 0xa0, 0x80);
      assert.throws(() => peer.protocol.send(bad, { binary: false }));
      assert.throws(() => peer.protocol.sendPrepared(new PreparedMessage(bad, { binary: false })));
      assert.equal(peer.writes.length, 0, role);
    }
  });
});

describe('10.4 failure reporting', () => {
  it('10.4.1 fail() with a policy error writes a close with its code and reports it (RFC 6455 §7.1.7)', () => {
    const peer = new Peer('server');
    peer.protocol.fail(new ProtocolError('ERR_INVALID_STATE', 'policy', 1008));
    assertFailed(peer, 1008, 'ERR_INVALID_STATE');
    peer.protocol.fail(new ProtocolError('ERR_INVALID_STATE', 'again', 1011));
    assert.equal(peer.errors.length, 1);
  });

  it('10.4.2 an exception thrown by the handler propagates and is not turned into a close', () => {
    const boom = new Error('application bug');
    const protocol = new WebSocketProtocol(
      {
        write: () => {},
        onMessage: () => {
          throw boom;
        },
      },
      { role: 'server' },
    );
    assert.throws(() => protocol.receive(fromClient.text('x')), boom);
  });

  it('10.4.3 a protocol error reaches onError and never escapes receive() (RFC 6455 §7.1.7)', () => {
    const protocol = new WebSocketProtocol({ write: () => {}, onMessage: () => {} }, { role: 'server' });
    assert.doesNotThrow(() => protocol.receive(fromClient.raw({ opcode: 3 })));
    assert.equal(protocol.readyState, 3);
  });

  it('10.4.4 after connectionLost nothing is sent and nothing is parsed (RFC 6455 §7.1.1)', () => {
    const peer = new Peer('server');
    peer.protocol.connectionLost();
    assert.equal(peer.protocol.readyState, 3);
    assert.equal(peer.protocol.send('x'), false);
    peer.feed(fromClient.text('late'));
    assert.deepEqual(peer.events, []);
    assert.equal(peer.writes.length, 0);
  });
});
