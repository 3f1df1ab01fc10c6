/**
 * Autobahn category 5: fragmentation (RFC 6455 §5.4) — messages in several frames, control frames
 * between fragments, and every way of getting the continuation sequence wrong.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertFailed,
  type Chunking,
  concat,
  fromClient,
  fromServer,
  OP,
  Peer,
  randomBytes,
  utf8,
} from './harness.js';

const FRAGMENT_1 = 'fragment1';
const FRAGMENT_2 = 'fragment2';

/** Feeds frames one `receive` per frame ('frames'), all at once, or in 1-byte chunks. */
function feedAs(peer: Peer, frames: Uint8Array[], how: 'frames' | Chunking): Peer {
  if (how === 'frames') for (const frame of frames) peer.feed(frame);
  else peer.feed(frames, how);
  return peer;
}

const HOW = [
  ['one chunk', 'whole'],
  ['frame by frame', 'frames'],
  ['1-byte chunks', 1],
] as const;

describe('5 fragmentation', () => {
  it('5.1 a ping in 2 fragments fails the connection with 1002 (RFC 6455 §5.5: control frames are not fragmented)', () => {
    const frames = [fromClient.ping(FRAGMENT_1, { fin: false }), fromClient.cont(FRAGMENT_2)];
    const peer = new Peer('server').feed(frames);
    assert.equal(peer.writtenOf(OP.PONG).length, 0);
    assertFailed(peer, 1002, 'ERR_CONTROL_FRAGMENTED');
  });

  it('5.2 a pong in 2 fragments fails the connection with 1002 (RFC 6455 §5.5)', () => {
    const frames = [fromClient.pong(FRAGMENT_1, { fin: false }), fromClient.cont(FRAGMENT_2)];
    assertFailed(new Peer('server').feed(frames), 1002, 'ERR_CONTROL_FRAGMENTED');
  });

  HOW.forEach(([name, how], i) => {
    it(`5.${3 + i} a text message in 2 fragments, ${name}, is delivered whole (RFC 6455 §5.4)`, () => {
      const frames = [fromClient.text(FRAGMENT_1, { fin: false }), fromClient.cont(FRAGMENT_2)];
      const peer = feedAs(new Peer('server'), frames, how);
      assert.deepEqual(peer.texts, [FRAGMENT_1 + FRAGMENT_2]);
      assert.equal(peer.writes.length, 0);
    });
  });

  HOW.forEach(([name, how], i) => {
    it(`5.${6 + i} text in 2 fragments with a ping between, ${name}: pong first, then the message (RFC 6455 §5.4)`, () => {
      const frames = [
        fromClient.text(FRAGMENT_1, { fin: false }),
        fromClient.ping('pongme!'),
        fromClient.cont(FRAGMENT_2),
      ];
      const peer = feedAs(new Peer('server'), frames, how);
      // RFC 6455 §5.4: control frames MAY be injected in the middle of a fragmented message.
      assert.deepEqual(peer.kinds, ['ping', 'message']);
      assert.deepEqual(peer.texts, [FRAGMENT_1 + FRAGMENT_2]);
      assert.deepEqual(
        peer.writtenOf(OP.PONG).map((f) => f.payload),
        [utf8('pongme!')],
      );
    });
  });

  HOW.forEach(([name, how], i) => {
    it(`5.${9 + i} a final continuation without a message, then text, ${name} → 1002 (RFC 6455 §5.4)`, () => {
      const frames = [fromClient.cont('non-continuation payload'), fromClient.text('Hello, world!')];
      const peer = feedAs(new Peer('server'), frames, how);
      assert.deepEqual(peer.messages, []);
      assertFailed(peer, 1002, 'ERR_UNEXPECTED_CONTINUATION');
    });
  });

  HOW.forEach(([name, how], i) => {
    it(`5.${12 + i} a non-final continuation without a message, then text, ${name} → 1002 (RFC 6455 §5.4)`, () => {
      const frames = [
        fromClient.cont('non-continuation payload', { fin: false }),
        fromClient.text('Hello, world!'),
      ];
      const peer = feedAs(new Peer('server'), frames, how);
      assert.deepEqual(peer.messages, []);
      assertFailed(peer, 1002, 'ERR_UNEXPECTED_CONTINUATION');
    });
  });

  it('5.15 a complete fragmented text, then a stray continuation: first message only, 1002 (RFC 6455 §5.4)', () => {
    const frames = [
      fromClient.text(FRAGMENT_1, { fin: false }),
      fromClient.cont(FRAGMENT_2),
      fromClient.cont('fragment3', { fin: false }),
      fromClient.text('fragment4'),
    ];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.texts, [FRAGMENT_1 + FRAGMENT_2]);
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_CONTINUATION');
  });

  for (const [id, firstFin] of [
    ['5.16', false],
    ['5.17', true],
  ] as const) {
    it(`${id} (continuation fin=${firstFin}, text fin=false, continuation fin=true) x2 → 1002 at once (RFC 6455 §5.4)`, () => {
      const round = [
        fromClient.cont(FRAGMENT_1, { fin: firstFin }),
        fromClient.text(FRAGMENT_2, { fin: false }),
        fromClient.cont('fragment3'),
      ];
      const peer = new Peer('server').feed([...round, ...round]);
      assert.deepEqual(peer.messages, []);
      assertFailed(peer, 1002, 'ERR_UNEXPECTED_CONTINUATION');
    });
  }

  it('5.18 a text message whose second fragment is also a text frame → 1002 (RFC 6455 §5.4)', () => {
    const frames = [fromClient.text(FRAGMENT_1, { fin: false }), fromClient.text(FRAGMENT_2)];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.messages, []);
    assertFailed(peer, 1002, 'ERR_EXPECTED_CONTINUATION');
  });

  for (const [id, how] of [
    ['5.19', 'frames'],
    ['5.20', 1],
  ] as const) {
    it(`${id} text in 5 fragments with pings between (${how === 1 ? '1-byte chunks' : 'frame by frame'}) (RFC 6455 §5.4)`, () => {
      const frames = [
        fromClient.text('fragment1', { fin: false }),
        fromClient.cont('fragment2', { fin: false }),
        fromClient.ping('pongme 1!'),
        fromClient.cont('fragment3', { fin: false }),
        fromClient.ping('pongme 2!'),
        fromClient.cont('fragment4', { fin: false }),
        fromClient.cont('fragment5'),
      ];
      const peer = feedAs(new Peer('server'), frames, how);
      assert.deepEqual(peer.kinds, ['ping', 'ping', 'message']);
      assert.deepEqual(peer.texts, ['fragment1fragment2fragment3fragment4fragment5']);
      assert.deepEqual(
        peer.writtenOf(OP.PONG).map((f) => f.payload),
        [utf8('pongme 1!'), utf8('pongme 2!')],
      );
    });
  }

  it('5.21 a binary message in 2 fragments is delivered whole and binary (RFC 6455 §5.4)', () => {
    const payload = randomBytes(1000, 21);
    const peer = new Peer('server').feed(fromClient.fragmented(OP.BINARY, payload, [400]));
    assert.equal(peer.messages.length, 1);
    assert.equal(peer.messages[0]!.isBinary, true);
    assert.deepEqual(peer.messages[0]!.data, payload);
  });

  it('5.22 a binary message in 1000 fragments of mixed sizes, random chunks (RFC 6455 §5.4)', () => {
    const payload = randomBytes(150_000, 22);
    const frames = fromClient.fragmented(OP.BINARY, payload, [1, 0, 125, 126, 65536, 7, 80]);
    const peer = new Peer('server').feed(frames, 'random');
    assert.ok(frames.length > 900);
    assert.deepEqual(peer.kinds, ['message']);
    assert.deepEqual(peer.messages[0]!.data, payload);
  });

  it('5.23 pongs and pings interleaved between fragments are reported in order (RFC 6455 §5.4)', () => {
    const frames = [
      fromClient.binary('a', { fin: false }),
      fromClient.pong('p1'),
      fromClient.cont('b', { fin: false }),
      fromClient.ping('p2'),
      fromClient.pong('p3'),
      fromClient.cont('c'),
      fromClient.text('next'),
    ];
    const peer = new Peer('server').feed(frames, 1);
    assert.deepEqual(peer.kinds, ['pong', 'ping', 'pong', 'message', 'message']);
    assert.deepEqual(peer.messages[0]!.data, utf8('abc'));
    assert.deepEqual(peer.texts, ['next']);
  });

  it('5.24 empty fragments at the start, middle and end are allowed (RFC 6455 §5.4)', () => {
    const frames = [
      fromClient.text('', { fin: false }),
      fromClient.cont('abc', { fin: false }),
      fromClient.cont('', { fin: false }),
      fromClient.cont('def', { fin: false }),
      fromClient.cont(''),
    ];
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.texts, ['abcdef']);
  });

  it('5.25 a message of only empty fragments is an empty message (RFC 6455 §5.4)', () => {
    const frames = [
      fromClient.binary('', { fin: false }),
      fromClient.cont('', { fin: false }),
      fromClient.cont(''),
    ];
    const peer = new Peer('server').feed(frames);
    assert.equal(peer.messages.length, 1);
    assert.equal(peer.messages[0]!.data.length, 0);
    assert.equal(peer.messages[0]!.isBinary, true);
  });

  it('5.26 a binary frame starting inside a fragmented text → 1002 (RFC 6455 §5.4)', () => {
    const frames = [fromClient.text(FRAGMENT_1, { fin: false }), fromClient.binary(FRAGMENT_2)];
    assertFailed(new Peer('server').feed(frames), 1002, 'ERR_EXPECTED_CONTINUATION');
  });

  it('5.27 a fragmented close frame → 1002, not a clean close (RFC 6455 §5.5)', () => {
    const frames = [
      fromClient.raw({ opcode: OP.CLOSE, payload: new Uint8Array([3, 0xe8]), fin: false }),
      fromClient.cont(''),
    ];
    const peer = new Peer('server').feed(frames);
    assert.ok(!peer.kinds.includes('close'));
    assertFailed(peer, 1002, 'ERR_CONTROL_FRAGMENTED');
  });

  it('5.28 a text message split inside multi-byte characters is reassembled (RFC 6455 §5.4, §5.6)', () => {
    const text = 'κόσμε – 𝄞 – 汉字';
    const frames = fromClient.fragmented(OP.TEXT, utf8(text), [1]);
    const peer = new Peer('server').feed(frames);
    assert.deepEqual(peer.texts, [text]);
  });

  it('5.29 the next message after a fragmented one starts clean (RFC 6455 §5.4)', () => {
    const frames = [
      ...fromClient.fragmented(OP.TEXT, utf8('first message'), [5]),
      ...fromClient.fragmented(OP.BINARY, utf8('second'), [2]),
      fromClient.text('third'),
    ];
    const peer = new Peer('server').feed(frames, 3);
    assert.deepEqual(
      peer.messages.map((m) => [m.isBinary, new TextDecoder().decode(m.data)]),
      [
        [false, 'first message'],
        [true, 'second'],
        [false, 'third'],
      ],
    );
  });

  it('5.30 the client role reassembles server fragments with pings between (RFC 6455 §5.4)', () => {
    const frames = [fromServer.text('ab', { fin: false }), fromServer.ping('x'), fromServer.cont('cd')];
    const peer = new Peer('client').feed(concat(...frames), 1);
    assert.deepEqual(peer.texts, ['abcd']);
    assert.equal(peer.writtenOf(OP.PONG)[0]!.masked, true);
  });

  it('5.31 a character split across fragments with a ping between them survives (RFC 6455 §5.4, §8.1)', () => {
    const bytes = utf8('a😀b');
    const frames = [
      fromClient.text(bytes.subarray(0, 3), { fin: false }),
      fromClient.ping('between'),
      fromClient.cont(bytes.subarray(3, 4), { fin: false }),
      fromClient.pong('between'),
      fromClient.cont(bytes.subarray(4)),
    ];
    const peer = new Peer('server').feed(frames, 1);
    assert.deepEqual(peer.kinds, ['ping', 'pong', 'message']);
    assert.deepEqual(peer.texts, ['a😀b']);
  });
});
