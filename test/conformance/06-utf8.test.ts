/**
 * Autobahn category 6: UTF-8 handling of text messages (RFC 6455 §5.6, §8.1; RFC 3629 §3). Valid text
 * is delivered however it is split into frames and chunks; invalid text fails the connection with 1007
 * as soon as the byte that makes it invalid arrives (fail fast), not when the message ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFailed, concat, fromClient, fromServer, hex, OP, Peer, utf8 } from './harness.js';
import { firstInvalidIndex, KOSME, UTF8_VECTORS, type Utf8Vector } from './utf8-vectors.js';

const HELLO = 'Hello-µ@ßöäüàá-UTF-8!!';

/**
 * Feeds `pieces` (whole frames or chunks of frames) one `receive` at a time and checks that the
 * connection fails with 1007 right after piece `failAt`, not before, and that the rest changes nothing.
 */
function assertFailsAt(peer: Peer, pieces: Uint8Array[], failAt: number): void {
  pieces.forEach((piece, i) => {
    const before = { events: peer.events.length, writes: peer.writes.length };
    peer.feed(piece);
    if (i < failAt) assert.deepEqual(peer.errors, [], `failed early, at piece ${i} of ${pieces.length}`);
    if (i === failAt) assert.equal(peer.errors.length, 1, `no failure right after piece ${i}`);
    if (i > failAt)
      assert.deepEqual([peer.events.length, peer.writes.length], [before.events, before.writes]);
  });
  assertFailed(peer, 1007, 'ERR_INVALID_UTF8');
  assert.deepEqual(peer.messages, []);
}

/** A single frame of `payload` cut into header+payload[0..cut) and the rest. */
function frameCutAt(payload: Uint8Array, cut: number): Uint8Array[] {
  const frame = fromClient.text(payload);
  const header = frame.length - payload.length;
  return [frame.subarray(0, header + cut), frame.subarray(header + cut)];
}

function checkVector(vector: Utf8Vector): void {
  const deliveries: [string, Peer][] = [
    ['one frame', new Peer('server').feed(fromClient.text(vector.bytes))],
    ['1-byte fragments', new Peer('server').feed(fromClient.fragmented(OP.TEXT, vector.bytes, [1]))],
    ['one frame in 1-byte chunks', new Peer('server').feed(fromClient.text(vector.bytes), 1)],
    ['client role', new Peer('client').feed(fromServer.text(vector.bytes), 'random')],
  ];
  for (const [how, peer] of deliveries) {
    if (vector.valid) {
      assert.deepEqual(peer.kinds, ['message'], how);
      assert.deepEqual(peer.messages[0]!.data, vector.bytes, how);
    } else {
      assertFailed(peer, 1007, 'ERR_INVALID_UTF8');
      assert.deepEqual(peer.messages, [], how);
    }
  }
}

function checkFailFast(vector: Utf8Vector): void {
  const bad = firstInvalidIndex(vector.bytes);
  // A truncated text is only known to be invalid at the end of the message (RFC 6455 §8.1).
  const failAt = bad < 0 ? vector.bytes.length - 1 : bad;
  const fragments = fromClient.fragmented(OP.TEXT, vector.bytes, [1]);
  assertFailsAt(new Peer('server'), fragments, failAt);
  if (bad >= 0)
    assertFailsAt(new Peer('server'), frameCutAt(concat(vector.bytes, utf8(' trailing text')), bad + 1), 0);
}

describe('6.1 empty text', () => {
  it('6.1.1 an empty text frame is an empty message (RFC 6455 §5.6)', () => {
    const peer = new Peer('server').feed(fromClient.text(''));
    assert.deepEqual(peer.texts, ['']);
  });

  it('6.1.2 three empty fragments are an empty text message (RFC 6455 §5.4)', () => {
    const frames = [
      fromClient.text('', { fin: false }),
      fromClient.cont('', { fin: false }),
      fromClient.cont(''),
    ];
    assert.deepEqual(new Peer('server').feed(frames).texts, ['']);
  });

  it('6.1.3 empty first and last fragments around a non-empty one (RFC 6455 §5.4)', () => {
    const frames = [
      fromClient.text('', { fin: false }),
      fromClient.cont('middle frame payload', { fin: false }),
      fromClient.cont(''),
    ];
    assert.deepEqual(new Peer('server').feed(frames).texts, ['middle frame payload']);
  });
});

describe('6.2 valid UTF-8 in one or several frames', () => {
  it(`6.2.1 "${HELLO}" in one frame (RFC 6455 §5.6)`, () => {
    assert.deepEqual(new Peer('server').feed(fromClient.text(HELLO)).texts, [HELLO]);
  });

  it('6.2.2 the same in 2 fragments split on a code point boundary (RFC 6455 §5.4)', () => {
    const bytes = utf8(HELLO);
    const cut = utf8('Hello-µ@ßöä').length;
    const frames = [
      fromClient.text(bytes.subarray(0, cut), { fin: false }),
      fromClient.cont(bytes.subarray(cut)),
    ];
    assert.deepEqual(new Peer('server').feed(frames).texts, [HELLO]);
  });

  it('6.2.3 the same in 1-byte fragments, most ending inside a character (RFC 6455 §5.4, §8.1)', () => {
    const frames = fromClient.fragmented(OP.TEXT, utf8(HELLO), [1]);
    assert.deepEqual(new Peer('server').feed(frames).texts, [HELLO]);
  });

  it('6.2.4 κόσμε in 1-byte fragments (RFC 6455 §5.4, §8.1)', () => {
    const frames = fromClient.fragmented(OP.TEXT, KOSME, [1]);
    assert.deepEqual(new Peer('server').feed(frames).messages, [{ data: KOSME, isBinary: false }]);
  });
});

describe('6.3 invalid UTF-8 in one or several frames', () => {
  const payload = concat(KOSME, hex('ed a0 80'), utf8('edited'));

  it('6.3.1 κόσμε + a surrogate (ed a0 80) + "edited" in one frame → 1007 (RFC 6455 §8.1, RFC 3629 §3)', () => {
    assertFailed(new Peer('server').feed(fromClient.text(payload)), 1007, 'ERR_INVALID_UTF8');
  });

  it('6.3.2 the same in 1-byte fragments → 1007 (RFC 6455 §8.1)', () => {
    const peer = new Peer('server').feed(fromClient.fragmented(OP.TEXT, payload, [1]));
    assertFailed(peer, 1007, 'ERR_INVALID_UTF8');
  });
});

describe('6.4 fail fast on invalid UTF-8', () => {
  // RFC 6455 §8.1: an endpoint that finds the byte stream is not valid UTF-8 MUST fail the connection;
  // the close frame must go out once the offending bytes arrived, without waiting for the rest.
  const part3 = utf8('edited');

  it('6.4.1 3 frames, the 2nd holds U+110000 (f4 90 80 80): 1007 right after frame 2 (RFC 6455 §8.1)', () => {
    const frames = [
      fromClient.text(KOSME, { fin: false }),
      fromClient.cont(hex('f4 90 80 80'), { fin: false }),
      fromClient.cont(part3),
    ];
    assertFailsAt(new Peer('server'), frames, 1);
  });

  it('6.4.2 3 frames, the 2nd holds only the byte 90 that follows f4: 1007 right after frame 2 (RFC 6455 §8.1)', () => {
    const frames = [
      fromClient.text(concat(KOSME, hex('f4')), { fin: false }),
      fromClient.cont(hex('90'), { fin: false }),
      fromClient.cont(concat(hex('80 80'), part3)),
    ];
    assertFailsAt(new Peer('server'), frames, 1);
  });

  it('6.4.3 1 frame in 3 chunks, the 2nd holds f4 90 80 80: 1007 right after chunk 2 (RFC 6455 §8.1)', () => {
    const payload = concat(KOSME, hex('f4 90 80 80'), part3);
    const frame = fromClient.text(payload);
    const header = frame.length - payload.length;
    const at = [header + KOSME.length, header + KOSME.length + 4];
    assertFailsAt(
      new Peer('server'),
      [frame.subarray(0, at[0]), frame.subarray(at[0], at[1]), frame.subarray(at[1])],
      1,
    );
  });

  it('6.4.4 1 frame in 3 chunks, the 2nd holds only the byte 90: 1007 right after chunk 2 (RFC 6455 §8.1)', () => {
    const payload = concat(KOSME, hex('f4 90 80 80'), part3);
    const frame = fromClient.text(payload);
    const at = frame.length - payload.length + KOSME.length + 1;
    assertFailsAt(
      new Peer('server'),
      [frame.subarray(0, at), frame.subarray(at, at + 1), frame.subarray(at + 1)],
      1,
    );
  });

  it('6.4.5 the client role fails fast too (RFC 6455 §8.1)', () => {
    const frames = [
      fromServer.text(KOSME, { fin: false }),
      fromServer.cont(hex('ed a0 80'), { fin: false }),
      fromServer.cont(part3),
    ];
    const peer = new Peer('client');
    assertFailsAt(peer, frames, 1);
    assert.equal(peer.written()[0]!.masked, true);
  });

  it('6.4.6 a 1 MiB text frame starting with ff fails on its first chunk, before the payload ends (RFC 6455 §8.1)', () => {
    const payload = new Uint8Array(1 << 20).fill(0x61);
    payload[0] = 0xff;
    const frame = fromClient.text(payload);
    assertFailsAt(
      new Peer('server'),
      [frame.subarray(0, 20), frame.subarray(20, 70000), frame.subarray(70000)],
      0,
    );
  });

  it('6.4.7 a text ending in a truncated character fails when the final fragment arrives (RFC 6455 §8.1)', () => {
    const frames = [
      fromClient.text(KOSME, { fin: false }),
      fromClient.cont(hex('ce'), { fin: false }),
      fromClient.cont(''),
    ];
    assertFailsAt(new Peer('server'), frames, 2);
  });
});

describe('6.5–6.23 UTF-8 decoder stress vectors (RFC 3629 §3, Unicode Table 3-7)', () => {
  for (const vector of UTF8_VECTORS) {
    const verdict = vector.valid ? 'delivered' : '1007';
    it(`${vector.id} ${vector.name} → ${verdict} (RFC 6455 §8.1)`, () => {
      checkVector(vector);
      if (!vector.valid) checkFailFast(vector);
    });
  }
});

describe('6.24 text split anywhere', () => {
  const text = 'aé€𐍈 κόσμε 汉字 😀 Hello-µ@ßöäüàá-UTF-8!!';
  const bytes = utf8(text);

  it('6.24.1 valid text split into 2 frames at every byte position (RFC 6455 §5.4, §8.1)', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const frames = [
        fromClient.text(bytes.subarray(0, cut), { fin: false }),
        fromClient.cont(bytes.subarray(cut)),
      ];
      assert.deepEqual(new Peer('server').feed(frames).texts, [text], `cut at ${cut}`);
    }
  });

  it('6.24.2 valid text split into 3 frames at every pair of byte positions (RFC 6455 §5.4, §8.1)', () => {
    const short = utf8('aé€𐍈 κόσμε');
    for (let a = 0; a <= short.length; a++) {
      for (let b = a; b <= short.length; b++) {
        const frames = [
          fromClient.text(short.subarray(0, a), { fin: false }),
          fromClient.cont(short.subarray(a, b), { fin: false }),
          fromClient.cont(short.subarray(b)),
        ];
        const peer = new Peer('server').feed(frames);
        assert.deepEqual(peer.messages[0]?.data, short, `cuts at ${a}, ${b}`);
      }
    }
  });

  it('6.24.3 a one-frame text cut into 2 chunks at every byte position (RFC 6455 §8.1)', () => {
    const frame = fromClient.text(bytes);
    for (let cut = 1; cut < frame.length; cut++) {
      assert.deepEqual(new Peer('server').feed(frame, [cut, frame.length]).texts, [text], `cut at ${cut}`);
    }
  });

  it('6.24.4 binary messages are not validated as UTF-8 (RFC 6455 §5.6)', () => {
    const payload = hex('ff fe ed a0 80 c0 af');
    const peer = new Peer('server').feed(fromClient.fragmented(OP.BINARY, payload, [1]));
    assert.deepEqual(peer.messages, [{ data: payload, isBinary: true }]);
  });
});
