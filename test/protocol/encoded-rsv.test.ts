/**
 * Opaque extensions and `SendOptions.encodedRsv`, driven through the sans-I/O protocol: a message a real
 * permessage-deflate peer compressed arrives through {@link PassthroughDeflate} still compressed (RSV1 noted,
 * no UTF-8 check on the compressed bytes), and sent on with `encodedRsv` it inflates to the original at a
 * real permessage-deflate peer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocketProtocol } from '../../src/protocol/connection.js';
import { RSV1, RSV2 } from '../../src/protocol/constants.js';
import type { Extension } from '../../src/protocol/extension.js';
import { perMessageDeflate } from '../../src/protocol/permessage-deflate.js';
import { PassthroughDeflate } from '../../src/protocol/permessage-deflate-passthrough.js';

/** A real permessage-deflate extension in `role`, negotiated with default parameters. */
function realDeflate(role: 'client' | 'server'): Extension {
  const server = perMessageDeflate({ threshold: 0 });
  const client = perMessageDeflate({ threshold: 0 });
  const accepted = server.accept(client.offer());
  assert.ok(accepted);
  return role === 'server' ? accepted.extension : client.confirm(accepted.params);
}

interface Received {
  data: Uint8Array;
  isBinary: boolean;
}

/** A protocol whose output is collected and whose messages are recorded. */
function peer(role: 'client' | 'server', extensions: Extension[]) {
  const wire: Uint8Array[] = [];
  const messages: Received[] = [];
  const errors: unknown[] = [];
  const protocol = new WebSocketProtocol(
    {
      write: (d) => wire.push(d.slice()),
      onMessage: (data, isBinary) => messages.push({ data: Uint8Array.from(data), isBinary }),
      onProtocolError: (error: unknown) => errors.push(error),
    } as ConstructorParameters<typeof WebSocketProtocol>[0],
    { role, extensions },
  );
  const drain = () => Buffer.concat(wire.splice(0));
  return { protocol, messages, errors, drain };
}

const TEXT = 'a compressible text, a compressible text, a compressible text: ünïcödé ✓';

describe('opaque extension + encodedRsv', () => {
  it('passes a compressed text message through without inflating it, and it inflates at the far end', () => {
    const client = peer('client', [realDeflate('client')]);
    const passthrough = new PassthroughDeflate({});
    const proxy = peer('server', [passthrough]);
    client.protocol.send(TEXT);
    const frame = client.drain();
    assert.equal(frame[0]! & RSV1, RSV1, 'the client compressed the message');
    proxy.protocol.receive(frame);
    assert.equal(proxy.errors.length, 0);
    assert.equal(proxy.messages.length, 1);
    const { data, isBinary } = proxy.messages[0]!;
    assert.equal(isBinary, false);
    assert.equal(passthrough.takeCompressed(), true);
    assert.equal(passthrough.takeCompressed(), false, 'the mark is cleared once taken');
    assert.notEqual(Buffer.from(data).toString(), TEXT, 'still compressed');

    // Send the compressed bytes on from a client-role proxy side towards a real server.
    const upstream = peer('client', [new PassthroughDeflate({})]);
    const server = peer('server', [realDeflate('server')]);
    upstream.protocol.send(data, { binary: false, encodedRsv: RSV1 });
    server.protocol.receive(upstream.drain());
    assert.equal(server.errors.length, 0);
    assert.equal(Buffer.from(server.messages[0]!.data).toString(), TEXT);
  });

  it('still checks the UTF-8 of text that arrives uncompressed through an opaque extension', () => {
    const raw = peer('client', []);
    raw.protocol.send(new Uint8Array([0xc3, 0x28]), { binary: true });
    const frame = raw.drain();
    frame[0] = (frame[0]! & 0xf0) | 0x01; // the same bytes as a text frame: invalid UTF-8
    const proxy = peer('server', [new PassthroughDeflate({})]);
    proxy.protocol.receive(frame);
    assert.equal(proxy.messages.length, 0);
    const out = proxy.drain();
    assert.equal(out[0], 0x88, 'a close frame went out');
    assert.equal(out.readUInt16BE(2), 1007, 'RFC 6455 §8.1: invalid UTF-8 closes with 1007');
  });

  it('refuses RSV bits no negotiated extension claims', () => {
    const plain = peer('server', []);
    assert.throws(() => plain.protocol.send('x', { encodedRsv: RSV1 }), RangeError);
    const proxy = peer('server', [new PassthroughDeflate({})]);
    assert.throws(() => proxy.protocol.send('x', { encodedRsv: RSV2 }), RangeError);
    assert.equal(proxy.drain().length, 0, 'nothing was written');
  });
});
