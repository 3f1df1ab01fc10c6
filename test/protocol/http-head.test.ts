import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../src/protocol/errors.js';
import {
  DEFAULT_MAX_HEADER_SIZE,
  type HttpHeadResult,
  type HttpRequestHead,
  HttpRequestParser,
  HttpResponseParser,
  isToken,
  parseRequestHead,
  parseResponseHead,
} from '../../src/protocol/http-head.js';

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

const REQUEST =
  'GET /chat?room=1 HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: keep-alive, Upgrade\r\n' +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat\r\n' +
  'sec-websocket-protocol:superchat  \r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  'X-Empty:\r\n' +
  'X-Tabs: \ta\tb\t\r\n' +
  '\r\n';

// A masked close frame that arrives in the same packet as the handshake.
const FRAME = Uint8Array.of(0x88, 0x80, 1, 2, 3, 4);

function withFrame(head: string): Uint8Array {
  const bytes = new Uint8Array(head.length + FRAME.length);
  bytes.set(latin1(head));
  bytes.set(FRAME, head.length);
  return bytes;
}

/** Feeds `chunks` in order; returns the result of the feed that completed the head, checking none after. */
function feedAll<T>(parser: { feed(chunk: Uint8Array): HttpHeadResult<T> | null }, chunks: Uint8Array[]) {
  let result: HttpHeadResult<T> | null = null;
  for (const [index, chunk] of chunks.entries()) {
    result = parser.feed(chunk);
    if (result !== null) {
      // Whatever followed in later chunks is the caller's: here only the last chunk may complete the head.
      assert.equal(index, chunks.length - 1, 'head completed before the last chunk');
    }
  }
  return result;
}

function assertHandshakeError(fn: () => unknown, code: string, status: number): HandshakeError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof HandshakeError, `expected a HandshakeError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  return caught;
}

function plain(head: HttpRequestHead) {
  return { ...head, headers: Object.fromEntries(head.headers) };
}

describe('HttpRequestParser', () => {
  it('parses a request line and header fields', () => {
    const result = new HttpRequestParser().feed(latin1(REQUEST));
    assert.ok(result !== null);
    const { head, rest } = result;
    assert.equal(head.method, 'GET');
    assert.equal(head.target, '/chat?room=1');
    assert.equal(head.versionMajor, 1);
    assert.equal(head.versionMinor, 1);
    assert.equal(rest.length, 0);
    assert.deepEqual(Object.fromEntries(head.headers), {
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'keep-alive, Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      origin: 'http://example.com',
      // Repeated fields are joined with ", " (RFC 9110 §5.3), OWS trimmed.
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-version': '13',
      'x-empty': '',
      'x-tabs': 'a\tb',
    });
    assert.deepEqual(head.rawHeaders, [
      'Host',
      'server.example.com',
      'Upgrade',
      'websocket',
      'Connection',
      'keep-alive, Upgrade',
      'Sec-WebSocket-Key',
      'dGhlIHNhbXBsZSBub25jZQ==',
      'Origin',
      'http://example.com',
      'Sec-WebSocket-Protocol',
      'chat',
      'sec-websocket-protocol',
      'superchat',
      'Sec-WebSocket-Version',
      '13',
      'X-Empty',
      '',
      'X-Tabs',
      'a\tb',
    ]);
  });

  it('lowercases names in any case and keeps the received spelling in rawHeaders', () => {
    const head = parseRequestHead(
      latin1('GET / HTTP/1.1\r\nHOST: a\r\nsEc-WeBsOcKeT-kEy: k\r\nX-Ab-C: v\r\n\r\n'),
    );
    assert.deepEqual([...head.headers.keys()], ['host', 'sec-websocket-key', 'x-ab-c']);
    assert.deepEqual(head.rawHeaders, ['HOST', 'a', 'sEc-WeBsOcKeT-kEy', 'k', 'X-Ab-C', 'v']);
  });

  it('keeps names that differ in a non-letter apart', () => {
    const head = parseRequestHead(latin1('GET / HTTP/1.1\r\nHos^: a\r\nHost: b\r\n\r\n'));
    assert.deepEqual(Object.fromEntries(head.headers), { 'hos^': 'a', host: 'b' });
  });

  it('returns the bytes after the head as a view of the chunk', () => {
    const bytes = withFrame(REQUEST);
    const result = new HttpRequestParser().feed(bytes);
    assert.ok(result !== null);
    assert.deepEqual(result.rest, FRAME);
    assert.equal(result.rest.buffer, bytes.buffer);
  });

  it('gives the same head and rest under every split into two and three chunks', () => {
    const bytes = withFrame(REQUEST);
    const expected = plain(parseRequestHead(latin1(REQUEST)));
    const headEnd = REQUEST.length;
    for (let i = 1; i < bytes.length; i++) {
      const parser = new HttpRequestParser();
      const first = parser.feed(bytes.subarray(0, i));
      if (i >= headEnd) {
        assert.ok(first !== null, `split at ${i}`);
        assert.deepEqual(plain(first.head), expected);
        assert.deepEqual(first.rest, bytes.subarray(headEnd, i));
        continue;
      }
      assert.equal(first, null, `split at ${i}`);
      const second = parser.feed(bytes.subarray(i));
      assert.ok(second !== null, `split at ${i}`);
      assert.deepEqual(plain(second.head), expected);
      assert.deepEqual(second.rest, FRAME);
    }
    for (let i = 1; i < headEnd; i += 3) {
      for (let j = i + 1; j < headEnd; j++) {
        const result = feedAll(new HttpRequestParser(), [
          bytes.subarray(0, i),
          bytes.subarray(i, j),
          bytes.subarray(j),
        ]);
        assert.ok(result !== null, `splits at ${i}, ${j}`);
        assert.deepEqual(plain(result.head), expected);
        assert.deepEqual(result.rest, FRAME);
      }
    }
  });

  it('parses a head fed one byte at a time, empty chunks included', () => {
    const bytes = withFrame(REQUEST);
    const parser = new HttpRequestParser();
    assert.equal(parser.feed(new Uint8Array(0)), null);
    let result: HttpHeadResult<HttpRequestHead> | null = null;
    let i = 0;
    while (result === null) {
      assert.equal(parser.feed(new Uint8Array(0)), null);
      result = parser.feed(bytes.subarray(i, i + 1));
      i++;
    }
    assert.equal(i, REQUEST.length);
    assert.deepEqual(plain(result.head), plain(parseRequestHead(latin1(REQUEST))));
    assert.equal(result.rest.length, 0);
  });

  it('decodes obs-text as latin1, 0x80-0x9F included', () => {
    const value = String.fromCharCode(0x80, 0x9f, 0xa0, 0xe9, 0xff);
    const head = parseRequestHead(latin1(`GET / HTTP/1.1\r\nX-Text: ${value}\r\n\r\n`));
    assert.equal(head.headers.get('x-text'), value);
    const response = parseResponseHead(latin1(`HTTP/1.1 200 Caf\xe9 \x85\r\nA: b\r\n\r\n`));
    assert.equal(response.statusText, 'Caf\xe9 \x85');
  });

  it('accepts any token as method and HTTP versions with one digit each', () => {
    const head = parseRequestHead(latin1('M-SEARCH * HTTP/2.0\r\n\r\n'));
    assert.equal(head.method, 'M-SEARCH');
    assert.equal(head.target, '*');
    assert.equal(head.versionMajor, 2);
    assert.equal(head.versionMinor, 0);
    assert.equal(head.headers.size, 0);
  });

  const MALFORMED: [string, string, RegExp?][] = [
    ['bare LF ending a header line', 'GET / HTTP/1.1\r\nHost: a\n\r\n', /bare LF/],
    ['bare LF ending the request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
    ['bare LF head', 'GET / HTTP/1.1\n\n', /bare LF/],
    ['bare CR in a value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n'],
    ['bare CR ending a line', 'GET / HTTP/1.1\r\nHost: a\r\r\n\r\n', /bare CR/],
    ['obs-fold', 'GET / HTTP/1.1\r\nX-A: a\r\n  b\r\n\r\n', /folding/],
    ['obs-fold with HTAB', 'GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n', /folding/],
    ['header without colon', 'GET / HTTP/1.1\r\nHost\r\n\r\n', /without a colon/],
    ['whitespace before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', /header name/],
    ['empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['separator in name', 'GET / HTTP/1.1\r\nHo(st: a\r\n\r\n'],
    ['non-ASCII in name', 'GET / HTTP/1.1\r\nH\xe9: a\r\n\r\n'],
    ['NUL in value', 'GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n'],
    ['control character in value', 'GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n', /header value/],
    ['DEL in value', 'GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n'],
    ['empty method', ' / HTTP/1.1\r\n\r\n'],
    ['separator in method', 'G(T / HTTP/1.1\r\n\r\n'],
    ['missing target', 'GET HTTP/1.1\r\n\r\n'],
    ['two spaces', 'GET  / HTTP/1.1\r\n\r\n'],
    ['space in target', 'GET /a b HTTP/1.1\r\n\r\n', /HTTP version/],
    ['control character in target', 'GET /\x01 HTTP/1.1\r\n\r\n', /request target/],
    ['non-ASCII in target', 'GET /\xe9 HTTP/1.1\r\n\r\n'],
    ['lowercase version', 'GET / http/1.1\r\n\r\n', /HTTP version/],
    ['two-digit version', 'GET / HTTP/1.10\r\n\r\n'],
    ['version without dot', 'GET / HTTP/11\r\n\r\n'],
    ['no version', 'GET /\r\n\r\n'],
    ['trailing space after version', 'GET / HTTP/1.1 \r\n\r\n'],
    ['empty line before the request line', '\r\nGET / HTTP/1.1\r\n\r\n'],
    ['only CRLF CRLF', '\r\n\r\n'],
  ];

  for (const [name, text, message] of MALFORMED) {
    it(`rejects ${name} with ERR_HANDSHAKE_MALFORMED (400), whole and one byte at a time`, () => {
      const bytes = latin1(text);
      const error = assertHandshakeError(
        () => new HttpRequestParser().feed(bytes),
        'ERR_HANDSHAKE_MALFORMED',
        400,
      );
      assert.match(error.message, message ?? /^Malformed HTTP head: /);
      assertHandshakeError(() => parseRequestHead(bytes), 'ERR_HANDSHAKE_MALFORMED', 400);
      const parser = new HttpRequestParser();
      assertHandshakeError(
        () => {
          for (let i = 0; i < bytes.length; i++) assert.equal(parser.feed(bytes.subarray(i, i + 1)), null);
        },
        'ERR_HANDSHAKE_MALFORMED',
        400,
      );
    });
  }

  it('refuses a bare LF as soon as it arrives, without waiting for the limit', () => {
    const parser = new HttpRequestParser();
    assert.equal(parser.feed(latin1('GET / HTTP/1.1\r\n')), null);
    assertHandshakeError(() => parser.feed(latin1('Host: a\n')), 'ERR_HANDSHAKE_MALFORMED', 400);
  });

  it('refuses parseRequestHead on an incomplete head or trailing bytes', () => {
    assertHandshakeError(
      () => parseRequestHead(latin1('GET / HTTP/1.1\r\n')),
      'ERR_HANDSHAKE_MALFORMED',
      400,
    );
    assertHandshakeError(() => parseRequestHead(withFrame(REQUEST)), 'ERR_HANDSHAKE_MALFORMED', 400);
  });

  it('throws when fed again after a result or an error', () => {
    const done = new HttpRequestParser();
    assert.ok(done.feed(latin1(REQUEST)) !== null);
    assert.throws(() => done.feed(FRAME), /after the head was complete or failed/);
    const failed = new HttpRequestParser();
    assert.throws(() => failed.feed(latin1('GET / HTTP/1.1\n')), HandshakeError);
    assert.throws(() => failed.feed(latin1(REQUEST)), /after the head was complete or failed/);
  });
});

describe('HttpHeadParser size limit', () => {
  /** A complete request head of exactly `size` bytes. */
  function headOfSize(size: number): string {
    const base = 'GET / HTTP/1.1\r\nX-Pad: \r\n\r\n';
    return base.replace('X-Pad: ', `X-Pad: ${'a'.repeat(size - base.length)}`);
  }

  it('defaults to 16 KiB', () => {
    assert.equal(DEFAULT_MAX_HEADER_SIZE, 16384);
    assert.equal(new HttpRequestParser().maxHeaderSize, 16384);
    assert.ok(new HttpRequestParser().feed(latin1(headOfSize(16384))) !== null);
    assertHandshakeError(
      () => new HttpRequestParser().feed(latin1(headOfSize(16385))),
      'ERR_HANDSHAKE_HEADER_TOO_LARGE',
      431,
    );
  });

  it('accepts a head of exactly maxHeaderSize bytes and refuses one byte more, however chunked', () => {
    const max = 200;
    for (const [size, ok] of [
      [max, true],
      [max + 1, false],
    ] as const) {
      const bytes = withFrame(headOfSize(size));
      for (const pieces of [1, 2, 7, bytes.length]) {
        const step = Math.ceil(bytes.length / pieces);
        const chunks = Array.from({ length: pieces }, (_, i) => bytes.subarray(i * step, (i + 1) * step));
        const parser = new HttpRequestParser({ maxHeaderSize: max });
        if (ok) {
          let result: HttpHeadResult<HttpRequestHead> | null = null;
          for (const chunk of chunks) result ??= parser.feed(chunk);
          assert.ok(result !== null, `${pieces} pieces`);
          assert.equal(result.head.headers.get('x-pad')?.length, size - 27);
        } else {
          assertHandshakeError(
            () => {
              for (const chunk of chunks) parser.feed(chunk);
            },
            'ERR_HANDSHAKE_HEADER_TOO_LARGE',
            431,
          );
        }
      }
    }
  });

  it('parses a small head followed by far more than the limit in the same chunk', () => {
    const head = headOfSize(100);
    const bytes = new Uint8Array(100_000);
    bytes.set(latin1(head));
    const result = new HttpRequestParser({ maxHeaderSize: 128 }).feed(bytes);
    assert.ok(result !== null);
    assert.equal(result.rest.length, 100_000 - 100);
  });

  it('fails on the byte that reaches the limit when a slow client sends one byte at a time', () => {
    const max = 64;
    const parser = new HttpRequestParser({ maxHeaderSize: max });
    const bytes = latin1(`GET / HTTP/1.1\r\nX-Slow: ${'a'.repeat(100)}`);
    for (let i = 0; i < max - 1; i++) assert.equal(parser.feed(bytes.subarray(i, i + 1)), null);
    assertHandshakeError(
      () => parser.feed(bytes.subarray(max - 1, max)),
      'ERR_HANDSHAKE_HEADER_TOO_LARGE',
      431,
    );
  });

  it('never buffers more than maxHeaderSize bytes', () => {
    const max = 1000;
    const parser = new HttpRequestParser({ maxHeaderSize: max });
    const internals = parser as unknown as { buffer: Uint8Array | null };
    assert.equal(parser.feed(latin1('GET / HTTP/1.1\r\nX-Big: ')), null);
    assert.equal(parser.feed(new Uint8Array(900).fill(0x61)), null);
    assert.ok(internals.buffer !== null && internals.buffer.length <= max);
    // A huge chunk is looked at only up to the limit: the error comes before anything is copied past it.
    const huge = new Uint8Array(10_000_000).fill(0x61);
    assertHandshakeError(() => parser.feed(huge), 'ERR_HANDSHAKE_HEADER_TOO_LARGE', 431);
    assert.equal(internals.buffer, null);
  });

  it('refuses a single oversized chunk without a terminator at once', () => {
    const bytes = new Uint8Array(20_000).fill(0x61);
    bytes.set(latin1('GET / HTTP/1.1\r\nX: '));
    assertHandshakeError(() => new HttpRequestParser().feed(bytes), 'ERR_HANDSHAKE_HEADER_TOO_LARGE', 431);
  });

  it('rejects a nonsensical maxHeaderSize', () => {
    assert.throws(() => new HttpRequestParser({ maxHeaderSize: 0 }), RangeError);
    assert.throws(() => new HttpRequestParser({ maxHeaderSize: 1.5 }), RangeError);
    assert.throws(() => new HttpResponseParser({ maxHeaderSize: Number.NaN }), RangeError);
  });
});

describe('HttpResponseParser', () => {
  const RESPONSE =
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
    '\r\n';

  it('parses a status line and fields under every split, and returns the frames after them', () => {
    const bytes = withFrame(RESPONSE);
    for (let i = 1; i <= bytes.length; i++) {
      const parser = new HttpResponseParser();
      const result = parser.feed(bytes.subarray(0, i)) ?? parser.feed(bytes.subarray(i));
      assert.ok(result !== null, `split at ${i}`);
      const { head, rest } = result;
      assert.equal(head.status, 101);
      assert.equal(head.statusText, 'Switching Protocols');
      assert.equal(head.versionMajor, 1);
      assert.equal(head.versionMinor, 1);
      assert.equal(head.headers.get('sec-websocket-accept'), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
      assert.equal(head.rawHeaders.length, 6);
      assert.deepEqual(rest, i < RESPONSE.length ? FRAME : bytes.subarray(RESPONSE.length, i));
    }
  });

  it('accepts an empty reason, with or without the SP before it', () => {
    for (const line of ['HTTP/1.1 404 ', 'HTTP/1.1 404']) {
      const head = parseResponseHead(latin1(`${line}\r\nA: b\r\n\r\n`));
      assert.equal(head.status, 404);
      assert.equal(head.statusText, '');
    }
    assert.equal(parseResponseHead(latin1('HTTP/1.0 200 O K\t\r\n\r\n')).statusText, 'O K\t');
  });

  for (const [name, text] of [
    ['a letter in the status code', 'HTTP/1.1 1O1 Switching\r\n\r\n'],
    ['a four-digit status code', 'HTTP/1.1 1010 Switching\r\n\r\n'],
    ['a two-digit status code', 'HTTP/1.1 10 Switching\r\n\r\n'],
    ['a missing SP after the version', 'HTTP/1.1  101 Switching\r\n\r\n'],
    ['a control character in the reason', 'HTTP/1.1 101 Swi\x01tching\r\n\r\n'],
    ['a lowercase version', 'http/1.1 101 Switching\r\n\r\n'],
    ['a bare LF', 'HTTP/1.1 101 Switching\nUpgrade: websocket\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 101 Switching\r\nUpgrade : websocket\r\n\r\n'],
  ]) {
    it(`rejects ${name}`, () => {
      assertHandshakeError(
        () => new HttpResponseParser().feed(latin1(text!)),
        'ERR_HANDSHAKE_MALFORMED',
        400,
      );
    });
  }

  it('applies the size limit too', () => {
    const parser = new HttpResponseParser({ maxHeaderSize: 32 });
    assertHandshakeError(
      () => parser.feed(latin1(`HTTP/1.1 101 Switching Protocols\r\nX: y\r\n\r\n`)),
      'ERR_HANDSHAKE_HEADER_TOO_LARGE',
      431,
    );
  });
});

describe('isToken', () => {
  it('accepts tchar strings and nothing else (RFC 9110 §5.6.2)', () => {
    for (const token of ['websocket', 'permessage-deflate', "!#$%&'*+-.^_`|~", 'A0z9']) {
      assert.equal(isToken(token), true, token);
    }
    for (const text of [
      '',
      'a b',
      'a,b',
      'a;b',
      'a=b',
      '"a"',
      'a/b',
      'a:b',
      'é',
      'a\tb',
      '(a)',
      'a@b',
      '{}',
    ]) {
      assert.equal(isToken(text), false, JSON.stringify(text));
    }
  });
});
