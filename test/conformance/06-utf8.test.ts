/**
 * Autobahn category 6: UTF-8 handling of text messages (RFC 6455 §5.6, §8.1; RFC 3629 §3). Valid text
 * is delivered however it is split into frames and chunks; invalid text fails the connection with 1007
 * as soon as the byte that makes it invalid arrives (fail fast), not when the message ends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertFailed, concat, fromClient, fromServer, hex, OP, Peer, utf8 } from './harness.js';

/** One vector: Autobahn-style id, what it is, its bytes, and whether it is well-formed UTF-8. */
interface Utf8Vector {
  id: string;
  name: string;
  bytes: Uint8Array;
  valid: boolean;
}

const KOSME = hex('ce ba e1 bd b9 cf 83 ce bc ce b5');

function group(prefix: string, name: string, valid: boolean, hexes: string[]): Utf8Vector[] {
  return hexes.map((h, i) => ({ id: `${prefix}.${i + 1}`, name: `${name} ${h}`, bytes: hex(h), valid }));
}

function lonelyStarts(from: number, to: number): string {
  const parts: string[] = [];
  for (let b = from; b <= to; b++) parts.push(`${b.toString(16)} 20`);
  return parts.join(' ');
}

function continuationBytes(): string {
  const parts: string[] = [];
  for (let b = 0x80; b <= 0xbf; b++) parts.push(b.toString(16));
  return parts.join(' ');
}

/** U+FFFE and U+FFFF of every plane: noncharacters, but well-formed UTF-8 (Unicode §23.7). */
function noncharacters(): string[] {
  const out = ['ef bf be', 'ef bf bf'];
  for (let plane = 1; plane <= 16; plane++) {
    for (const last of [0xfffe, 0xffff]) {
      const bytes = new TextEncoder().encode(String.fromCodePoint(plane * 0x10000 + last));
      out.push(Buffer.from(bytes).toString('hex'));
    }
  }
  return out;
}

const TRUNCATED = [
  'c0',
  'e0 80',
  'f0 80 80',
  'f8 80 80 80',
  'fc 80 80 80 80',
  'df',
  'ef bf',
  'f7 bf bf',
  'fb bf bf bf',
  'fd bf bf bf bf',
];

/** The κόσμε prefixes: a prefix is valid when it ends on a character boundary (Autobahn 6.6). */
function kosmePrefixes(): Utf8Vector[] {
  const boundaries = new Set([2, 5, 7, 9, 11]);
  return Array.from({ length: 11 }, (_, i) => ({
    id: `6.6.${i + 1}`,
    name: `first ${i + 1} bytes of κόσμε`,
    bytes: KOSME.subarray(0, i + 1),
    valid: boundaries.has(i + 1),
  }));
}

/** Every vector of cases 6.5–6.23. */
const UTF8_VECTORS: Utf8Vector[] = [
  { id: '6.5.1', name: 'κόσμε', bytes: KOSME, valid: true },
  { id: '6.5.2', name: 'Hello-µ@ßöäüàá-UTF-8!!', bytes: utf8('Hello-µ@ßöäüàá-UTF-8!!'), valid: true },
  { id: '6.5.3', name: 'musical symbol G clef (4 bytes)', bytes: hex('f0 9d 84 9e'), valid: true },
  { id: '6.5.4', name: 'mixed 1-4 byte characters', bytes: utf8('a€𐍈ß汉😀z'), valid: true },
  ...kosmePrefixes(),
  ...group('6.7', 'first possible sequence of a length', true, ['00', 'c2 80', 'e0 a0 80', 'f0 90 80 80']),
  ...group('6.8', 'first 5/6-byte sequence (RFC 3629 §3: at most 4 bytes)', false, [
    'f8 88 80 80 80',
    'fc 84 80 80 80 80',
  ]),
  ...group('6.9', 'last possible sequence of a length', true, ['7f', 'df bf', 'ef bf bf', 'f4 8f bf bf']),
  ...group('6.10', 'beyond U+10FFFF or 5/6 bytes', false, [
    'f7 bf bf bf',
    'fb bf bf bf bf',
    'fd bf bf bf bf bf',
  ]),
  ...group('6.11', 'boundary below surrogates / private use / U+FFFD / U+10FFFF', true, [
    'ed 9f bf',
    'ee 80 80',
    'ef bf bd',
    'f4 8f bf bf',
  ]),
  { id: '6.11.5', name: 'U+110000 (f4 90 80 80), beyond U+10FFFF', bytes: hex('f4 90 80 80'), valid: false },
  ...group('6.12', 'unexpected continuation bytes', false, [
    '80',
    'bf',
    '80 bf',
    '80 bf 80',
    '80 bf 80 bf',
    '80 bf 80 bf 80',
    '80 bf 80 bf 80 bf',
    continuationBytes(),
  ]),
  ...group('6.13', 'lonely start bytes followed by a space', false, [
    lonelyStarts(0xc0, 0xdf),
    lonelyStarts(0xe0, 0xef),
    lonelyStarts(0xf0, 0xf7),
    lonelyStarts(0xf8, 0xfb),
    lonelyStarts(0xfc, 0xfd),
  ]),
  ...group('6.14', 'sequence missing its last continuation byte', false, TRUNCATED),
  {
    id: '6.15.1',
    name: 'all truncated sequences concatenated',
    bytes: concat(...TRUNCATED.map(hex)),
    valid: false,
  },
  ...group('6.16', 'impossible bytes', false, ['fe', 'ff', 'fe fe ff ff']),
  ...group('6.17', 'overlong "/"', false, [
    'c0 af',
    'e0 80 af',
    'f0 80 80 af',
    'f8 80 80 80 af',
    'fc 80 80 80 80 af',
  ]),
  ...group('6.18', 'maximum overlong sequences', false, [
    'c1 bf',
    'e0 9f bf',
    'f0 8f bf bf',
    'f8 87 bf bf bf',
    'fc 83 bf bf bf bf',
  ]),
  ...group('6.19', 'overlong NUL', false, [
    'c0 80',
    'e0 80 80',
    'f0 80 80 80',
    'f8 80 80 80 80',
    'fc 80 80 80 80 80',
  ]),
  ...group('6.20', 'single UTF-16 surrogate (RFC 3629 §3)', false, [
    'ed a0 80',
    'ed ad bf',
    'ed ae 80',
    'ed af bf',
    'ed b0 80',
    'ed be 80',
    'ed bf bf',
  ]),
  ...group('6.21', 'paired UTF-16 surrogates (RFC 3629 §3)', false, [
    'ed a0 80 ed b0 80',
    'ed a0 80 ed bf bf',
    'ed ad bf ed b0 80',
    'ed ad bf ed bf bf',
    'ed ae 80 ed b0 80',
    'ed ae 80 ed bf bf',
    'ed af bf ed b0 80',
    'ed af bf ed bf bf',
  ]),
  ...group('6.22', 'noncharacter (well-formed)', true, noncharacters()),
  ...group('6.23', 'specials U+FFF9..U+FFFD and the replacement character in text', true, [
    'ef bf b9',
    'ef bf ba',
    'ef bf bb',
    'ef bf bc',
    'ef bf bd',
    '61 ef bf bd 62',
  ]),
];

/** The byte ranges allowed after each lead byte (Unicode Table 3-7), as [low, high] per position. */
function followers(lead: number): [number, number][] | null {
  if (lead <= 0x7f) return [];
  if (lead >= 0xc2 && lead <= 0xdf) return [[0x80, 0xbf]];
  if (lead === 0xe0)
    return [
      [0xa0, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead === 0xed)
    return [
      [0x80, 0x9f],
      [0x80, 0xbf],
    ];
  if (lead >= 0xe1 && lead <= 0xef)
    return [
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead === 0xf0)
    return [
      [0x90, 0xbf],
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead >= 0xf1 && lead <= 0xf3)
    return [
      [0x80, 0xbf],
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  if (lead === 0xf4)
    return [
      [0x80, 0x8f],
      [0x80, 0xbf],
      [0x80, 0xbf],
    ];
  return null;
}

/**
 * Index of the first byte after which `bytes` can no longer be the start of valid UTF-8, or -1 when
 * every prefix is still completable (the text is valid, or only truncated at its end).
 */
function firstInvalidIndex(bytes: Uint8Array): number {
  let expected: [number, number][] = [];
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const range = expected.shift();
    if (range !== undefined) {
      if (b < range[0] || b > range[1]) return i;
      continue;
    }
    const next = followers(b);
    if (next === null) return i;
    expected = next;
  }
  return -1;
}

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
