import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HandshakeError } from '../../src/protocol/errors.js';
import type { ExtensionOffer, ExtensionParams } from '../../src/protocol/extension.js';
import { parseExtensions, serializeExtensions } from '../../src/protocol/extension-header.js';

/** Offers as plain data, so null-prototype params compare equal to literals. */
function plain(offers: readonly ExtensionOffer[]): [string, [string, string | true][]][] {
  return offers.map(({ name, params }) => [name, Object.entries(params)]);
}

function offer(name: string, params: ExtensionParams = {}): ExtensionOffer {
  return { name, params };
}

function assertRejected(header: string): void {
  assert.throws(
    () => parseExtensions(header),
    (error: unknown) =>
      error instanceof HandshakeError &&
      error.code === 'ERR_HANDSHAKE_EXTENSION' &&
      error.status === 400 &&
      error.message.includes('Sec-WebSocket-Extensions'),
    JSON.stringify(header),
  );
}

describe('parseExtensions', () => {
  it('parses a bare extension name', () => {
    assert.deepEqual(plain(parseExtensions('permessage-deflate')), [['permessage-deflate', []]]);
  });

  it('parses parameters with and without values, in order', () => {
    const offers = parseExtensions('permessage-deflate; client_max_window_bits; server_max_window_bits=10');
    assert.deepEqual(plain(offers), [
      [
        'permessage-deflate',
        [
          ['client_max_window_bits', true],
          ['server_max_window_bits', '10'],
        ],
      ],
    ]);
  });

  it('parses several offers, several of the same extension, in the client order', () => {
    const offers = parseExtensions(
      'permessage-deflate; client_max_window_bits=10, permessage-deflate, x-webkit-deflate-frame',
    );
    assert.deepEqual(plain(offers), [
      ['permessage-deflate', [['client_max_window_bits', '10']]],
      ['permessage-deflate', []],
      ['x-webkit-deflate-frame', []],
    ]);
  });

  it('allows optional whitespace around every separator', () => {
    const offers = parseExtensions(' \tfoo ;\tbar = 1 ; baz\t,  qux ; a="b" \t');
    assert.deepEqual(plain(offers), [
      [
        'foo',
        [
          ['bar', '1'],
          ['baz', true],
        ],
      ],
      ['qux', [['a', 'b']]],
    ]);
  });

  it('unescapes quoted values that are tokens (RFC 6455 §9.1)', () => {
    assert.deepEqual(plain(parseExtensions('a; b="10"; c="\\t\\o\\k"; d="x-y"')), [
      [
        'a',
        [
          ['b', '10'],
          ['c', 'tok'],
          ['d', 'x-y'],
        ],
      ],
    ]);
  });

  it('ignores empty list elements (RFC 9110 §5.6.1.2) and returns nothing for an empty value', () => {
    assert.deepEqual(plain(parseExtensions('a, , b,')), [
      ['a', []],
      ['b', []],
    ]);
    assert.deepEqual(plain(parseExtensions(',a')), [['a', []]]);
    assert.deepEqual(parseExtensions(''), []);
    assert.deepEqual(parseExtensions(' , \t'), []);
  });

  it('keeps names such as __proto__ and toString as ordinary parameters', () => {
    const [parsed] = parseExtensions('a; __proto__=1; toString; constructor=x');
    assert.ok(parsed !== undefined);
    assert.equal(Object.getPrototypeOf(parsed.params), null);
    assert.deepEqual(Object.entries(parsed.params), [
      ['__proto__', '1'],
      ['toString', true],
      ['constructor', 'x'],
    ]);
  });

  it('keeps the case of names as received', () => {
    assert.deepEqual(plain(parseExtensions('PerMessage-Deflate; Client_Max_Window_Bits')), [
      ['PerMessage-Deflate', [['Client_Max_Window_Bits', true]]],
    ]);
  });

  it('marks a parameter repeated within one element (keeping the first value), not across elements', () => {
    const [deflate] = parseExtensions(
      'permessage-deflate; client_max_window_bits; client_max_window_bits=10',
    );
    assert.equal(deflate?.repeatedParam, 'client_max_window_bits');
    assert.equal(deflate?.params.client_max_window_bits, true);
    const [a] = parseExtensions('a; b=1; c; b=2');
    assert.equal(a?.repeatedParam, 'b');
    assert.equal(a?.params.b, '1');
    assert.equal(a?.params.c, true);
    const across = parseExtensions('a; b=1, a; b=2');
    assert.equal(across.length, 2);
    assert.equal(across[0]?.repeatedParam, undefined);
    assert.equal(across[1]?.repeatedParam, undefined);
  });

  for (const header of [
    ';',
    'a;',
    'a; ',
    'a;;b',
    'a; =1',
    'a; b=',
    'a; b= ,c',
    'a b',
    'a; b c',
    'a; b=1 2',
    'a=1',
    '; a',
    'a; b="1',
    'a; b="',
    'a; b=""',
    'a; b="1 2"',
    'a; b="1,2"',
    'a; b="\\"x"',
    'a; b="x\\',
    'a; b="\x01"',
    'a; b=1"',
    'a; b="1"2',
    '"a"',
    'a/b',
    'a; b/c',
    'a; b=c/d',
    'é',
    'a\r\n; b',
  ]) {
    it(`rejects ${JSON.stringify(header)} with ERR_HANDSHAKE_EXTENSION (400)`, () => {
      assertRejected(header);
    });
  }
});

describe('serializeExtensions', () => {
  it('writes elements and parameters with canonical separators', () => {
    assert.equal(
      serializeExtensions([
        offer('permessage-deflate', { client_max_window_bits: true, server_max_window_bits: '10' }),
        offer('permessage-deflate'),
      ]),
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate',
    );
    assert.equal(serializeExtensions([]), '');
  });

  it('quotes only values that are not tokens, escaping quote and backslash', () => {
    assert.equal(serializeExtensions([offer('a', { b: 'x-1' })]), 'a; b=x-1');
    assert.equal(serializeExtensions([offer('a', { b: 'x y' })]), 'a; b="x y"');
    assert.equal(serializeExtensions([offer('a', { b: 'say "hi"\\' })]), 'a; b="say \\"hi\\"\\\\"');
    assert.equal(serializeExtensions([offer('a', { b: '' })]), 'a; b=""');
  });

  it('throws a TypeError for names that are not tokens and values that cannot be quoted', () => {
    assert.throws(() => serializeExtensions([offer('a b')]), TypeError);
    assert.throws(() => serializeExtensions([offer('')]), TypeError);
    assert.throws(() => serializeExtensions([offer('a', { 'b=c': true })]), TypeError);
    assert.throws(() => serializeExtensions([offer('a', { b: 'x\r\nInjected: 1' })]), TypeError);
    assert.throws(() => serializeExtensions([offer('a', { b: '\u0100' })]), TypeError);
  });
});

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,10}$/;
const token = fc.stringMatching(TOKEN);
const offers = fc.array(
  fc.record({
    name: token,
    params: fc
      .uniqueArray(fc.tuple(token, fc.oneof(fc.constant<true>(true), token)), {
        selector: ([key]) => key,
        maxLength: 5,
      })
      .map((entries) => Object.fromEntries(entries) as ExtensionParams),
  }),
  { maxLength: 5 },
);

/** Writes offers the long way: random OWS around every separator and randomly quoted, escaped values. */
function looseSerialize(list: readonly ExtensionOffer[], ows: () => string, quote: () => boolean): string {
  const value = (text: string) =>
    quote() ? `"${text.replace(/./g, (c) => (quote() ? `\\${c}` : c))}"` : text;
  return list
    .map(({ name, params }) => {
      let element = `${ows()}${name}`;
      for (const [key, v] of Object.entries(params)) {
        element += `${ows()};${ows()}${key}`;
        if (v !== true) element += `${ows()}=${ows()}${value(v)}`;
      }
      return `${element}${ows()}`;
    })
    .join(',');
}

describe('extension header round trip (property)', () => {
  it('parse(serialize(offers)) gives the offers back', () => {
    fc.assert(
      fc.property(offers, (list) => {
        assert.deepEqual(plain(parseExtensions(serializeExtensions(list))), plain(list));
      }),
      { numRuns: 500 },
    );
  });

  it('parses any OWS and any quoting of token values to the same offers', () => {
    fc.assert(
      fc.property(
        offers,
        fc.infiniteStream(fc.constantFrom('', ' ', '\t', ' \t ')),
        fc.infiniteStream(fc.boolean()),
        (list, spaces, coins) => {
          const header = looseSerialize(
            list,
            () => spaces.next().value as string,
            () => coins.next().value as boolean,
          );
          assert.deepEqual(plain(parseExtensions(header)), plain(list));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws anything but a HandshakeError, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ab=;, "\\\t\x01é-'.split('')) }), (header) => {
        try {
          const parsed = parseExtensions(header);
          // Whatever parsed must serialize and parse back to itself.
          assert.deepEqual(plain(parseExtensions(serializeExtensions(parsed))), plain(parsed));
        } catch (error) {
          assert.ok(error instanceof HandshakeError, String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
