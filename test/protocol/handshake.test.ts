import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { describe, it } from 'node:test';
import { HandshakeError } from '../../src/protocol/errors.js';
import type {
  Extension,
  ExtensionFactory,
  ExtensionOffer,
  ExtensionParams,
} from '../../src/protocol/extension.js';
import {
  computeAccept,
  countHeader,
  formatHeaderLines,
  generateKey,
  hasToken,
  isValidKey,
  parseSubprotocols,
  splitList,
} from '../../src/protocol/handshake.js';
import {
  buildClientRequest,
  type ClientRequestOptions,
  validateServerResponse,
} from '../../src/protocol/handshake-client.js';
import {
  buildRejection,
  buildServerResponse,
  negotiateExtensions,
  selectSubprotocol,
  validateClientRequest,
} from '../../src/protocol/handshake-server.js';
import {
  type HttpRequestHead,
  type HttpResponseHead,
  HttpResponseParser,
  parseRequestHead,
  parseResponseHead,
} from '../../src/protocol/http-head.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const latin1 = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));

function expectHandshakeError(
  fn: () => unknown,
  code: string,
  status: number,
  mention?: RegExp,
  headers?: Record<string, string>,
): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof HandshakeError, `expected a HandshakeError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, status, error.message);
    if (mention !== undefined) assert.match(error.message, mention);
    if (headers !== undefined) assert.deepEqual({ ...error.headers }, headers);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------
// A tiny fake extension and its factory, recording what they were asked.

class FakeExtension implements Extension {
  closed = false;
  constructor(
    readonly name: string,
    readonly rsv: number,
    readonly params: ExtensionParams,
  ) {}
  encode(): Uint8Array | null {
    return null;
  }
  decode(piece: Uint8Array): Uint8Array {
    return piece;
  }
  close(): void {
    this.closed = true;
  }
}

interface FakeBehaviour {
  rsv?: number;
  /** Server role: picks the response params from the offers, or null to decline. Default: the first. */
  accept?: (offers: readonly ExtensionParams[]) => ExtensionParams | null;
  /** Client role: throws to reject the response params. */
  confirm?: (params: ExtensionParams) => void;
}

class FakeFactory implements ExtensionFactory {
  readonly acceptCalls: ExtensionParams[][] = [];
  readonly created: FakeExtension[] = [];
  constructor(
    readonly name: string,
    private readonly behaviour: FakeBehaviour = {},
  ) {}
  offer(): ExtensionParams[] {
    return [{}];
  }
  accept(offers: readonly ExtensionParams[]) {
    this.acceptCalls.push([...offers]);
    const params = this.behaviour.accept ? this.behaviour.accept(offers) : (offers[0] ?? null);
    if (params === null) return null;
    return { params, extension: this.make(params) };
  }
  confirm(params: ExtensionParams): Extension {
    this.behaviour.confirm?.(params);
    return this.make(params);
  }
  private make(params: ExtensionParams): FakeExtension {
    const extension = new FakeExtension(this.name, this.behaviour.rsv ?? 0, params);
    this.created.push(extension);
    return extension;
  }
}

// ---------------------------------------------------------------------------------------------------

describe('key and accept', () => {
  it('computes the accept value of the RFC 6455 §1.3 sample key', () => {
    assert.equal(computeAccept(KEY), ACCEPT);
  });

  it('generates keys of 16 random bytes in base64', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const key = generateKey();
      assert.equal(key.length, 24);
      assert.ok(isValidKey(key), key);
      assert.equal(Buffer.from(key, 'base64').length, 16);
      keys.add(key);
    }
    assert.equal(keys.size, 100);
  });

  it('accepts only base64 of exactly 16 bytes as a key', () => {
    assert.ok(isValidKey(KEY));
    assert.ok(isValidKey('AAAAAAAAAAAAAAAAAAAAAA=='));
    assert.ok(isValidKey('+/+/+/+/+/+/+/+/+/+/+w=='));
    for (const key of [
      '',
      'dGhlIHNhbXBsZSBub25jZQ',
      'dGhlIHNhbXBsZSBub25jZQ=',
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZXg=',
      'dGhlIHNhbXBsZSBub25jZXh4eA==',
      'dGhlIHNhbXBsZSBub25j ZQ==',
      'dGhlIHNhbXBsZSBub25jZ-==',
      ' dGhlIHNhbXBsZSBub25jZQ==',
    ]) {
      assert.equal(isValidKey(key), false, key);
    }
  });
});

describe('token lists', () => {
  it('splits comma lists, trimming OWS and dropping empty elements (RFC 9110 §5.6.1)', () => {
    assert.deepEqual(splitList(undefined), []);
    assert.deepEqual(splitList(''), []);
    assert.deepEqual(splitList('a'), ['a']);
    assert.deepEqual(splitList(' a ,\tb\t, ,, c'), ['a', 'b', 'c']);
  });

  it('finds a token ignoring case, only as a whole element', () => {
    assert.equal(hasToken('Upgrade', 'upgrade'), true);
    assert.equal(hasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(hasToken('UPGRADE,keep-alive', 'upgrade'), true);
    assert.equal(hasToken(' , upgrade ,', 'Upgrade'), true);
    assert.equal(hasToken('upgraded', 'upgrade'), false);
    assert.equal(hasToken('keep-alive', 'upgrade'), false);
    assert.equal(hasToken('up grade', 'upgrade'), false);
    assert.equal(hasToken(undefined, 'upgrade'), false);
  });

  it('parses subprotocol lists and refuses non-tokens and duplicates', () => {
    assert.deepEqual(parseSubprotocols(undefined), []);
    assert.deepEqual(parseSubprotocols('chat, superchat'), ['chat', 'superchat']);
    assert.deepEqual(parseSubprotocols('chat,,v2.chat.example.com '), ['chat', 'v2.chat.example.com']);
    for (const bad of ['a b', 'chat, chat', '"chat"', 'a/b', 'a;b', 'ch@t', 'é']) {
      expectHandshakeError(
        () => parseSubprotocols(bad),
        'ERR_HANDSHAKE_SUBPROTOCOL',
        400,
        /Sec-WebSocket-Protocol/,
      );
    }
  });

  it('counts raw header occurrences ignoring case', () => {
    assert.equal(countHeader(['Host', 'a', 'host', 'b', 'X', 'c'], 'HOST'), 2);
    assert.equal(countHeader([], 'host'), 0);
  });

  it('formats extra headers and refuses injection, bad names and reserved names', () => {
    assert.equal(formatHeaderLines({ 'X-A': '1', 'X-B': 'a\tb' }, new Set()), 'X-A: 1\r\nX-B: a\tb\r\n');
    assert.equal(formatHeaderLines(undefined, new Set()), '');
    assert.throws(() => formatHeaderLines({ 'X-A': 'a\r\nSet-Cookie: x' }, new Set()), TypeError);
    assert.throws(() => formatHeaderLines({ 'X-A': 'a\nb' }, new Set()), TypeError);
    assert.throws(() => formatHeaderLines({ 'X-A': 'a\0' }, new Set()), TypeError);
    assert.throws(() => formatHeaderLines({ 'X-A': 'caf\u00e9' }, new Set()), TypeError);
    assert.throws(() => formatHeaderLines({ 'X A': 'a' }, new Set()), TypeError);
    assert.throws(() => formatHeaderLines({ 'X-A:': 'a' }, new Set()), TypeError);
    assert.throws(() => formatHeaderLines({ Upgrade: 'h2c' }, new Set(['upgrade'])), /set by the handshake/);
  });
});

// ---------------------------------------------------------------------------------------------------

const RFC_REQUEST =
  'GET /chat HTTP/1.1\r\n' +
  'Host: server.example.com\r\n' +
  'Upgrade: websocket\r\n' +
  'Connection: Upgrade\r\n' +
  `Sec-WebSocket-Key: ${KEY}\r\n` +
  'Origin: http://example.com\r\n' +
  'Sec-WebSocket-Protocol: chat, superchat\r\n' +
  'Sec-WebSocket-Version: 13\r\n' +
  '\r\n';

/** The RFC request with `line` replaced (or removed when `by` is empty). */
function requestWith(find: RegExp, by: string): HttpRequestHead {
  const text = RFC_REQUEST.replace(find, by);
  assert.notEqual(text, RFC_REQUEST, `${find} did not match`);
  return parseRequestHead(latin1(text));
}

function requestPlus(lines: string): HttpRequestHead {
  return parseRequestHead(latin1(RFC_REQUEST.replace(/\r\n\r\n$/, `\r\n${lines}\r\n\r\n`)));
}

describe('validateClientRequest', () => {
  it('accepts the RFC 6455 §1.2 sample request', () => {
    const info = validateClientRequest(parseRequestHead(latin1(RFC_REQUEST)));
    assert.deepEqual(info, {
      key: KEY,
      version: 13,
      protocols: ['chat', 'superchat'],
      extensionOffers: [],
      origin: 'http://example.com',
      host: 'server.example.com',
      path: '/chat',
    });
  });

  it('parses extension offers in the client order', () => {
    const info = validateClientRequest(
      requestPlus(
        'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nSec-WebSocket-Extensions: x',
      ),
    );
    assert.deepEqual(
      info.extensionOffers.map((offer) => [offer.name, { ...offer.params }]),
      [
        ['permessage-deflate', { client_max_window_bits: true }],
        ['x', {}],
      ],
    );
  });

  it('leaves origin out when the client sent none, and protocols empty', () => {
    const info = validateClientRequest(requestWith(/Origin: .*\r\nSec-WebSocket-Protocol: .*\r\n/, ''));
    assert.equal('origin' in info, false);
    assert.deepEqual(info.protocols, []);
  });

  it('matches header names and the Upgrade/Connection tokens case-insensitively', () => {
    const text = RFC_REQUEST.replace('Upgrade: websocket', 'UPGRADE: WebSocket')
      .replace('Connection: Upgrade', 'connection: keep-alive, UPGRADE')
      .replace('Sec-WebSocket-Key', 'sec-websocket-key')
      .replace('Host:', 'HoSt:');
    assert.equal(validateClientRequest(parseRequestHead(latin1(text))).key, KEY);
  });

  it('accepts Upgrade and Connection lists with other tokens, and later HTTP versions', () => {
    assert.ok(validateClientRequest(requestWith(/Upgrade: websocket/, 'Upgrade: h2c, websocket')));
    assert.ok(validateClientRequest(requestWith(/Connection: Upgrade/, 'Connection: keep-alive,Upgrade')));
    assert.ok(validateClientRequest(requestWith(/HTTP\/1\.1/, 'HTTP/1.2')));
    assert.ok(validateClientRequest(requestWith(/HTTP\/1\.1/, 'HTTP/2.0')));
  });

  it('takes the path from an absolute-form target (RFC 6455 §4.2.1 item 1)', () => {
    for (const [target, path] of [
      ['ws://server.example.com/chat?room=1', '/chat?room=1'],
      ['wss://server.example.com:8443/', '/'],
      ['http://server.example.com', '/'],
      ['ws://server.example.com?x=1', '/?x=1'],
    ]) {
      assert.equal(validateClientRequest(requestWith(/\/chat /, `${target} `)).path, path, target);
    }
    expectHandshakeError(
      () => validateClientRequest(requestWith(/\/chat /, '* ')),
      'ERR_HANDSHAKE_MALFORMED',
      400,
    );
    expectHandshakeError(
      () => validateClientRequest(requestWith(/\/chat /, 'server.example.com:80 ')),
      'ERR_HANDSHAKE_MALFORMED',
      400,
      /request target/,
    );
  });

  it('answers another method with 405 and Allow: GET (RFC 9110 §15.5.6)', () => {
    for (const method of ['POST', 'HEAD', 'get', 'CONNECT']) {
      expectHandshakeError(
        () => validateClientRequest(requestWith(/^GET/, method)),
        'ERR_HANDSHAKE_METHOD',
        405,
        new RegExp(method),
        { Allow: 'GET' },
      );
    }
  });

  it('refuses HTTP versions before 1.1 with 400', () => {
    for (const version of ['HTTP/1.0', 'HTTP/0.9']) {
      expectHandshakeError(
        () => validateClientRequest(requestWith(/HTTP\/1\.1/, version)),
        'ERR_HANDSHAKE_HTTP_VERSION',
        400,
        /HTTP\/1\.1/,
      );
    }
  });

  it('refuses a missing, empty or repeated Host with 400 (RFC 9112 §3.2)', () => {
    expectHandshakeError(
      () => validateClientRequest(requestWith(/Host: .*\r\n/, '')),
      'ERR_HANDSHAKE_HOST',
      400,
      /Missing Host/,
    );
    expectHandshakeError(
      () => validateClientRequest(requestWith(/Host: .*\r\n/, 'Host:\r\n')),
      'ERR_HANDSHAKE_HOST',
      400,
      /Empty Host/,
    );
    expectHandshakeError(
      () => validateClientRequest(requestPlus('host: other.example.com')),
      'ERR_HANDSHAKE_HOST',
      400,
      /Repeated Host/,
    );
  });

  it('refuses an Upgrade without the websocket token with 400', () => {
    for (const replacement of [
      '',
      'Upgrade: h2c\r\n',
      'Upgrade: websockets\r\n',
      'Upgrade: websocket/13x y\r\n',
      'Upgrade:\r\n',
    ]) {
      expectHandshakeError(
        () => validateClientRequest(requestWith(/Upgrade: websocket\r\n/, replacement)),
        'ERR_HANDSHAKE_UPGRADE',
        400,
        /Upgrade header/,
      );
    }
  });

  it('refuses a Connection without the upgrade token with 400', () => {
    for (const replacement of [
      '',
      'Connection: keep-alive\r\n',
      'Connection: Upgraded\r\n',
      'Connection: keep-alive Upgrade\r\n',
    ]) {
      expectHandshakeError(
        () => validateClientRequest(requestWith(/Connection: Upgrade\r\n/, replacement)),
        'ERR_HANDSHAKE_CONNECTION',
        400,
        /Connection header/,
      );
    }
  });

  it('answers a missing or other version with 426 and Sec-WebSocket-Version: 13 (RFC 6455 §4.4)', () => {
    for (const replacement of [
      '',
      'Sec-WebSocket-Version: 8\r\n',
      'Sec-WebSocket-Version: 13, 8\r\n',
      'Sec-WebSocket-Version: 013\r\n',
    ]) {
      expectHandshakeError(
        () => validateClientRequest(requestWith(/Sec-WebSocket-Version: 13\r\n/, replacement)),
        'ERR_HANDSHAKE_VERSION',
        426,
        /Sec-WebSocket-Version/,
        { 'Sec-WebSocket-Version': '13', Upgrade: 'websocket' },
      );
    }
    expectHandshakeError(
      () => validateClientRequest(requestPlus('Sec-WebSocket-Version: 13')),
      'ERR_HANDSHAKE_VERSION',
      426,
    );
  });

  it('refuses a missing, malformed or repeated key with 400', () => {
    for (const replacement of [
      '',
      'Sec-WebSocket-Key:\r\n',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ\r\n',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZXh4eA==\r\n',
      'Sec-WebSocket-Key: not base64 at all!!!!!==\r\n',
    ]) {
      expectHandshakeError(
        () => validateClientRequest(requestWith(/Sec-WebSocket-Key: .*\r\n/, replacement)),
        'ERR_HANDSHAKE_KEY',
        400,
        /Sec-WebSocket-Key/,
      );
    }
    // Even the same valid key twice: the joined value is no key, and the repetition is named.
    expectHandshakeError(
      () => validateClientRequest(requestPlus(`Sec-WebSocket-Key: ${KEY}`)),
      'ERR_HANDSHAKE_KEY',
      400,
      /Repeated Sec-WebSocket-Key/,
    );
  });

  it('refuses malformed subprotocol and extension headers with 400', () => {
    expectHandshakeError(
      () => validateClientRequest(requestWith(/chat, superchat/, 'chat, super chat')),
      'ERR_HANDSHAKE_SUBPROTOCOL',
      400,
      /Sec-WebSocket-Protocol/,
    );
    expectHandshakeError(
      () => validateClientRequest(requestWith(/chat, superchat/, 'chat, chat')),
      'ERR_HANDSHAKE_SUBPROTOCOL',
      400,
    );
    expectHandshakeError(
      () => validateClientRequest(requestPlus('Sec-WebSocket-Extensions: permessage-deflate; a="b c"')),
      'ERR_HANDSHAKE_EXTENSION',
      400,
      /Sec-WebSocket-Extensions/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------

function offers(header: string): ExtensionOffer[] {
  return validateClientRequest(requestPlus(`Sec-WebSocket-Extensions: ${header}`)).extensionOffers;
}

describe('negotiateExtensions', () => {
  it('gives each factory all offers of its name in client order, and keeps the client order', () => {
    const a = new FakeFactory('a', { rsv: 0x40, accept: (list) => list[1] ?? null });
    const c = new FakeFactory('c', { rsv: 0x20 });
    // Factories listed in the other order: the response still follows the client's order.
    const result = negotiateExtensions(offers('a; x=1, b, a; y, c; z=2, a'), [c, a]);
    assert.deepEqual(
      a.acceptCalls.map((call) => call.map((params) => ({ ...params }))),
      [[{ x: '1' }, { y: true }, {}]],
    );
    assert.equal(c.acceptCalls.length, 1);
    assert.deepEqual(result.extensions, [a.created[0], c.created[0]]);
    assert.equal(result.header, 'a; y, c; z=2');
  });

  it('orders by first appearance in the offers even when that differs from factory order', () => {
    const a = new FakeFactory('a', { rsv: 0x40 });
    const b = new FakeFactory('b', { rsv: 0x20 });
    const result = negotiateExtensions(offers('b, a'), [a, b]);
    assert.deepEqual(
      result.extensions.map((extension) => extension.name),
      ['b', 'a'],
    );
    assert.equal(result.header, 'b, a');
  });

  it('declines an offer with a repeated parameter and moves on to the next offer (RFC 7692 §7.1)', () => {
    const a = new FakeFactory('a', { rsv: 0x40 });
    const result = negotiateExtensions(offers('a; x; x, a; y=1'), [a]);
    assert.deepEqual(
      a.acceptCalls.map((call) => call.map((params) => ({ ...params }))),
      [[{ y: '1' }]],
    );
    assert.equal(result.header, 'a; y=1');
    const none = negotiateExtensions(offers('a; x=1; x=1'), [new FakeFactory('a')]);
    assert.deepEqual(none, { extensions: [], header: undefined });
  });

  it('ignores unknown extensions and declined offers; no header when nothing is accepted', () => {
    const declining = new FakeFactory('a', { accept: () => null });
    const result = negotiateExtensions(offers('a, unknown; p=1'), [declining]);
    assert.equal(declining.acceptCalls.length, 1);
    assert.deepEqual(result, { extensions: [], header: undefined });
    assert.deepEqual(negotiateExtensions([], [declining]), { extensions: [], header: undefined });
  });

  it('declines and closes an extension whose RSV bits clash with one accepted before', () => {
    const first = new FakeFactory('first', { rsv: 0x40 });
    const second = new FakeFactory('second', { rsv: 0x40 });
    const result = negotiateExtensions(offers('first, second'), [first, second]);
    assert.deepEqual(result.extensions, [first.created[0]]);
    assert.equal(result.header, 'first');
    assert.equal(second.created[0]?.closed, true);
    assert.equal(first.created[0]?.closed, false);
  });

  it('closes what it accepted when a later factory throws', () => {
    const good = new FakeFactory('good', { rsv: 0x40 });
    const bad = new FakeFactory('bad', {
      accept: () => {
        throw new HandshakeError('ERR_HANDSHAKE_EXTENSION', 'bad offer');
      },
    });
    expectHandshakeError(
      () => negotiateExtensions(offers('good, bad'), [good, bad]),
      'ERR_HANDSHAKE_EXTENSION',
      400,
    );
    assert.equal(good.created[0]?.closed, true);
  });
});

describe('selectSubprotocol', () => {
  it('picks none without a handler', () => {
    assert.equal(selectSubprotocol(['chat']), undefined);
  });

  it('returns what the handler picks among the offered, or none for a falsy answer', () => {
    let seen: string[] = [];
    const offered = ['chat', 'superchat'];
    assert.equal(
      selectSubprotocol(offered, (list) => {
        seen = list;
        return 'superchat';
      }),
      'superchat',
    );
    assert.deepEqual(seen, offered);
    assert.notEqual(seen, offered, 'the handler gets a copy');
    assert.equal(
      selectSubprotocol(offered, () => false),
      undefined,
    );
    assert.equal(
      selectSubprotocol(offered, () => undefined),
      undefined,
    );
  });

  it('throws a TypeError when the handler picks a protocol that was not offered', () => {
    assert.throws(() => selectSubprotocol(['chat'], () => 'other'), TypeError);
    assert.throws(() => selectSubprotocol([], () => 'chat'), TypeError);
    assert.throws(() => selectSubprotocol(['chat'], () => 'Chat'), TypeError);
  });
});

describe('buildServerResponse', () => {
  it('builds the RFC 6455 §1.3 sample response', () => {
    assert.equal(
      buildServerResponse({ accept: ACCEPT, protocol: 'chat' }),
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
        'Sec-WebSocket-Protocol: chat\r\n' +
        '\r\n',
    );
  });

  it('adds the extensions header and extra headers; omits what is not given', () => {
    const text = buildServerResponse({
      accept: ACCEPT,
      extensionsHeader: 'permessage-deflate; server_no_context_takeover',
      headers: { 'Set-Cookie': 'id=1' },
    });
    assert.equal(
      text,
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n` +
        'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\nSet-Cookie: id=1\r\n\r\n',
    );
    assert.doesNotMatch(buildServerResponse({ accept: ACCEPT, extensionsHeader: '' }), /Extensions/);
  });

  it('refuses header injection, reserved headers and a non-token protocol', () => {
    assert.throws(
      () => buildServerResponse({ accept: ACCEPT, headers: { 'X-A': 'a\r\nX-B: b' } }),
      TypeError,
    );
    assert.throws(() => buildServerResponse({ accept: ACCEPT, headers: { connection: 'close' } }), TypeError);
    assert.throws(() => buildServerResponse({ accept: ACCEPT, protocol: 'a b' }), TypeError);
    assert.throws(() => buildServerResponse({ accept: `${ACCEPT}\r\nX: y` }), TypeError);
    assert.throws(() => buildServerResponse({ accept: ACCEPT, extensionsHeader: 'a\r\nX: y' }), TypeError);
  });
});

describe('buildRejection', () => {
  function parseRejection(text: string): { head: HttpResponseHead; body: string } {
    const bytes = Buffer.from(text, 'utf8');
    const result = new HttpResponseParser().feed(bytes);
    assert.ok(result !== null);
    return { head: result.head, body: Buffer.from(result.rest).toString('utf8') };
  }

  it('builds a complete response that closes the connection, the reason as its body', () => {
    const text = buildRejection(400, 'Missing Host header');
    assert.equal(
      text,
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 19\r\n\r\nMissing Host header',
    );
  });

  it('counts Content-Length in UTF-8 bytes', () => {
    const { head, body } = parseRejection(buildRejection(403, 'Origin non autorisée ✗'));
    assert.equal(head.status, 403);
    assert.equal(head.statusText, 'Forbidden');
    assert.equal(body, 'Origin non autorisée ✗');
    assert.equal(Number(head.headers.get('content-length')), Buffer.byteLength(body));
  });

  it('carries the headers of a HandshakeError, and Connection: Upgrade with an Upgrade header', () => {
    try {
      validateClientRequest(requestWith(/Sec-WebSocket-Version: 13\r\n/, 'Sec-WebSocket-Version: 7\r\n'));
      assert.fail('expected a HandshakeError');
    } catch (error) {
      assert.ok(error instanceof HandshakeError);
      const { head } = parseRejection(buildRejection(error.status, error.message, error.headers));
      assert.equal(head.status, 426);
      assert.equal(head.statusText, 'Upgrade Required');
      assert.equal(head.headers.get('sec-websocket-version'), '13');
      assert.equal(head.headers.get('upgrade'), 'websocket');
      // RFC 9110 §7.8: Upgrade goes with the "upgrade" connection option.
      assert.equal(head.headers.get('connection'), 'Upgrade, close');
    }
    const { head } = parseRejection(buildRejection(405, 'GET only', { Allow: 'GET' }));
    assert.equal(head.headers.get('allow'), 'GET');
    assert.equal(head.headers.get('connection'), 'close');
  });

  it('strips CR, LF and other controls from header values and drops invalid or reserved names', () => {
    const text = buildRejection(401, 'no', {
      'X-Reason': 'a\r\nSet-Cookie: evil=1',
      'Bad Name': 'x',
      'Content-Length': '999',
      connection: 'keep-alive',
      'X-Unicode': 'caf\u00e9',
    });
    const { head, body } = parseRejection(text);
    assert.equal(head.headers.get('x-reason'), 'aSet-Cookie: evil=1');
    assert.equal(head.headers.has('set-cookie'), false);
    assert.equal(head.headers.has('bad name'), false);
    assert.equal(head.headers.get('content-length'), '2');
    assert.equal(head.headers.get('connection'), 'close');
    assert.equal(head.headers.get('x-unicode'), 'caf');
    assert.equal(body, 'no');
  });

  it('names unknown statuses generically and refuses statuses that are not errors', () => {
    assert.match(buildRejection(418, 'teapot'), /^HTTP\/1\.1 418 Error\r\n/);
    assert.match(buildRejection(431, 'big'), /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    for (const status of [101, 200, 302, 600, 400.5, Number.NaN]) {
      assert.throws(() => buildRejection(status, 'x'), RangeError, String(status));
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('buildClientRequest', () => {
  it('builds the RFC 6455 §1.2 sample request', () => {
    assert.equal(
      buildClientRequest({
        host: 'server.example.com',
        path: '/chat',
        key: KEY,
        protocols: ['chat', 'superchat'],
        origin: 'http://example.com',
      }),
      'GET /chat HTTP/1.1\r\n' +
        'Host: server.example.com\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: chat, superchat\r\n' +
        'Origin: http://example.com\r\n' +
        '\r\n',
    );
  });

  it('round-trips through the server-side parser and validation', () => {
    const key = generateKey();
    const text = buildClientRequest({
      host: '[::1]:8080',
      path: '/a/b?c=d&e=%20',
      key,
      protocols: ['v1'],
      extensions: [
        { name: 'permessage-deflate', params: { client_max_window_bits: true } },
        { name: 'permessage-deflate', params: {} },
      ],
      headers: { Authorization: 'Bearer abc', 'X-Trace': '1' },
    });
    const head = parseRequestHead(latin1(text));
    const info = validateClientRequest(head);
    assert.equal(info.key, key);
    assert.equal(info.host, '[::1]:8080');
    assert.equal(info.path, '/a/b?c=d&e=%20');
    assert.deepEqual(info.protocols, ['v1']);
    assert.equal(info.extensionOffers.length, 2);
    assert.equal(head.headers.get('authorization'), 'Bearer abc');
    assert.equal(head.headers.get('x-trace'), '1');
    assert.equal('origin' in info, false);
    assert.doesNotMatch(
      buildClientRequest({ host: 'h', path: '/', key, protocols: [], extensions: [] }),
      /Sec-WebSocket-(Protocol|Extensions)/,
    );
  });

  it('throws a TypeError for invalid parts instead of sending them', () => {
    const base = { host: 'example.com', path: '/', key: KEY };
    const cases: ClientRequestOptions[] = [
      { ...base, host: '' },
      { ...base, host: 'example.com\r\nX: y' },
      { ...base, host: 'exa mple.com' },
      { ...base, path: 'chat' },
      { ...base, path: '/a b' },
      { ...base, path: '/a\r\n' },
      { ...base, path: '/caf\u00e9' },
      { ...base, key: 'short' },
      { ...base, protocols: ['chat', 'chat'] },
      { ...base, protocols: ['a b'] },
      { ...base, protocols: [''] },
      { ...base, extensions: [{ name: 'a b', params: {} }] },
      { ...base, extensions: [{ name: 'a', params: { b: 'caf\u00e9' } }] },
      { ...base, origin: 'http://a\r\nX: y' },
      { ...base, headers: { 'Sec-WebSocket-Key': KEY } },
      { ...base, headers: { host: 'other' } },
      { ...base, headers: { 'X-A': 'a\nb' } },
      { ...base, headers: { 'X A': 'a' } },
    ];
    for (const options of cases) {
      assert.throws(() => buildClientRequest(options), TypeError, JSON.stringify(options));
    }
  });
});

/** A 101 response to the sample key, with extra lines before the blank line. */
function response(extra = '', status = '101 Switching Protocols'): HttpResponseHead {
  return parseResponseHead(
    latin1(
      `HTTP/1.1 ${status}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Accept: ${ACCEPT}\r\n${extra}\r\n`,
    ),
  );
}

describe('validateServerResponse', () => {
  it('accepts the RFC 6455 §1.3 sample response', () => {
    assert.deepEqual(validateServerResponse(response(), { key: KEY }), {
      protocol: '',
      extensions: [],
      extensionsHeader: '',
    });
  });

  it('round-trips a response built by buildServerResponse', () => {
    const key = generateKey();
    const text = buildServerResponse({
      accept: computeAccept(key),
      protocol: 'v2',
      extensionsHeader: 'a; p=1',
    });
    const factory = new FakeFactory('a');
    const outcome = validateServerResponse(parseResponseHead(latin1(text)), {
      key,
      protocols: ['v1', 'v2'],
      extensionFactories: [factory],
    });
    assert.equal(outcome.protocol, 'v2');
    assert.equal(outcome.extensionsHeader, 'a; p=1');
    assert.deepEqual(outcome.extensions, factory.created);
    assert.deepEqual({ ...factory.created[0]?.params }, { p: '1' });
  });

  it('fails when the response repeats a parameter of an extension', () => {
    const key = generateKey();
    const text = buildServerResponse({ accept: computeAccept(key), extensionsHeader: 'a; p=1; p=1' });
    const factory = new FakeFactory('a');
    assert.throws(
      () => validateServerResponse(parseResponseHead(latin1(text)), { key, extensionFactories: [factory] }),
      (error: unknown) => error instanceof HandshakeError && error.code === 'ERR_HANDSHAKE_EXTENSION',
    );
  });

  it('fails on any status but 101, reporting the status received', () => {
    for (const status of ['200 OK', '302 Found', '400 Bad Request', '426 Upgrade Required']) {
      expectHandshakeError(
        () => validateServerResponse(response('', status), { key: KEY }),
        'ERR_HANDSHAKE_STATUS',
        Number(status.slice(0, 3)),
        new RegExp(status.slice(0, 3)),
      );
    }
  });

  it('checks Upgrade (exactly websocket, any case) and Connection (upgrade token, any case)', () => {
    const head = (text: string) => parseResponseHead(latin1(text));
    const accept = `Sec-WebSocket-Accept: ${ACCEPT}\r\n`;
    assert.ok(
      validateServerResponse(
        head(`HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nCONNECTION: keep-alive, UPGRADE\r\n${accept}\r\n`),
        { key: KEY },
      ),
    );
    for (const upgrade of [
      '',
      'Upgrade: h2c\r\n',
      'Upgrade: websocket, h2c\r\n',
      'Upgrade: websockets\r\n',
    ]) {
      expectHandshakeError(
        () =>
          validateServerResponse(head(`HTTP/1.1 101 OK\r\n${upgrade}Connection: Upgrade\r\n${accept}\r\n`), {
            key: KEY,
          }),
        'ERR_HANDSHAKE_UPGRADE',
        400,
        /Upgrade/,
      );
    }
    for (const connection of ['', 'Connection: keep-alive\r\n', 'Connection: close\r\n']) {
      expectHandshakeError(
        () =>
          validateServerResponse(
            head(`HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n${connection}${accept}\r\n`),
            { key: KEY },
          ),
        'ERR_HANDSHAKE_CONNECTION',
        400,
        /Connection/,
      );
    }
  });

  it('fails on a missing or wrong Sec-WebSocket-Accept', () => {
    expectHandshakeError(
      () => validateServerResponse(response(), { key: generateKey() }),
      'ERR_HANDSHAKE_ACCEPT',
      400,
      /Sec-WebSocket-Accept/,
    );
    const missing = parseResponseHead(
      latin1('HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'),
    );
    expectHandshakeError(() => validateServerResponse(missing, { key: KEY }), 'ERR_HANDSHAKE_ACCEPT', 400);
    const lower = parseResponseHead(
      latin1(
        `HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${ACCEPT.toLowerCase()}\r\n\r\n`,
      ),
    );
    expectHandshakeError(() => validateServerResponse(lower, { key: KEY }), 'ERR_HANDSHAKE_ACCEPT', 400);
  });

  it('accepts an offered subprotocol and refuses any other, or any when none was offered', () => {
    const protocols = ['chat', 'superchat'];
    assert.equal(
      validateServerResponse(response('Sec-WebSocket-Protocol: superchat\r\n'), { key: KEY, protocols })
        .protocol,
      'superchat',
    );
    assert.equal(validateServerResponse(response(), { key: KEY, protocols }).protocol, '');
    for (const [extra, offered] of [
      ['Sec-WebSocket-Protocol: other\r\n', protocols],
      ['Sec-WebSocket-Protocol: Chat\r\n', protocols],
      ['Sec-WebSocket-Protocol: chat, superchat\r\n', protocols],
      ['Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: chat\r\n', protocols],
      ['Sec-WebSocket-Protocol:\r\n', protocols],
      ['Sec-WebSocket-Protocol: chat\r\n', []],
    ] as const) {
      expectHandshakeError(
        () => validateServerResponse(response(extra), { key: KEY, protocols: offered }),
        'ERR_HANDSHAKE_SUBPROTOCOL',
        400,
        /subprotocol/,
      );
    }
  });

  it('confirms extensions in response order', () => {
    const a = new FakeFactory('a', { rsv: 0x40 });
    const b = new FakeFactory('b', { rsv: 0x20 });
    const outcome = validateServerResponse(response('Sec-WebSocket-Extensions: b; q, a\r\n'), {
      key: KEY,
      extensionFactories: [a, b],
    });
    assert.deepEqual(
      outcome.extensions.map((extension) => extension.name),
      ['b', 'a'],
    );
    assert.equal(outcome.extensionsHeader, 'b; q, a');
  });

  it('fails on an extension not offered or accepted twice, closing what was confirmed', () => {
    const a = new FakeFactory('a', { rsv: 0x40 });
    expectHandshakeError(
      () =>
        validateServerResponse(response('Sec-WebSocket-Extensions: a, b\r\n'), {
          key: KEY,
          extensionFactories: [a],
        }),
      'ERR_HANDSHAKE_EXTENSION',
      400,
      /"b".*never offered/,
    );
    assert.equal(a.created[0]?.closed, true);
    expectHandshakeError(
      () => validateServerResponse(response('Sec-WebSocket-Extensions: a\r\n'), { key: KEY }),
      'ERR_HANDSHAKE_EXTENSION',
      400,
    );
    const twice = new FakeFactory('a');
    expectHandshakeError(
      () =>
        validateServerResponse(
          response('Sec-WebSocket-Extensions: a\r\nSec-WebSocket-Extensions: a; x\r\n'),
          {
            key: KEY,
            extensionFactories: [twice],
          },
        ),
      'ERR_HANDSHAKE_EXTENSION',
      400,
      /twice/,
    );
    assert.equal(twice.created.length, 1);
    assert.equal(twice.created[0]?.closed, true);
  });

  it('fails when confirm rejects the response, wrapping other errors as HandshakeErrors', () => {
    const first = new FakeFactory('first', { rsv: 0x20 });
    const rejecting = new FakeFactory('deflate', {
      confirm: (params) => {
        if ('bad' in params) throw new HandshakeError('ERR_HANDSHAKE_EXTENSION', 'bad parameter');
        throw new RangeError('window bits out of range');
      },
    });
    const factories = [first, rejecting];
    expectHandshakeError(
      () =>
        validateServerResponse(response('Sec-WebSocket-Extensions: first, deflate; bad\r\n'), {
          key: KEY,
          extensionFactories: factories,
        }),
      'ERR_HANDSHAKE_EXTENSION',
      400,
      /^bad parameter$/,
    );
    assert.equal(first.created[0]?.closed, true);
    expectHandshakeError(
      () =>
        validateServerResponse(response('Sec-WebSocket-Extensions: deflate; w=99\r\n'), {
          key: KEY,
          extensionFactories: factories,
        }),
      'ERR_HANDSHAKE_EXTENSION',
      400,
      /deflate.*window bits out of range/,
    );
  });

  it('fails when two confirmed extensions claim the same RSV bit', () => {
    const a = new FakeFactory('a', { rsv: 0x40 });
    const b = new FakeFactory('b', { rsv: 0x40 });
    expectHandshakeError(
      () =>
        validateServerResponse(response('Sec-WebSocket-Extensions: a, b\r\n'), {
          key: KEY,
          extensionFactories: [a, b],
        }),
      'ERR_HANDSHAKE_EXTENSION',
      400,
      /RSV/,
    );
    assert.equal(a.created[0]?.closed, true);
    assert.equal(b.created[0]?.closed, true);
  });

  it('fails on a malformed extensions header', () => {
    expectHandshakeError(
      () =>
        validateServerResponse(response('Sec-WebSocket-Extensions: a; b="x y"\r\n'), {
          key: KEY,
          extensionFactories: [new FakeFactory('a')],
        }),
      'ERR_HANDSHAKE_EXTENSION',
      400,
    );
  });
});
