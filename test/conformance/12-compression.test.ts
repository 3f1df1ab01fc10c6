/**
 * Autobahn category 12 and the rules of RFC 7692 around it: permessage-deflate messages of many sizes
 * in both directions, the RFC's own examples (§7.2.3), where RSV1 may appear (§6.1), the decompressed
 * size limit, and prepared (broadcast) messages between ordinary ones with context takeover.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExtensionParams } from '../../src/protocol/extension.js';
import { PreparedMessage } from '../../src/protocol/prepared-message.js';
import {
  assertFailed,
  concat,
  deflateMessage,
  fromClient,
  fromServer,
  hex,
  inflateMessages,
  negotiateDeflate,
  OP,
  Peer,
  RSV1,
  RSV2,
  RSV3,
  randomBytes,
  utf8,
  wireMessages,
} from './harness.js';

const TAKEOVER = { serverNoContextTakeover: false, clientNoContextTakeover: false, threshold: 0 };

/** A client and a server peer sharing a negotiated permessage-deflate, and the server's response. */
function deflatePeers(
  clientOptions = {},
  serverOptions = {},
  limits = {},
): { client: Peer; server: Peer; response: ExtensionParams } {
  const pair = negotiateDeflate(clientOptions, serverOptions);
  return {
    client: new Peer('client', { extensions: [pair.client], ...limits }),
    server: new Peer('server', { extensions: [pair.server], ...limits }),
    response: pair.response,
  };
}

/** Compressible text of about `size` bytes: JSON-ish records with a counter. */
function jsonText(size: number, seed: number): string {
  let out = '';
  for (let i = 0; out.length < size; i++)
    out += `{"id":${seed * 1000 + i},"name":"item-${i % 17}","ok":true},`;
  return out.slice(0, size);
}

describe('12.1 compressed messages of many sizes, both directions', () => {
  const sizes = [16, 64, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072];
  sizes.forEach((size, i) => {
    for (const [direction, takeover] of [
      ['client → server', true],
      ['server → client', true],
      ['client → server', false],
      ['server → client', false],
    ] as const) {
      const mode = takeover ? 'context takeover' : 'no context takeover';
      it(`12.1.${i + 1} 20 text + 5 binary messages of ${size} bytes, ${direction}, ${mode} (RFC 7692 §7.2)`, () => {
        const options = takeover ? TAKEOVER : { threshold: 0 };
        const { client, server } = deflatePeers(options, options);
        const [from, to] = direction === 'client → server' ? [client, server] : [server, client];
        const texts = Array.from({ length: 20 }, (_, n) => jsonText(size, n));
        const binaries = Array.from({ length: 5 }, (_, n) => utf8(jsonText(size, n + 50)));
        for (const text of texts) from.protocol.send(text);
        for (const binary of binaries) from.protocol.send(binary);
        from.forward(to, 'random', size);
        assert.deepEqual(to.texts, texts);
        to.assertMessagesIntact();
        assert.deepEqual(
          to.messages.filter((m) => m.isBinary).map((m) => m.data),
          binaries,
        );
        const wire = wireMessages(from.written());
        // Compressible messages go out compressed, with RSV1 on their (single) frame.
        if (size >= 256) assert.ok(wire.every((m) => m.rsv === RSV1));
      });
    }
  });
});

describe('12.2 the examples of RFC 7692 §7.2.3, received by a client', () => {
  const rsv1Text = (payload: Uint8Array, extra = {}) => fromServer.text(payload, { rsv: RSV1, ...extra });

  it('12.2.1 "Hello" compressed in one frame: f2 48 cd c9 c9 07 00 (RFC 7692 §7.2.3.1)', () => {
    const { client } = deflatePeers();
    client.feed(rsv1Text(hex('f2 48 cd c9 c9 07 00')));
    assert.deepEqual(client.texts, ['Hello']);
  });

  it('12.2.2 the same compressed message in 2 fragments, RSV1 on the first only (RFC 7692 §7.2.3.1, §6.1)', () => {
    const { client } = deflatePeers();
    client.feed([rsv1Text(hex('f2 48 cd'), { fin: false }), fromServer.cont(hex('c9 c9 07 00'))]);
    assert.deepEqual(client.texts, ['Hello']);
  });

  it('12.2.3 a second "Hello" referring to the first through the shared window (RFC 7692 §7.2.3.2)', () => {
    const { client } = deflatePeers({}, { serverNoContextTakeover: false });
    client.feed([rsv1Text(hex('f2 48 cd c9 c9 07 00')), rsv1Text(hex('f2 00 11 00 00'))]);
    assert.deepEqual(client.texts, ['Hello', 'Hello']);
  });

  it('12.2.4 "Hello" in a DEFLATE block with no compression (RFC 7692 §7.2.3.3)', () => {
    const { client } = deflatePeers();
    client.feed(rsv1Text(hex('00 05 00 fa ff 48 65 6c 6c 6f 00')));
    assert.deepEqual(client.texts, ['Hello']);
  });

  it('12.2.5 "Hello" in a DEFLATE block with BFINAL set to 1 (RFC 7692 §7.2.3.4)', () => {
    const { client } = deflatePeers();
    const payload = deflateMessage(utf8('Hello'), 15, true);
    assert.equal(payload[0]! & 1, 1, 'BFINAL is the first bit of the block');
    client.feed([rsv1Text(payload), rsv1Text(deflateMessage(utf8('again')))]);
    assert.deepEqual(client.texts, ['Hello', 'again']);
  });

  it('12.2.6 "Hello" in two DEFLATE blocks (two stored blocks) in one message (RFC 7692 §7.2.3.5)', () => {
    const { client } = deflatePeers();
    client.feed(rsv1Text(hex('00 02 00 fd ff 48 65 00 03 00 fc ff 6c 6c 6f')));
    assert.deepEqual(client.texts, ['Hello']);
  });

  it('12.2.7 a compressed message ending with an empty fragment (RFC 7692 §7.2.3.6)', () => {
    const { client } = deflatePeers();
    client.feed([rsv1Text(hex('f2 48 cd c9 c9 07 00'), { fin: false }), fromServer.cont('')]);
    assert.deepEqual(client.texts, ['Hello']);
  });

  it('12.2.8 an empty message compressed as a single 00 byte, and as an empty payload (RFC 7692 §7.2.3.6)', () => {
    const { client } = deflatePeers();
    client.feed([rsv1Text(hex('00')), fromServer.binary(new Uint8Array(0), { rsv: RSV1 })]);
    assert.deepEqual(
      client.messages.map((m) => m.data.length),
      [0, 0],
    );
  });

  it('12.2.9 an uncompressed message (RSV1 clear) on a deflate connection is read as is (RFC 7692 §6)', () => {
    const { server } = deflatePeers();
    server.feed([fromClient.text('plain'), fromClient.text(deflateMessage(utf8('packed')), { rsv: RSV1 })]);
    assert.deepEqual(server.texts, ['plain', 'packed']);
  });
});

describe('12.3 where RSV1 may appear, and broken compressed data', () => {
  it('12.3.1 a fragmented compressed message has RSV1 on its first frame only (RFC 7692 §6.1)', () => {
    const { client, server } = deflatePeers({ threshold: 0 }, { threshold: 0 });
    client.protocol.send(jsonText(5000, 1), { fragmentSize: 100 });
    const frames = client.written();
    assert.ok(frames.length > 1);
    assert.equal(frames[0]!.rsv, RSV1);
    assert.ok(frames.slice(1).every((f) => f.rsv === 0 && f.opcode === OP.CONT));
    client.forward(server, 7);
    assert.deepEqual(server.texts, [jsonText(5000, 1)]);
  });

  it('12.3.2 RSV1 on a continuation frame → 1002 (RFC 7692 §6.1)', () => {
    const { server } = deflatePeers();
    const packed = deflateMessage(utf8('Hello, compressed world'));
    const frames = [
      fromClient.text(packed.subarray(0, 4), { rsv: RSV1, fin: false }),
      fromClient.cont(packed.subarray(4), { rsv: RSV1 }),
    ];
    server.feed(frames);
    assert.deepEqual(server.messages, []);
    assertFailed(server, 1002, 'ERR_UNEXPECTED_RSV');
  });

  it('12.3.3 RSV1 without negotiating permessage-deflate → 1002 (RFC 6455 §5.2, RFC 7692 §6)', () => {
    const peer = new Peer('server').feed(fromClient.text(deflateMessage(utf8('Hello')), { rsv: RSV1 }));
    assertFailed(peer, 1002, 'ERR_UNEXPECTED_RSV');
  });

  it('12.3.4 RSV1 on a control frame with deflate negotiated → 1002 (RFC 7692 §6.1: data frames only)', () => {
    const { server } = deflatePeers();
    server.feed(fromClient.ping('x', { rsv: RSV1 }));
    assertFailed(server, 1002, 'ERR_UNEXPECTED_RSV');
  });

  it('12.3.5 RSV2 or RSV3 with deflate negotiated → 1002 (RFC 6455 §5.2)', () => {
    for (const rsv of [RSV2, RSV3, RSV1 | RSV2]) {
      const { server } = deflatePeers();
      server.feed(fromClient.text(deflateMessage(utf8('x')), { rsv }));
      assertFailed(server, 1002, 'ERR_UNEXPECTED_RSV');
    }
  });

  it('12.3.6 corrupt DEFLATE data fails the connection (1007) without throwing (RFC 7692 §8)', () => {
    const { server } = deflatePeers();
    server.feed([fromClient.text(hex('ff ff ff ff 00 11 22'), { rsv: RSV1 }), fromClient.text('after')]);
    assert.deepEqual(server.messages, []);
    assertFailed(server, 1007);
  });

  it('12.3.7 compressed text that inflates to invalid UTF-8 → 1007 (RFC 6455 §8.1)', () => {
    const { server } = deflatePeers();
    server.feed(fromClient.text(deflateMessage(hex('ce ba ed a0 80 61')), { rsv: RSV1 }));
    assertFailed(server, 1007, 'ERR_INVALID_UTF8');
  });

  it('12.3.8 a compressed message fed in 1-byte chunks and 1-byte fragments (RFC 7692 §7.2.2)', () => {
    const { server } = deflatePeers();
    const text = jsonText(3000, 9);
    const frames = fromClient.fragmented(OP.TEXT, deflateMessage(utf8(text)), [1], { rsv: RSV1 });
    server.feed(frames, 1);
    assert.deepEqual(server.texts, [text]);
  });
});

describe('12.3 (continued) control frames and UTF-8 inside compressed messages', () => {
  it('12.3.9 pings between the fragments of a compressed message are answered in place (RFC 7692 §6.1, RFC 6455 §5.4)', () => {
    const { server } = deflatePeers();
    const text = jsonText(4000, 3);
    const [first, ...rest] = fromClient.fragmented(OP.TEXT, deflateMessage(utf8(text)), [50], { rsv: RSV1 });
    const frames = [
      first!,
      fromClient.ping('1'),
      ...rest.flatMap((f, i) => (i === 2 ? [fromClient.ping('2'), f] : [f])),
    ];
    server.feed(frames, 'random');
    assert.deepEqual(server.kinds, ['ping', 'ping', 'message']);
    assert.deepEqual(server.texts, [text]);
    assert.equal(server.writtenOf(OP.PONG).length, 2);
  });

  it('12.3.10 invalid UTF-8 early in a large compressed text fails before the message ends (RFC 6455 §8.1)', () => {
    const { server } = deflatePeers();
    const text = concat(utf8('ok '), hex('ed a0 80'), utf8(jsonText(200_000, 4)));
    const frames = fromClient.fragmented(OP.TEXT, deflateMessage(text), [500], { rsv: RSV1 });
    let failedAt = -1;
    frames.forEach((frame, i) => {
      server.feed(frame);
      if (failedAt < 0 && server.errors.length > 0) failedAt = i;
    });
    assertFailed(server, 1007, 'ERR_INVALID_UTF8');
    assert.ok(
      failedAt >= 0 && failedAt < frames.length - 1,
      `failed at fragment ${failedAt} of ${frames.length}`,
    );
  });
});

describe('12.4 the decompressed size limit', () => {
  const bomb = deflateMessage(new Uint8Array(8 * 1024 * 1024));

  it('12.4.1 a message inflating past maxMessageSize → 1009 (RFC 6455 §7.4.1, §10.4)', () => {
    assert.ok(bomb.length < 20_000, `zeros compress well (${bomb.length} bytes)`);
    const { server } = deflatePeers({}, {}, { maxMessageSize: 1024 * 1024 });
    server.feed(fromClient.binary(bomb, { rsv: RSV1 }));
    assertFailed(server, 1009, 'ERR_MESSAGE_TOO_BIG');
  });

  it('12.4.2 the same in fragments fails as soon as the output passes the limit (RFC 6455 §10.4)', () => {
    const { server } = deflatePeers({}, {}, { maxMessageSize: 1024 * 1024 });
    const frames = fromClient.fragmented(OP.BINARY, bomb, [256], { rsv: RSV1 });
    let failedAt = -1;
    frames.forEach((frame, i) => {
      server.feed(frame);
      if (failedAt < 0 && server.errors.length > 0) failedAt = i;
    });
    assertFailed(server, 1009, 'ERR_MESSAGE_TOO_BIG');
    // 1 MiB of output needs about an eighth of the input; failing well before the end bounds memory.
    assert.ok(
      failedAt >= 0 && failedAt < frames.length / 2,
      `failed at fragment ${failedAt} of ${frames.length}`,
    );
  });

  it('12.4.3 a message inflating to exactly maxMessageSize is accepted (RFC 6455 §10.4)', () => {
    const { server } = deflatePeers({}, {}, { maxMessageSize: 100_000 });
    server.feed(fromClient.binary(deflateMessage(new Uint8Array(100_000)), { rsv: RSV1 }));
    assert.equal(server.messages[0]?.data.length, 100_000);
    assert.deepEqual(server.errors, []);
  });

  it('12.4.4 the client role enforces the limit too (RFC 6455 §10.4)', () => {
    const { client } = deflatePeers({}, {}, { maxMessageSize: 64 * 1024 });
    client.feed(fromServer.binary(bomb, { rsv: RSV1 }));
    assertFailed(client, 1009, 'ERR_MESSAGE_TOO_BIG');
  });
});

describe('12.5 prepared (broadcast) messages with permessage-deflate', () => {
  it('12.5.1 prepared messages between ordinary ones, context takeover on, are read by the client (RFC 7692 §7.1.1)', () => {
    const { client, server, response } = deflatePeers(TAKEOVER, TAKEOVER);
    assert.equal(response.server_no_context_takeover, undefined, 'the server keeps its context');
    const first = new PreparedMessage(jsonText(4000, 1));
    const second = new PreparedMessage(utf8(jsonText(3000, 2)));
    const sequence: (string | PreparedMessage)[] = [
      jsonText(2000, 3),
      first,
      jsonText(2000, 3),
      first,
      second,
      jsonText(2500, 4),
      second,
      jsonText(1500, 5),
    ];
    for (const item of sequence) {
      if (typeof item === 'string') server.protocol.send(item);
      else server.protocol.sendPrepared(item);
    }
    server.forward(client, 'random');
    const expected = sequence.map((item) => (typeof item === 'string' ? utf8(item) : item.payload));
    assert.deepEqual(
      client.messages.map((m) => m.data),
      expected,
    );
    assert.deepEqual(client.errors, []);
    assert.ok(
      wireMessages(server.written()).every((m) => m.rsv === RSV1),
      'every message compressed',
    );
  });

  it('12.5.2 two server connections write identical bytes for one prepared message (RFC 7692 §7.2.1)', () => {
    const a = deflatePeers({ threshold: 0 }, { threshold: 0 });
    const b = deflatePeers({ threshold: 0 }, { threshold: 0 });
    const message = new PreparedMessage(jsonText(5000, 7));
    a.server.protocol.sendPrepared(message);
    b.server.protocol.sendPrepared(message);
    assert.deepEqual(concat(...a.server.writes), concat(...b.server.writes));
    assert.equal(a.server.written()[0]!.rsv, RSV1);
    a.server.forward(a.client);
    b.server.forward(b.client, 1);
    assert.deepEqual(a.client.texts, [jsonText(5000, 7)]);
    assert.deepEqual(b.client.texts, [jsonText(5000, 7)]);
  });

  it('12.5.3 prepared messages decode with a window of the negotiated size, independently (RFC 7692 §7.1.2.1)', () => {
    const options = { serverMaxWindowBits: 10, threshold: 0 };
    const { client, server } = deflatePeers(options, options);
    const repeated = randomBytes(3000, 5);
    const message = new PreparedMessage(concat(repeated, repeated, repeated));
    server.protocol.sendPrepared(message);
    server.forward(client);
    assert.deepEqual(client.messages[0]?.data, message.payload);
    const wire = wireMessages(server.written());
    if (wire[0]!.rsv === RSV1)
      assert.deepEqual(inflateMessages([wire[0]!.payload], 10, false)[0], message.payload);
  });

  it('12.5.4 a client-role sendPrepared is compressed and masked per connection (RFC 6455 §5.3)', () => {
    const { client, server } = deflatePeers({ threshold: 0 }, { threshold: 0 });
    client.protocol.sendPrepared(new PreparedMessage(jsonText(2000, 8)));
    const [frame] = client.written();
    assert.equal(frame!.masked, true);
    assert.equal(frame!.rsv, RSV1);
    client.forward(server);
    assert.deepEqual(server.texts, [jsonText(2000, 8)]);
  });
});
