/**
 * The example custom extension (examples/custom-extension.ts), exercised only through the
 * `ExtensionFactory` and `Extension` interfaces.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { XOR_EXTENSION, xorExtension } from '../../examples/custom-extension.js';
import { RSV1, RSV2 } from '../../src/protocol/constants.js';
import { HandshakeError, ProtocolError } from '../../src/protocol/errors.js';
import type { Extension, ExtensionFactory, ExtensionParams } from '../../src/protocol/extension.js';

const TEXT = { isText: true, compress: true } as const;
const bytes = (text: string) => new TextEncoder().encode(text);

function negotiate(
  server: ExtensionFactory,
  client: ExtensionFactory,
): [Extension, Extension, ExtensionParams] {
  const accepted = server.accept(client.offer());
  assert.ok(accepted, 'accepted');
  return [accepted.extension, client.confirm(accepted.params), accepted.params];
}

function isHandshakeFailure(error: unknown): boolean {
  return error instanceof HandshakeError && error.code === 'ERR_HANDSHAKE_EXTENSION';
}

describe('x-conduit-xor (example extension)', () => {
  test('offer → accept → confirm with the client key', () => {
    const client = xorExtension({ key: 42 });
    assert.equal(client.name, XOR_EXTENSION);
    assert.deepEqual(client.offer(), [{ key: '42' }]);
    const [server, confirmed, params] = negotiate(xorExtension({ key: 7 }), client);
    assert.deepEqual(params, { key: '42' });
    assert.equal(server.rsv, RSV2);
    assert.equal(confirmed.rsv, RSV2);
    assert.equal(server.rsv & RSV1, 0, 'does not collide with permessage-deflate');
  });

  test('without a client key the server picks its own', () => {
    const client = xorExtension();
    assert.deepEqual(client.offer(), [{}]);
    const [, , params] = negotiate(xorExtension({ key: 7 }), client);
    assert.deepEqual(params, { key: '7' });
  });

  test('the server declines unknown parameters and bad keys, taking the first acceptable offer', () => {
    const server = xorExtension();
    for (const offer of [{ mode: 'x' }, { key: '256' }, { key: '07' }, { key: true }] as ExtensionParams[]) {
      assert.equal(server.accept([offer]), null, JSON.stringify(offer));
    }
    assert.deepEqual(server.accept([{ key: '-1' }, { key: '3' }])?.params, { key: '3' });
  });

  test('the client rejects a missing, bad or changed key', () => {
    assert.throws(() => xorExtension().confirm({}), isHandshakeFailure);
    assert.throws(() => xorExtension().confirm({ key: '300' }), isHandshakeFailure);
    assert.throws(() => xorExtension().confirm({ key: '1', extra: true }), isHandshakeFailure);
    assert.throws(() => xorExtension({ key: 5 }).confirm({ key: '6' }), isHandshakeFailure);
    assert.throws(() => xorExtension({ key: 256 }), RangeError);
  });

  test('encode → decode round trips in both directions, in pieces', () => {
    const [server, client] = negotiate(xorExtension(), xorExtension({ key: 0x5c }));
    const message = bytes('{"hello":"world","n":[1,2,3]}');
    const wire = server.encode(message, TEXT);
    assert.ok(wire);
    assert.notDeepEqual(wire, message);
    const pieces = [wire.subarray(0, 5), wire.subarray(5, 6), wire.subarray(6)];
    const received = pieces.map((piece, i) => client.decode(piece, i === pieces.length - 1, 1000));
    assert.deepEqual(new Uint8Array(Buffer.concat(received)), message);
    const back = client.encode(message, TEXT)!;
    assert.deepEqual(server.decode(back, true, 1000), message);
  });

  test('compress:false leaves the message alone; the output limit is enforced', () => {
    const [server] = negotiate(xorExtension(), xorExtension());
    assert.equal(server.encode(bytes('plain'), { isText: true, compress: false }), null);
    assert.throws(
      () => server.decode(bytes('too long'), true, 3),
      (error: unknown) => error instanceof ProtocolError && error.closeCode === 1009,
    );
  });

  test('encodeShared memoizes one encoding for every connection with the same key', () => {
    const cache = new Map<string, unknown>();
    const [a] = negotiate(xorExtension(), xorExtension({ key: 1 }));
    const [b] = negotiate(xorExtension(), xorExtension({ key: 1 }));
    const [c] = negotiate(xorExtension(), xorExtension({ key: 2 }));
    const message = bytes('broadcast');
    const shared = a.encodeShared?.(message, TEXT, cache);
    assert.ok(shared);
    assert.equal(b.encodeShared?.(message, TEXT, cache), shared);
    assert.notEqual(c.encodeShared?.(message, TEXT, cache), shared);
    assert.deepEqual(b.decode(shared, true, 100), message);
    a.close();
  });
});
