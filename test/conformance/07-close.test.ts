/**
 * Autobahn category 7: the closing handshake (RFC 6455 §5.5.1, §7). Close codes and reasons are
 * validated, valid closes are echoed with the same code, nothing is sent after a close frame, and the
 * state goes OPEN → CLOSING → CLOSED.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertEchoedClose,
  assertFailed,
  assertNothingAfterClose,
  concat,
  fromClient,
  fromServer,
  hex,
  OP,
  Peer,
  randomBytes,
  utf8,
} from './harness.js';

/**
 * Codes a peer may put on the wire, written out from the RFC and the IANA registry rather than taken
 * from the code under test: 1000–1003, 1007–1011 (RFC 6455 §7.4.1), 1012–1014 (IANA), 3000–4999
 * (§7.4.2). 1004 is reserved; 1005, 1006 and 1015 MUST NOT be sent; the rest of 1000–2999 is unassigned.
 */
function isSendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

function closeWith(code: number): Peer {
  return new Peer('server').feed(fromClient.close(code));
}

describe('7.1 basic closing handshake', () => {
  it('7.1.1 a message then a close: message delivered, close echoed with 1000 (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed([fromClient.text('Hello World!'), fromClient.close(1000)]);
    assert.deepEqual(peer.kinds, ['message', 'close']);
    assert.deepEqual(peer.events[1], { kind: 'close', code: 1000, reason: '' });
    assertEchoedClose(peer, 1000);
  });

  it('7.1.2 a second close frame is ignored: one close event, one close written (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed([fromClient.close(1000), fromClient.close(1001)]);
    assert.deepEqual(peer.kinds, ['close']);
    assertEchoedClose(peer, 1000);
  });

  it('7.1.3 a ping after a close is ignored (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed([fromClient.close(1000), fromClient.ping('Hello World!')]);
    assert.deepEqual(peer.kinds, ['close']);
    assertEchoedClose(peer, 1000);
  });

  it('7.1.4 a text message after a close is ignored (RFC 6455 §5.5.1: no data after close)', () => {
    const peer = new Peer('server').feed([fromClient.close(1000), fromClient.text('Hello World!')], 1);
    assert.deepEqual(peer.kinds, ['close']);
    assertEchoedClose(peer, 1000);
  });

  it('7.1.5 first fragment, close, last fragment: no message, close echoed (RFC 6455 §5.5.1)', () => {
    const frames = [
      fromClient.text('fragment1', { fin: false }),
      fromClient.close(1000),
      fromClient.cont('fragment2'),
    ];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.kinds, ['close']);
    assertEchoedClose(peer, 1000);
  });

  it('7.1.6 a 256 KiB message, a ping and a close in one chunk: all handled in order (RFC 6455 §5.5.1)', () => {
    const big = randomBytes(256 * 1024);
    const peer = new Peer('server').feed([
      fromClient.binary(big),
      fromClient.ping('p'),
      fromClient.close(1000),
    ]);
    assert.deepEqual(peer.kinds, ['message', 'ping', 'close']);
    assert.deepEqual(
      peer.written().map((f) => f.opcode),
      [OP.PONG, OP.CLOSE],
    );
  });
});

describe('7.1 (continued) the client role', () => {
  it('7.1.7 a client echoes a server close, masked, with the same code (RFC 6455 §5.1, §5.5.1)', () => {
    const peer = new Peer('client').feed(fromServer.close(4000, 'server says bye'), 1);
    assert.deepEqual(peer.events, [{ kind: 'close', code: 4000, reason: 'server says bye' }]);
    assert.equal(peer.written()[0]!.masked, true);
    assertEchoedClose(peer, 4000);
    assert.equal(peer.protocol.readyState, 3);
  });
});

describe('7.2 states and what may be sent', () => {
  it('7.2.1 a local close: OPEN → CLOSING; the peer reply: CLOSING → CLOSED (RFC 6455 §7.1.2–§7.1.4)', () => {
    const peer = new Peer('server');
    assert.equal(peer.protocol.readyState, 1);
    assert.equal(peer.protocol.close(1000, 'bye'), true);
    assert.equal(peer.protocol.readyState, 2);
    peer.feed(fromClient.close(1000));
    assert.equal(peer.protocol.readyState, 3);
    assert.deepEqual(peer.closesWritten(), [{ code: 1000, reason: 'bye' }]);
    assert.deepEqual(peer.events, [{ kind: 'close', code: 1000, reason: '' }]);
  });

  it('7.2.2 after our close, send/ping/pong/close return false and write nothing (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('client');
    peer.protocol.close(1001);
    assert.equal(peer.protocol.send('data'), false);
    assert.equal(peer.protocol.send(new Uint8Array(3)), false);
    assert.equal(peer.protocol.ping('p'), false);
    assert.equal(peer.protocol.pong('p'), false);
    assert.equal(peer.protocol.close(1000), false);
    assert.equal(peer.written().length, 1);
    assertNothingAfterClose(peer);
  });

  it('7.2.3 after echoing a peer close, nothing more is written (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed(fromClient.close(1000));
    assert.equal(peer.protocol.readyState, 3);
    assert.equal(peer.protocol.send('late'), false);
    assert.equal(peer.protocol.ping(), false);
    peer.feed(fromClient.ping('late ping'));
    assert.equal(peer.written().length, 1);
  });

  it('7.2.4 a reply with another code completes the handshake without a second close (RFC 6455 §7.1.4)', () => {
    const peer = new Peer('server');
    peer.protocol.close(1000);
    peer.feed(fromClient.close(3001, 'mine'));
    assert.deepEqual(peer.events, [{ kind: 'close', code: 3001, reason: 'mine' }]);
    assert.deepEqual(peer.closesWritten(), [{ code: 1000, reason: '' }]);
    assert.equal(peer.protocol.closeCode, 3001);
  });

  it('7.2.5 close() without a code sends an empty close payload (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server');
    peer.protocol.close();
    assert.deepEqual(peer.written()[0]!.payload, new Uint8Array(0));
  });

  it('7.2.6 after a failure, received bytes are ignored and nothing more is written (RFC 6455 §7.1.7)', () => {
    const peer = new Peer('server').feed(fromClient.raw({ opcode: 3 }));
    peer.feed([fromClient.text('x'), fromClient.ping(), fromClient.close(1000)]);
    assertFailed(peer, 1002);
  });
});

describe('7.3 close payloads', () => {
  it('7.3.1 an empty close is answered by an empty close; the code reads 1005 (RFC 6455 §7.1.5)', () => {
    const peer = new Peer('server').feed(fromClient.close());
    assert.deepEqual(peer.events, [{ kind: 'close', code: 1005, reason: '' }]);
    const [reply] = peer.written();
    assert.equal(reply!.opcode, OP.CLOSE);
    assert.equal(reply!.payload.length, 0);
    assert.equal(peer.protocol.closeCode, 1005);
  });

  it('7.3.2 a close payload of 1 byte → 1002 (RFC 6455 §5.5.1: a body starts with a 2-byte code)', () => {
    const peer = new Peer('server').feed(
      fromClient.raw({ opcode: OP.CLOSE, payload: new Uint8Array([0x03]) }),
    );
    assertFailed(peer, 1002, 'ERR_INVALID_CLOSE_PAYLOAD');
    assert.ok(!peer.kinds.includes('close'));
  });

  it('7.3.3 a close with code 1000 and no reason is echoed (RFC 6455 §5.5.1)', () => {
    assertEchoedClose(closeWith(1000), 1000);
  });

  it('7.3.4 a close with code and a short reason is echoed; the reason is reported (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed(fromClient.close(1000, 'Hello World!'));
    assert.deepEqual(peer.events, [{ kind: 'close', code: 1000, reason: 'Hello World!' }]);
    assertEchoedClose(peer, 1000);
  });

  it('7.3.5 a close with a 123-byte reason (payload 125) is accepted (RFC 6455 §5.5)', () => {
    const reason = `${'é'.repeat(61)}!`;
    assert.equal(utf8(reason).length, 123);
    const peer = new Peer('server').feed(fromClient.close(1000, reason), 1);
    assert.deepEqual(peer.events, [{ kind: 'close', code: 1000, reason }]);
    assertEchoedClose(peer, 1000);
  });

  it('7.3.6 a close with a 124-byte reason (payload 126) → 1002 (RFC 6455 §5.5)', () => {
    const peer = new Peer('server').feed(fromClient.close(1000, '*'.repeat(124)));
    assertFailed(peer, 1002, 'ERR_CONTROL_TOO_LONG');
  });

  it('7.5.1 a close reason that is not valid UTF-8 → 1007 (RFC 6455 §5.5.1, §8.1)', () => {
    const reason = concat(hex('ce ba e1 bd b9 cf 83 ce bc ce b5'), hex('ed a0 80'), utf8('edited'));
    const peer = new Peer('server').feed(fromClient.close(1000, reason));
    assertFailed(peer, 1007, 'ERR_INVALID_UTF8');
    assert.ok(!peer.kinds.includes('close'));
  });

  it('7.5.2 a close reason ending inside a character → 1007 (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('server').feed(fromClient.close(1000, hex('61 62 ce')));
    assertFailed(peer, 1007, 'ERR_INVALID_UTF8');
  });

  it('7.5.3 the client role validates the server close reason too (RFC 6455 §5.5.1)', () => {
    const peer = new Peer('client').feed(fromServer.close(1000, hex('ff')));
    assertFailed(peer, 1007, 'ERR_INVALID_UTF8');
    assert.equal(peer.written()[0]!.masked, true);
  });
});

describe('7.7 / 7.9 / 7.13 close codes', () => {
  const valid = [
    1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
  ];
  valid.forEach((code, i) => {
    it(`7.7.${i + 1} close code ${code} is echoed with the same code (RFC 6455 §5.5.1, §7.4)`, () => {
      const peer = closeWith(code);
      assert.deepEqual(peer.events, [{ kind: 'close', code, reason: '' }]);
      assertEchoedClose(peer, code);
    });
  });

  const invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999];
  invalid.forEach((code, i) => {
    it(`7.9.${i + 1} close code ${code} on the wire → 1002 (RFC 6455 §7.4.1, §7.4.2)`, () => {
      assertFailed(closeWith(code), 1002, 'ERR_INVALID_CLOSE_CODE');
    });
  });

  [5000, 65535].forEach((code, i) => {
    it(`7.13.${i + 1} close code ${code} (out of range) → 1002 (RFC 6455 §7.4.2)`, () => {
      assertFailed(closeWith(code), 1002, 'ERR_INVALID_CLOSE_CODE');
    });
  });

  it('7.14.1 every code 0..5000 (and a sweep to 65535): valid ones echoed, others → 1002 (RFC 6455 §7.4)', () => {
    const codes: number[] = [];
    for (let code = 0; code <= 5000; code++) codes.push(code);
    for (let code = 5001; code <= 65535; code += 37) codes.push(code);
    for (const code of codes) {
      const peer = closeWith(code);
      const closes = peer.closesWritten();
      if (isSendableCode(code)) {
        assert.deepEqual(closes, [{ code, reason: '' }], `code ${code} should be echoed`);
        assert.deepEqual(peer.errors, [], `code ${code}`);
      } else {
        assert.equal(closes[0]?.code, 1002, `code ${code} should fail with 1002`);
        assert.equal(peer.errors[0]?.closeCode, 1002, `code ${code}`);
      }
    }
  });
});

describe('7.4 the API refuses to send what the RFC forbids', () => {
  for (const code of [1005, 1006, 1015]) {
    it(`7.4.${code - 1004} close(${code}) throws a RangeError and sends nothing (RFC 6455 §7.4.1: MUST NOT be sent)`, () => {
      const peer = new Peer('client');
      assert.throws(() => peer.protocol.close(code), RangeError);
      assert.equal(peer.writes.length, 0);
      assert.equal(peer.protocol.readyState, 1);
    });
  }

  it('7.4.12 close() refuses 0, 999, 1004, 2999, 5000 and non-integers (RFC 6455 §7.4)', () => {
    const peer = new Peer('server');
    for (const code of [0, 999, 1004, 1016, 2999, 5000, 1000.5]) {
      assert.throws(() => peer.protocol.close(code), RangeError, `code ${code}`);
    }
    assert.equal(peer.writes.length, 0);
  });

  it('7.4.13 close() refuses a reason over 123 bytes and accepts one of 123 (RFC 6455 §5.5)', () => {
    const peer = new Peer('server');
    assert.throws(() => peer.protocol.close(1000, 'x'.repeat(124)), RangeError);
    assert.equal(peer.writes.length, 0);
    assert.equal(peer.protocol.close(4999, 'x'.repeat(123)), true);
    assert.deepEqual(peer.closesWritten(), [{ code: 4999, reason: 'x'.repeat(123) }]);
  });

  it('7.4.14 the client close frame is masked, the server close frame is not (RFC 6455 §5.1)', () => {
    const client = new Peer('client');
    client.protocol.close(1000);
    const server = new Peer('server');
    server.protocol.close(1000);
    assert.equal(client.written()[0]!.masked, true);
    assert.equal(server.written()[0]!.masked, false);
  });
});
