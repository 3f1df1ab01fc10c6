/**
 * permessage-deflate (RFC 7692): negotiation in both roles and the per-connection extension.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { RSV1 } from '../../src/protocol/constants.js';
import { deflatePoolSize, trimDeflatePool } from '../../src/protocol/deflate-codec.js';
import { HandshakeError, ProtocolError } from '../../src/protocol/errors.js';
import type { Extension, ExtensionParams } from '../../src/protocol/extension.js';
import {
  isIdleReleasable,
  PerMessageDeflate,
  type PerMessageDeflateOptions,
  perMessageDeflate,
} from '../../src/protocol/permessage-deflate.js';

const enc = new TextEncoder();
const TEXT = { isText: true, compress: true } as const;

function jsonLike(bytes: number, seed = 1): Uint8Array {
  const items: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    const item = JSON.stringify({ id: i * seed, name: `user-${(i * 7919 + seed) % 1000}`, on: i % 3 === 0 });
    items.push(item);
    size += item.length + 1;
  }
  return enc.encode(items.join(',')).subarray(0, bytes);
}

function random(bytes: number): Uint8Array {
  let x = 2463534242;
  return new Uint8Array(bytes).map(() => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  });
}

/** A server instance, a client instance, and the response params, negotiated from the client's offer. */
function negotiate(
  serverOptions: PerMessageDeflateOptions = {},
  clientOptions: PerMessageDeflateOptions = {},
) {
  const clientFactory = perMessageDeflate(clientOptions);
  const accepted = perMessageDeflate(serverOptions).accept(clientFactory.offer());
  assert.ok(accepted, 'the server accepted the offer');
  const client = clientFactory.confirm(accepted.params);
  assert.ok(accepted.extension instanceof PerMessageDeflate && client instanceof PerMessageDeflate);
  return { server: accepted.extension, client, params: accepted.params };
}

/** Sends `payload` from one extension to the other; returns what arrived and the wire size. */
function transfer(from: Extension, to: Extension, payload: Uint8Array, pieceSize = Infinity) {
  const encoded = from.encode(payload, TEXT);
  if (encoded === null) return { received: payload, wireSize: payload.length, compressed: false };
  return { received: decodeInPieces(to, encoded, pieceSize), wireSize: encoded.length, compressed: true };
}

function decodeInPieces(to: Extension, data: Uint8Array, pieceSize: number, max = 1 << 26): Uint8Array {
  if (data.length === 0) return to.decode(data, true, max);
  const parts: Uint8Array[] = [];
  let produced = 0;
  for (let i = 0; i < data.length; i += pieceSize) {
    const end = Math.min(i + pieceSize, data.length);
    const part = to.decode(data.subarray(i, end), end === data.length, max - produced);
    produced += part.length;
    parts.push(part);
  }
  return new Uint8Array(Buffer.concat(parts));
}

function accept(offers: ExtensionParams[], options: PerMessageDeflateOptions = {}) {
  return perMessageDeflate(options).accept(offers);
}

/** Accepts `offers`, asserting that one was acceptable. */
function acceptOne(offers: ExtensionParams[], options: PerMessageDeflateOptions = {}) {
  const result = accept(offers, options);
  assert.ok(result, `accepted ${JSON.stringify(offers)}`);
  assert.ok(result.extension instanceof PerMessageDeflate);
  return { params: result.params, agreement: result.extension.agreement };
}

function expectExtensionFailure(clientOptions: PerMessageDeflateOptions, response: ExtensionParams): void {
  assert.throws(
    () => perMessageDeflate(clientOptions).confirm(response),
    (error: unknown) => error instanceof HandshakeError && error.code === 'ERR_HANDSHAKE_EXTENSION',
    JSON.stringify(response),
  );
}

describe('offer (client role)', () => {
  test('by default offers the bare client_max_window_bits', () => {
    assert.deepEqual(perMessageDeflate().offer(), [{ client_max_window_bits: true }]);
  });

  test('offers every configured parameter', () => {
    const factory = perMessageDeflate({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 11,
    });
    assert.equal(factory.name, 'permessage-deflate');
    assert.deepEqual(factory.offer(), [
      {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: '10',
        client_max_window_bits: '11',
      },
    ]);
    assert.deepEqual(perMessageDeflate({ clientMaxWindowBits: false }).offer(), [{}]);
  });

  test('rejects options out of range', () => {
    for (const options of [
      { serverMaxWindowBits: 16 },
      { serverMaxWindowBits: 7 },
      { clientMaxWindowBits: 7 },
      { clientMaxWindowBits: 9.5 },
      { level: 10 },
      { memLevel: 0 },
      { threshold: -1 },
      { idleTimeoutMs: -5 },
    ]) {
      assert.throws(() => perMessageDeflate(options), RangeError, JSON.stringify(options));
    }
  });
});

describe('accept (server role)', () => {
  test('defaults: no context takeover both ways, added though not offered (§7.1.1)', () => {
    const result = accept([{}]);
    assert.ok(result);
    assert.deepEqual(result.params, { server_no_context_takeover: true, client_no_context_takeover: true });
    assert.ok(result.extension instanceof PerMessageDeflate);
    assert.deepEqual(result.extension.agreement, {
      outWindowBits: 15,
      inWindowBits: 15,
      outNoContextTakeover: true,
      inNoContextTakeover: true,
    });
    assert.equal(result.extension.rsv, RSV1);
  });

  const contextTakeover = { serverNoContextTakeover: false, clientNoContextTakeover: false };

  test('with context takeover allowed, an empty offer gets an empty response', () => {
    const result = acceptOne([{}], contextTakeover);
    assert.deepEqual(result.params, {});
    assert.equal(result.agreement.outNoContextTakeover, false);
  });

  test('echoes an offered server_no_context_takeover even when configured to allow takeover', () => {
    const result = acceptOne([{ server_no_context_takeover: true }], contextTakeover);
    assert.deepEqual(result.params, { server_no_context_takeover: true });
    assert.equal(result.agreement.outNoContextTakeover, true);
  });

  test('echoes an offered client_no_context_takeover (the client promised it anyway)', () => {
    const result = acceptOne([{ client_no_context_takeover: true }], contextTakeover);
    assert.deepEqual(result.params, { client_no_context_takeover: true });
    assert.equal(result.agreement.inNoContextTakeover, true);
  });

  test('server_max_window_bits: echoed, lowered to ours, or added from ours (§7.1.2.1)', () => {
    const cases: [ExtensionParams, number | undefined, string | undefined][] = [
      [{ server_max_window_bits: '10' }, undefined, '10'],
      [{ server_max_window_bits: '10' }, 9, '9'],
      [{ server_max_window_bits: '10' }, 12, '10'],
      [{}, 11, '11'],
      [{}, undefined, undefined],
    ];
    for (const [offer, configured, expected] of cases) {
      const result = acceptOne([offer], { ...contextTakeover, serverMaxWindowBits: configured });
      assert.equal(result.params.server_max_window_bits, expected, JSON.stringify([offer, configured]));
      assert.equal(result.agreement.outWindowBits, Number(expected ?? 15));
    }
  });

  test('client_max_window_bits: only answered when offered, never above the offer (§7.1.2.2)', () => {
    const cases: [ExtensionParams, number | undefined, string | undefined][] = [
      [{ client_max_window_bits: true }, undefined, undefined],
      [{ client_max_window_bits: true }, 10, '10'],
      [{ client_max_window_bits: '12' }, undefined, '12'],
      [{ client_max_window_bits: '12' }, 10, '10'],
      [{ client_max_window_bits: '12' }, 14, '12'],
      [{}, 10, undefined],
    ];
    for (const [offer, configured, expected] of cases) {
      const result = acceptOne([offer], { ...contextTakeover, clientMaxWindowBits: configured });
      assert.equal(result.params.client_max_window_bits, expected, JSON.stringify([offer, configured]));
      assert.equal(result.agreement.inWindowBits, Number(expected ?? 15));
    }
  });

  test('all four parameters together', () => {
    const result = acceptOne(
      [
        {
          server_no_context_takeover: true,
          client_no_context_takeover: true,
          server_max_window_bits: '9',
          client_max_window_bits: '8',
        },
      ],
      contextTakeover,
    );
    assert.deepEqual(result.params, {
      server_no_context_takeover: true,
      client_no_context_takeover: true,
      server_max_window_bits: '9',
      client_max_window_bits: '8',
    });
  });

  test('declines offers with unknown parameters or bad values', () => {
    const bad: ExtensionParams[] = [
      { foo: true },
      // Names that exist on Object.prototype are unknown parameters too.
      JSON.parse('{"constructor": true}'),
      JSON.parse('{"__proto__": "9"}'),
      { toString: '1' },
      { server_no_context_takeover: 'x' },
      { client_no_context_takeover: '' },
      { server_max_window_bits: true },
      ...['7', '16', '08', '010', '9 ', ' 9', 'abc', '-9', '+9', '9.0', '0x9', ''].map((v) => ({
        server_max_window_bits: v,
      })),
      ...['7', '16', '08', '1e1', ''].map((v) => ({ client_max_window_bits: v })),
    ];
    for (const offer of bad) assert.equal(accept([offer]), null, JSON.stringify(offer));
  });

  test('the first acceptable offer wins', () => {
    const result = acceptOne([{ server_max_window_bits: '20' }, { server_max_window_bits: '10' }, {}]);
    assert.equal(result.params.server_max_window_bits, '10');
    assert.equal(accept([{ x: true }, { server_max_window_bits: '08' }]), null);
    assert.equal(accept([]), null);
  });
});

describe('confirm (client role)', () => {
  test('accepts parameters the server may add unasked', () => {
    const client = perMessageDeflate().confirm({
      server_no_context_takeover: true,
      client_no_context_takeover: true,
      server_max_window_bits: '12',
      client_max_window_bits: '10',
    });
    assert.ok(client instanceof PerMessageDeflate);
    assert.deepEqual(client.agreement, {
      outWindowBits: 10,
      inWindowBits: 12,
      outNoContextTakeover: true,
      inNoContextTakeover: true,
    });
  });

  test('keeps its promise of client_no_context_takeover and its offered window', () => {
    const client = perMessageDeflate({ clientNoContextTakeover: true, clientMaxWindowBits: 11 }).confirm({});
    assert.deepEqual((client as PerMessageDeflate).agreement, {
      outWindowBits: 11,
      inWindowBits: 15,
      outNoContextTakeover: true,
      inNoContextTakeover: false,
    });
  });

  test('fails the connection for responses that break §7.1', () => {
    expectExtensionFailure({}, { foo: true });
    expectExtensionFailure({}, { server_no_context_takeover: '1' });
    expectExtensionFailure({}, { client_no_context_takeover: 'yes' });
    expectExtensionFailure({}, { server_max_window_bits: '16' });
    expectExtensionFailure({}, { server_max_window_bits: '08' });
    expectExtensionFailure({}, { server_max_window_bits: true });
    // A response must give client_max_window_bits a value, and only if we offered it, no larger.
    expectExtensionFailure({}, { client_max_window_bits: true });
    expectExtensionFailure({ clientMaxWindowBits: false }, { client_max_window_bits: '10' });
    expectExtensionFailure({ clientMaxWindowBits: 10 }, { client_max_window_bits: '11' });
    // server_max_window_bits we offered must come back, not larger.
    expectExtensionFailure({ serverMaxWindowBits: 10 }, { server_max_window_bits: '11' });
    expectExtensionFailure({ serverMaxWindowBits: 10 }, {});
    expectExtensionFailure({ serverNoContextTakeover: true }, {});
  });

  test('accepts a smaller server_max_window_bits than offered', () => {
    const client = perMessageDeflate({ serverMaxWindowBits: 12 }).confirm({ server_max_window_bits: '9' });
    assert.equal((client as PerMessageDeflate).agreement.inWindowBits, 9);
  });
});

describe('Autobahn 13.x parameter combinations', () => {
  const combos: PerMessageDeflateOptions[] = [];
  for (const bits of [undefined, 8, 9, 15] as const) {
    for (const noContext of [false, true]) {
      combos.push({ clientMaxWindowBits: bits ?? true, clientNoContextTakeover: noContext });
      combos.push({ serverMaxWindowBits: bits, serverNoContextTakeover: noContext });
    }
  }
  const serverModes: PerMessageDeflateOptions[] = [
    { threshold: 0 },
    { threshold: 0, serverNoContextTakeover: false, clientNoContextTakeover: false },
    { threshold: 0, serverNoContextTakeover: false, clientNoContextTakeover: false, sharedCompressor: false },
  ];
  for (const offer of combos) {
    test(`offer ${JSON.stringify(offer)}: negotiates and round-trips both ways`, () => {
      for (const serverOptions of serverModes) {
        const { server, client, params } = negotiate(serverOptions, { ...offer, threshold: 0 });
        const messages = [jsonLike(3000, 1), jsonLike(3000, 1), enc.encode('short'), jsonLike(20_000, 2)];
        for (const message of messages) {
          assert.deepEqual(transfer(server, client, message, 7).received, message, JSON.stringify(params));
          assert.deepEqual(transfer(client, server, message, 1000).received, message, JSON.stringify(params));
        }
        // A 256-byte window cannot be honoured by raw DEFLATE: such a side sends uncompressed.
        assert.equal(server.encode(messages[0]!, TEXT) === null, server.agreement.outWindowBits === 8);
        assert.equal(client.encode(messages[0]!, TEXT) === null, client.agreement.outWindowBits === 8);
        server.close();
        client.close();
      }
    });
  }
});

describe('the extension codec', () => {
  const takeover = { serverNoContextTakeover: false, clientNoContextTakeover: false };

  test('context takeover makes a repeated message smaller, both ways', () => {
    const { server, client } = negotiate(takeover);
    const message = jsonLike(4000);
    for (const [from, to] of [
      [server, client],
      [client, server],
    ] as const) {
      const sizes = [1, 2, 3].map(() => {
        const { received, wireSize } = transfer(from, to, message);
        assert.deepEqual(received, message);
        return wireSize;
      });
      assert.ok(sizes[1]! < sizes[0]! / 4, `sizes ${sizes}`);
    }
  });

  test('without context takeover every copy costs the same', () => {
    for (const sharedCompressor of [true, false]) {
      const { server, client } = negotiate({ sharedCompressor });
      const message = jsonLike(4000);
      const sizes = [1, 2, 3].map(() => transfer(server, client, message).wireSize);
      assert.equal(new Set(sizes).size, 1);
      assert.ok(sizes[0]! < message.length / 2);
    }
  });

  test('one byte at a time', () => {
    const { server, client } = negotiate(takeover);
    for (const message of [jsonLike(2000), jsonLike(2000), jsonLike(5000, 7)]) {
      assert.deepEqual(transfer(client, server, message, 1).received, message);
    }
  });

  test('threshold and compress:false leave messages uncompressed', () => {
    const { server } = negotiate();
    assert.equal(server.encode(jsonLike(1023), TEXT), null);
    assert.ok(server.encode(jsonLike(1024), TEXT));
    assert.equal(server.encode(jsonLike(4000), { isText: true, compress: false }), null);
    assert.equal(negotiate({ threshold: 5000 }).server.encode(jsonLike(4999), TEXT), null);
  });

  test('empty messages: never worth compressing, but decoded in both forms', () => {
    const { server, client } = negotiate({ threshold: 0, ...takeover }, { threshold: 0 });
    assert.equal(server.encode(new Uint8Array(0), TEXT), null);
    assert.equal(client.decode(Uint8Array.of(0x00), true, 100).length, 0);
    assert.equal(client.decode(new Uint8Array(0), true, 100).length, 0);
    const message = jsonLike(3000);
    assert.deepEqual(transfer(server, client, message).received, message);
  });

  test('incompressible data goes out uncompressed, and the context stays consistent', () => {
    const { server, client } = negotiate(takeover);
    const message = jsonLike(3000);
    assert.equal(transfer(server, client, message).compressed, true);
    assert.equal(server.encode(random(3000), TEXT), null);
    // The compressor saw the random bytes, the peer did not: the next message must still decode.
    const again = transfer(server, client, message);
    assert.equal(again.compressed, true);
    assert.deepEqual(again.received, message);
  });

  test('interoperates with plain zlib in both directions', () => {
    const { server } = negotiate(takeover);
    const message = jsonLike(5000);
    const wire = server.encode(message, TEXT)!;
    const tail = Uint8Array.of(0, 0, 0xff, 0xff);
    const inflated = zlib.inflateRawSync(Buffer.concat([wire, tail]), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    assert.deepEqual(new Uint8Array(inflated), message);
    const fromZlib = zlib.deflateRawSync(message, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.deepEqual(server.decode(fromZlib.subarray(0, -4), true, 1 << 20), message);
    assert.deepEqual(server.decode(zlib.deflateRawSync(message), true, 1 << 20), message, 'BFINAL form');
  });

  test('encodeShared is memoized per window, level and memLevel', () => {
    const cache = new Map<string, unknown>();
    const message = jsonLike(4000);
    const a = negotiate().server;
    const b = negotiate().server;
    const narrow = negotiate({ serverMaxWindowBits: 10 }).server;
    const first = a.encodeShared(message, TEXT, cache);
    assert.ok(first);
    assert.equal(b.encodeShared(message, TEXT, cache), first, 'the same bytes for every connection');
    assert.notEqual(narrow.encodeShared(message, TEXT, cache), first);
    assert.equal(cache.size, 2);
    assert.equal(a.encodeShared(jsonLike(100), TEXT, new Map()), null, 'threshold applies');
    const randomCache = new Map<string, unknown>();
    assert.equal(a.encodeShared(random(4000), TEXT, randomCache), null);
    assert.equal([...randomCache.values()][0], null, 'not worth compressing: remembered too');
  });

  test('encodeShared output decodes at a context-takeover peer, and own messages still decode after it', () => {
    const { server, client } = negotiate(takeover);
    const m1 = jsonLike(3000, 1);
    const m2 = jsonLike(3000, 5);
    assert.deepEqual(transfer(server, client, m1).received, m1);
    const shared = server.encodeShared(m2, TEXT, new Map());
    assert.ok(shared);
    assert.deepEqual(client.decode(shared, true, 1 << 20), m2);
    // Without a reset, our compressor would refer to m1 where the peer's window now holds m2.
    assert.deepEqual(transfer(server, client, m1).received, m1);
    assert.deepEqual(transfer(server, client, m2).received, m2);
  });

  test('a zip bomb ends in 1009 and returns no broken context to the pool', () => {
    trimDeflatePool();
    const { server } = negotiate();
    const bomb = zlib.deflateRawSync(Buffer.alloc(50 << 20), {
      level: 9,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    assert.throws(
      () => decodeInPieces(server, bomb.subarray(0, -4), 4096, 1 << 20),
      (error: unknown) =>
        error instanceof ProtocolError && error.closeCode === 1009 && error.code === 'ERR_MESSAGE_TOO_BIG',
    );
    assert.equal(server.heldContexts, 0);
    assert.equal(deflatePoolSize().decompressors, 0);
    const message = jsonLike(2000);
    assert.deepEqual(
      transfer(negotiate().client, server, message).received,
      message,
      'a fresh context next time',
    );
  });

  test('corrupt data ends in 1007', () => {
    const { server } = negotiate(takeover);
    assert.throws(
      () => server.decode(Uint8Array.of(0xff, 0xee, 0xdd, 0xcc), true, 1000),
      (error: unknown) =>
        error instanceof ProtocolError && error.closeCode === 1007 && error.code === 'ERR_EXTENSION',
    );
    assert.equal(server.heldContexts, 0);
  });
});

describe('memory: lazy, shared and released contexts', () => {
  test('server defaults: a connection holds no zlib context between messages', () => {
    const { server, client } = negotiate();
    assert.equal(server.heldContexts, 0);
    const message = jsonLike(1024);
    transfer(server, client, message);
    transfer(client, server, message);
    assert.equal(server.heldContexts, 0);
    assert.equal(client.heldContexts, 0);
    server.decode(client.encode(message, TEXT)!.subarray(0, 10), false, 1 << 20);
    assert.equal(server.heldContexts, 1, 'a pooled inflater is lent while a message is half received');
  });

  test('per-connection mode without takeover: releaseIdle frees both contexts', () => {
    const { server, client } = negotiate({ sharedCompressor: false }, { sharedCompressor: false });
    const message = jsonLike(2000);
    transfer(server, client, message);
    transfer(client, server, message);
    assert.equal(server.heldContexts, 2);
    assert.ok(isIdleReleasable(server));
    assert.equal(server.idleTimeoutMs, 10_000);
    assert.equal(server.releaseIdle(), true);
    assert.equal(server.heldContexts, 0);
    assert.equal(server.releaseIdle(), false);
    assert.deepEqual(transfer(server, client, message).received, message);
    assert.deepEqual(transfer(client, server, message).received, message);
  });

  test('with context takeover, releaseIdle keeps the inflater the peer relies on', () => {
    const { server, client } = negotiate({ serverNoContextTakeover: false, clientNoContextTakeover: false });
    const message = jsonLike(3000);
    transfer(server, client, message);
    transfer(client, server, message);
    assert.equal(server.releaseIdle(), true);
    assert.equal(server.heldContexts, 1);
    // The client's next message refers to its window, which the server kept.
    const small = transfer(client, server, message);
    assert.ok(small.wireSize < 100);
    assert.deepEqual(small.received, message);
    // The server's fresh compressor no longer refers to history, which the client accepts.
    assert.deepEqual(transfer(server, client, message).received, message);
  });

  test('releaseIdle keeps an inflater that holds half a message', () => {
    const { server, client } = negotiate({ sharedCompressor: false });
    const wire = client.encode(jsonLike(3000), TEXT)!;
    const head = server.decode(wire.subarray(0, 50), false, 1 << 20);
    server.releaseIdle();
    const rest = server.decode(wire.subarray(50), true, 1 << 20);
    assert.deepEqual(new Uint8Array(Buffer.concat([head, rest])), jsonLike(3000));
  });

  test('close returns a lent context to the pool and refuses further use', () => {
    trimDeflatePool();
    const { server, client } = negotiate();
    server.decode(client.encode(jsonLike(3000), TEXT)!.subarray(0, 20), false, 1 << 20);
    server.close();
    server.close();
    assert.equal(server.heldContexts, 0);
    assert.equal(deflatePoolSize().decompressors, 1);
    assert.equal(server.encode(jsonLike(3000), TEXT), null);
    assert.throws(() => server.decode(Uint8Array.of(0), true, 10), ProtocolError);
    assert.equal(isIdleReleasable({ name: 'x' } as unknown as Extension), false);
  });
});
